package bolt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/offload-dev/offload/ledger"
)

// RootBucket is the top-level bbolt bucket that holds the ledger.
const RootBucket = "ledger"

// ErrLocked is returned, wrapped, by New when another process holds the
// file's lock for longer than Options.Timeout.
var ErrLocked = errors.New("the file is locked by another process")

// Options configure New. A zero field means its default; one of Path and
// DB is required.
type Options struct {
	// Path is the bbolt file to open, created if needed. The Ledger owns
	// it: Close closes the file. Default "": DB is used.
	Path string
	// DB is a database already open, for a file shared with other buckets
	// (serve's inbox keeps its own beside the ledger's). Close does not
	// close it: its opener does. Default nil: Path is opened.
	DB *bbolt.DB

	// Timeout is how long New waits for the file lock held by another
	// process before it fails with ErrLocked; for Path only. Default 1s;
	// bbolt checks the lock every 50ms.
	Timeout time.Duration
	// Mode is the permission of the file if New creates it; for Path only.
	// Default 0600.
	Mode os.FileMode
	// NoSync skips the fsync after each Commit: faster, and a crash can lose
	// the last Commits (never corrupt the file). For tests and benchmarks;
	// for Path only. Default false.
	NoSync bool
}

// Ledger is a ledger.Ledger in a bbolt file. It is safe for concurrent use.
type Ledger struct {
	db     *bbolt.DB
	owned  bool // Close closes db
	closed atomic.Bool
}

