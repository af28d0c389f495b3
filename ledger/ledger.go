// Package ledger remembers, per bucket and key, the last change offload
// applied: its sequencer, ETag, version and time. The planner reads it to
// drop stale and duplicate events and to skip puts that did not change the
// object; the pipeline commits to it only after a change's mirrors and
// purges succeeded. Beside the records it keeps receipts, the targets a
// change that failed elsewhere was already purged at, so that its next
// delivery purges only the others; and an operator can reset one key
// (Delete). Implementations: ledger/bolt (embedded, the default),
// ledger/dynamo (DynamoDB, for Lambda), ledger/natskv (a NATS key-value
// bucket, for serve replicas), and Memory (tests); ledger/ledgertest is the
// contract they pass.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Record is what the ledger holds for one object.
type Record struct {
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	Sequencer string    `json:"sequencer,omitempty"` // S3's sequencer as it came; compare with CompareSequencer
	ETag      string    `json:"etag,omitempty"`
	VersionID string    `json:"version_id,omitempty"`
	Time      time.Time `json:"time"`              // the event's time
	Deleted   bool      `json:"deleted,omitempty"` // the last change was a remove
	// Purged is the sequencer of the last change the CDN was purged for.
	// It trails Sequencer when later changes were skipped as unchanged, so
	// a change that arrives late but after that purge is still purged.
	Purged string `json:"purged,omitempty"`
}

// Ledger is the store of applied changes. Every implementation passes
// ledger/ledgertest, which is the contract in executable form; what follows
// is the same contract in words.
//
// Get returns the records held for the given keys of one bucket; keys never
// seen are absent from the map.
//
// Commit records changes, each only if it is newer than what is held
// (Newer): a record that is not newer is left alone and reported in the
// returned slice as ErrStale, so two writers (two Lambda environments) can
// never move a key backwards. The returned slice has one error per record,
// nil for those written. A record the store cannot hold (Check fails, or it
// is outside the store's own limits, such as bbolt's 32,768-byte keys) gets
// an error wrapping ErrInvalid, naming it by its index, and the records
// beside it are written all the same: one bad record never fails its
// neighbours. ErrInvalid is permanent; committing the record again fails
// again. The returned error is non-nil only when the store itself failed
// (and then the slice may be nil); a cancelled ctx or a closed ledger fails
// the whole Commit and writes nothing. Writing a key's record clears the
// key's receipt.
//
// Receipts and AddReceipts keep the progress of a change that failed
// after it was purged at some of its targets (Receipt): at most one
// receipt per key, for one change. AddReceipts adds each receipt's targets
// to the one held for its key when both are for the same change, and
// otherwise replaces it; it returns one error per receipt like Commit
// (ErrInvalid for one it cannot hold). Receipts never touch records: a
// receipt does not make a key seen for Get, and neither Newer nor ErrStale
// looks at them.
//
// Delete removes a key's record and its receipt, so that the key is as if
// never seen: an operator's reset of a record that must not stand (a
// crafted sequencer that would make every real change look stale). It
// returns an error wrapping ErrNotFound when the key holds neither.
//
// Implementations are safe for concurrent use and honour ctx.
type Ledger interface {
	Get(ctx context.Context, bucket string, keys []string) (map[string]Record, error)
	Commit(ctx context.Context, recs []Record) ([]error, error)
	Receipts(ctx context.Context, bucket string, keys []string) (map[string]Receipt, error)
	AddReceipts(ctx context.Context, rs []Receipt) ([]error, error)
	Delete(ctx context.Context, bucket, key string) error
	Close() error
}

// Receipt records the purge targets a change was already purged at, when
// it failed at another target (or its commit failed) and will be
// delivered again: the planner leaves those targets out for that change,
// so a redelivery purges only what has not succeeded. A receipt is for one
// change, named by Change (the planner's plan.ChangeID); the ledger
// compares it for equality only. Receipts are bounded: one per key, with
// at most the targets the configuration names, and cleared when the key's
// record is committed or deleted.
type Receipt struct {
	Bucket  string   `json:"bucket"`
	Key     string   `json:"key"`
	Change  string   `json:"change"`
	Targets []string `json:"targets"` // sorted, without duplicates
}

// MergeReceipt returns what a key holds once rc is added to held, the
// receipt it held (the zero Receipt for none): the union of their targets,
// sorted, when both are for the same change; else rc, its targets sorted.
func MergeReceipt(held, rc Receipt) Receipt {
	targets := slices.Clone(rc.Targets)
	if held.Change == rc.Change {
		targets = append(targets, held.Targets...)
	}
	slices.Sort(targets)
	rc.Targets = slices.Compact(targets)
	return rc
}

// ErrStale is the per-record result of a Commit that found a newer or equal
// record already held.
var ErrStale = errors.New("ledger: a newer change is already recorded")

// MaxSequencerDigits is the longest sequencer a ledger holds. S3's are 16
// to 20 hex digits; 32 leaves room for growth and is what PadSequencer
// pads to, so that stores that compare strings (DynamoDB) order every
// sequencer they hold as a number.
const MaxSequencerDigits = 32

// CheckSequencer reports what is wrong with a sequencer, or nil: it must
// be hexadecimal digits, at most MaxSequencerDigits of them. "" (none) is
// fine. The error wraps ErrInvalid.
func CheckSequencer(s string) error {
	if len(s) > MaxSequencerDigits {
		return fmt.Errorf("%w: sequencer of %d digits; S3's have about 20, and at most %d are accepted", ErrInvalid, len(s), MaxSequencerDigits)
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return fmt.Errorf("%w: sequencer %q is not hexadecimal", ErrInvalid, s)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// CompareSequencer compares two S3 sequencers: hexadecimal strings of
// varying length, compared as numbers after left-padding to equal length.
// It returns -1, 0 or +1.
func CompareSequencer(a, b string) int {
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	if n := len(b) - len(a); n > 0 {
		a = strings.Repeat("0", n) + a
	} else if n < 0 {
		b = strings.Repeat("0", -n) + b
	}
	return strings.Compare(a, b)
}

// PadSequencer left-pads a sequencer to 32 hex digits, upper case, so that
// stores that compare strings (DynamoDB condition expressions, bolt keys)
// order sequencers as numbers. Leading zeros past 32 digits are dropped, so
// "00…0FF" of 40 digits pads like "FF"; a sequencer of more than 32
// significant digits is returned as it is, and only orders correctly
// against others of its length (S3's have about 18).
func PadSequencer(s string) string {
	s = strings.ToUpper(s)
	if len(s) > 32 {
		s = strings.TrimLeft(s, "0")
		if s == "" {
			s = "0"
		}
	}
	if len(s) >= 32 {
		return s
	}
	return strings.Repeat("0", 32-len(s)) + s
}

// Newer reports whether r is a later state than held: by sequencer when
// both have one, else by event time; at the same change, a record that was
// purged later is newer. S3 gives sequencers only for comparing changes to
// the same key, which is all a ledger does.
func Newer(r, held Record) bool {
	if r.Sequencer != "" && held.Sequencer != "" {
		if c := CompareSequencer(r.Sequencer, held.Sequencer); c != 0 {
			return c > 0
		}
	} else if !r.Time.Equal(held.Time) {
		return r.Time.After(held.Time)
	}
	return r.Purged != "" && CompareSequencer(r.Purged, held.Purged) > 0
}
