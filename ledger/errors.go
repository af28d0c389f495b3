package ledger

import (
	"errors"
	"fmt"
)

// ErrClosed is returned, wrapped, by Get and Commit on a Ledger that was
// closed.
var ErrClosed = errors.New("ledger: closed")

// ErrInvalid is returned, wrapped, by a Commit given a record it cannot
// hold; such a Commit writes nothing.
var ErrInvalid = errors.New("ledger: invalid record")

// Validate checks that every record names a bucket and a key, which every
// implementation needs before it writes anything. The error names the first
// bad record by its index.
func Validate(recs []Record) error {
	for i, r := range recs {
		switch {
		case r.Bucket == "":
			return fmt.Errorf("%w: record %d (key %q) has no bucket", ErrInvalid, i, r.Key)
		case r.Key == "":
			return fmt.Errorf("%w: record %d (bucket %q) has no key", ErrInvalid, i, r.Bucket)
		}
	}
	return nil
}