// New returns a Ledger in the file at opts.Path, or over the open
// opts.DB, after applying optFns to a copy of opts. It creates RootBucket
// if the database is writable.
func New(opts Options, optFns ...func(*Options)) (*Ledger, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	switch {
	case opts.Path == "" && opts.DB == nil:
		return nil, errors.New("ledger/bolt: Options.Path or Options.DB is required")
	case opts.Path != "" && opts.DB != nil:
		return nil, fmt.Errorf("ledger/bolt: Options.Path %q and Options.DB: want one of them", opts.Path)
	case opts.Timeout < 0:
		return nil, fmt.Errorf("ledger/bolt: Options.Timeout %s is negative", opts.Timeout)
	}
	if opts.DB != nil {
		return over(opts.DB)
	}
	opts.Timeout = cmp.Or(opts.Timeout, time.Second)
	opts.Mode = cmp.Or(opts.Mode, 0o600)
	db, err := bbolt.Open(opts.Path, opts.Mode, &bbolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("ledger/bolt: open %s: %w (gave up after %s; is another offload running?)", opts.Path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger/bolt: open %s: %w", opts.Path, err)
	}
	l, err := over(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	l.owned = true
	return l, nil
}

// over returns a Ledger over db, creating RootBucket in it if db is
// writable.
func over(db *bbolt.DB) (*Ledger, error) {
	if !db.IsReadOnly() {
		err := db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists([]byte(RootBucket))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("ledger/bolt: create bucket %q in %s: %w", RootBucket, db.Path(), err)
		}
	}
	return &Ledger{db: db}, nil
}

// DB returns the database, for other buckets in the same file.
func (l *Ledger) DB() *bbolt.DB { return l.db }

// Get returns the records held for keys of bucket, read in one transaction;
// keys never seen are absent from the map.
func (l *Ledger) Get(ctx context.Context, bucket string, keys []string) (map[string]ledger.Record, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/bolt: get from %s: %w", bucket, err)
	}
	out := make(map[string]ledger.Record, len(keys))
	err := l.db.View(func(tx *bbolt.Tx) error {
		b := l.bucket(tx, bucket)
		if b == nil {
			return nil
		}
		for i, k := range keys {
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			v := b.Get([]byte(k))
			if v == nil {
				continue
			}
			r, err := decode(bucket, k, v)
			if err != nil {
				return err
			}
			out[k] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger/bolt: get from %s in %s: %w", bucket, l.db.Path(), err)
	}
	return out, nil
}

// Commit writes every record that is newer than the one held, in one
// transaction, and clears the receipt of each key it writes. It reports
// ErrStale for the records not newer, and ErrInvalid for those
// ledger.Check refuses or bbolt cannot hold (a key over bbolt.MaxKeySize
// bytes); the others are written. On an error nothing is written: a
// cancelled ctx, a closed ledger or a failed transaction.
func (l *Ledger) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/bolt: commit: %w", err)
	}
	errs := make([]error, len(recs))
	values := make([][]byte, len(recs))
	valid := 0
	for i, r := range recs {
		if err := checkKey(r.Key, ledger.Check(r)); err != nil {
			errs[i] = ledger.Invalid(i, r.Bucket, r.Key, err)
			continue
		}
		values[i] = encode(r)
		valid++
	}
	if valid == 0 {
		return errs, nil
	}
	err := l.db.Update(func(tx *bbolt.Tx) error {
		// The write lock may have taken a while.
		if err := ctx.Err(); err != nil {
			return err
		}
		root := tx.Bucket([]byte(RootBucket))
		if root == nil {
			return fmt.Errorf("bucket %q is missing", RootBucket)
		}
		receipts := tx.Bucket([]byte(ReceiptBucket))
		buckets := make(map[string]*bbolt.Bucket)
		for i, r := range recs {
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if values[i] == nil {
				continue
			}
			errs[i] = nil // a retried transaction starts over
			b := buckets[r.Bucket]
			if b == nil {
				var err error
				if b, err = root.CreateBucketIfNotExists([]byte(r.Bucket)); err != nil {
					return fmt.Errorf("create bucket for %s: %w", r.Bucket, err)
				}
				buckets[r.Bucket] = b
			}
			k := []byte(r.Key)
			if v := b.Get(k); v != nil {
				held, err := decode(r.Bucket, r.Key, v)
				if err != nil {
					return err
				}
				if !ledger.Newer(r, held) {
					errs[i] = ledger.ErrStale
					continue
				}
			}
			if err := b.Put(k, values[i]); err != nil {
				return fmt.Errorf("put %s/%.100q: %w", r.Bucket, r.Key, err)
			}
			if rb := nested(receipts, r.Bucket); rb != nil {
				if err := rb.Delete(k); err != nil {
					return fmt.Errorf("clear the receipt of %s/%.100q: %w", r.Bucket, r.Key, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger/bolt: commit %d records to %s: %w", valid, l.db.Path(), err)
	}
	return errs, nil
}

// checkKey adds bbolt's limit to err, ledger.Check's verdict.
func checkKey(key string, err error) error {
	if err == nil && len(key) > bbolt.MaxKeySize {
		err = fmt.Errorf("%w: key of %d bytes; bbolt holds at most %d", ledger.ErrInvalid, len(key), bbolt.MaxKeySize)
	}
	return err
}

// Delete removes the key's record and receipt, in one transaction.
func (l *Ledger) Delete(ctx context.Context, bucket, key string) error {
	if err := l.usable(ctx); err != nil {
		return fmt.Errorf("ledger/bolt: delete %s/%.100q: %w", bucket, key, err)
	}
	if err := ledger.CheckKey(bucket, key); err != nil {
		return fmt.Errorf("ledger/bolt: delete %s/%.100q: %w", bucket, key, err)
	}
	found := false
	err := l.db.Update(func(tx *bbolt.Tx) error {
		for _, top := range []string{RootBucket, ReceiptBucket} {
			b := nested(tx.Bucket([]byte(top)), bucket)
			if b == nil || len(key) > bbolt.MaxKeySize || b.Get([]byte(key)) == nil {
				continue
			}
			found = true
			if err := b.Delete([]byte(key)); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("ledger/bolt: delete %s/%.100q in %s: %w", bucket, key, l.db.Path(), err)
	case !found:
		return fmt.Errorf("ledger/bolt: delete %s/%.100q: %w", bucket, key, ledger.ErrNotFound)
	}
	return nil
}

// Close closes the file if New opened it (Options.Path); later calls fail with
// ledger.ErrClosed. Closing twice is not an error.
func (l *Ledger) Close() error {
	if l.closed.Swap(true) || !l.owned {
		return nil
	}
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("ledger/bolt: close %s: %w", l.db.Path(), err)
	}
	return nil
}

func (l *Ledger) usable(ctx context.Context) error {
	if l.closed.Load() {
		return ledger.ErrClosed
	}
	return ctx.Err()
}

func (l *Ledger) bucket(tx *bbolt.Tx, bucket string) *bbolt.Bucket {
	return nested(tx.Bucket([]byte(RootBucket)), bucket)
}

// nested returns the bucket named name inside top, or nil.
func nested(top *bbolt.Bucket, name string) *bbolt.Bucket {
	if top == nil || name == "" {
		return nil
	}
	return top.Bucket([]byte(name))
}

var _ ledger.Ledger = (*Ledger)(nil)
