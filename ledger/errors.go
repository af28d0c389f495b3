package ledger

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrClosed is returned, wrapped, by every method of a Ledger that was
// closed.
var ErrClosed = errors.New("ledger: closed")

// ErrInvalid is the per-record result, wrapped with the reason, of a
// Commit or AddReceipts given a record the store cannot hold. It is
// permanent: the same record is refused again.
var ErrInvalid = errors.New("ledger: invalid record")

// ErrNotFound is returned, wrapped, by Delete of a key that holds neither
// a record nor a receipt.
var ErrNotFound = errors.New("ledger: no record")

// MaxBucketBytes is the longest bucket name a ledger holds: S3's rule for
// the oldest buckets in us-east-1 (today's are at most 63).
const MaxBucketBytes = 255

// Check reports why no ledger can hold r, or nil: it needs a bucket name
// (CheckBucket) and a key of valid UTF-8, as S3 names them, and sequencers
// CheckSequencer accepts. Each implementation checks its own limits
// besides. The error wraps ErrInvalid.
func Check(r Record) error {
	if err := checkObject(r.Bucket, r.Key); err != nil {
		return err
	}
	if err := CheckSequencer(r.Sequencer); err != nil {
		return err
	}
	if err := CheckSequencer(r.Purged); err != nil {
		return fmt.Errorf("purged: %w", err)
	}
	return nil
}

// CheckReceipt reports why no ledger can hold rc, or nil: it needs a
// bucket and key as Check does, a change, and at least one target, none
// of them empty. The error wraps ErrInvalid.
func CheckReceipt(rc Receipt) error {
	if err := checkObject(rc.Bucket, rc.Key); err != nil {
		return err
	}
	if rc.Change == "" {
		return fmt.Errorf("%w: receipt names no change", ErrInvalid)
	}
	if len(rc.Targets) == 0 {
		return fmt.Errorf("%w: receipt names no target", ErrInvalid)
	}
	for _, t := range rc.Targets {
		if t == "" {
			return fmt.Errorf("%w: receipt names an empty target", ErrInvalid)
		}
	}
	return nil
}

// CheckBucket reports why name cannot be a bucket's, or nil: S3's names,
// old and new, are 1 to 255 of the letters, digits, '.', '-' and '_'.
// Nothing else is accepted, so that no bucket name can hold the '/' that
// joins it to a key, or look like a store's own entries. The error wraps
// ErrInvalid.
func CheckBucket(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: no bucket", ErrInvalid)
	case len(name) > MaxBucketBytes:
		return fmt.Errorf("%w: bucket name of %d bytes; S3's have at most %d", ErrInvalid, len(name), MaxBucketBytes)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("%w: bucket name %q has %q, which no S3 bucket name has", ErrInvalid, name, c)
		}
	}
	return nil
}

// CheckKey reports why no ledger can hold a record of key in bucket, or
// nil: Delete refuses what it says. The error wraps ErrInvalid.
func CheckKey(bucket, key string) error { return checkObject(bucket, key) }

func checkObject(bucket, key string) error {
	if err := CheckBucket(bucket); err != nil {
		return err
	}
	switch {
	case key == "":
		return fmt.Errorf("%w: no key", ErrInvalid)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: the key is not valid UTF-8", ErrInvalid)
	}
	return nil
}

// Invalid wraps err, the reason record i cannot be held, with its index
// and name, as every implementation reports it in Commit's slice. A key
// is cut to 100 characters: a crafted one may be long.
func Invalid(i int, bucket, key string, err error) error {
	if !errors.Is(err, ErrInvalid) {
		err = fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return fmt.Errorf("record %d (%s/%.100q): %w", i, bucket, key, err)
}
