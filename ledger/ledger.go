// Package ledger remembers, per bucket and key, the last change offload
// applied: its sequencer, ETag, version and time. The planner reads it to
// drop stale and duplicate events and to skip puts that did not change the
// object; the pipeline commits to it only after a change's mirrors and
// purges succeeded. Implementations: ledger/bolt (embedded, the default),
// ledger/dynamo (DynamoDB, for Lambda), and Memory (tests).
package ledger

import (
	"context"
	"errors"
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

// Ledger is the store of applied changes.
//
// Get returns the records held for the given keys of one bucket; keys never
// seen are absent from the map. Commit records changes, each only if it is
// newer than what is held (Newer): a record that is not newer is left alone
// and reported in the returned slice as ErrStale, so two writers (two Lambda
// environments) can never move a key backwards. The returned slice has one
// error per record, nil for those written; the error is non-nil only when
// the store itself failed. Implementations are safe for concurrent use and
// honour ctx.
type Ledger interface {
	Get(ctx context.Context, bucket string, keys []string) (map[string]Record, error)
	Commit(ctx context.Context, recs []Record) ([]error, error)
	Close() error
}

// ErrStale is the per-record result of a Commit that found a newer or equal
// record already held.
var ErrStale = errors.New("ledger: a newer change is already recorded")

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
