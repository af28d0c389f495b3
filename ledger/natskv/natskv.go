package natskv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/ledger"
)

// KV is the part of a jetstream.KeyValue the ledger uses, with its own
// method signatures, so a bucket handle from jetstream satisfies it.
type KV interface {
	Bucket() string
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error)
	Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
}

// Options configure New.
type Options struct {
	// KV is the key-value bucket; required. CreateBucket makes one.
	KV KV
	// Concurrency bounds the requests in flight for one Get, Commit,
	// Receipts or AddReceipts. Default 32.
	Concurrency int
}

// Ledger is a ledger.Ledger in a NATS key-value bucket. It is safe for
// concurrent use, and several Ledgers, in several processes, may share a
// bucket.
type Ledger struct {
	opts   Options
	closed atomic.Bool
}

// New returns a Ledger over opts.KV. The caller keeps the connection and
// closes it after the Ledger.
func New(opts Options, optFns ...func(*Options)) (*Ledger, error) {
	for _, f := range optFns {
		f(&opts)
	}
	if opts.KV == nil {
		return nil, errors.New("ledger/natskv: Options.KV is required")
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("ledger/natskv: Options.Concurrency is %d; want 0 (the default, 32) or more", opts.Concurrency)
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 32
	}
	return &Ledger{opts: opts}, nil
}

// BucketConfig is the configuration CreateBucket gives a new bucket:
// history 1 (only the newest record of an object is kept), file storage,
// and replicas copies in a cluster (0 or 1: one).
func BucketConfig(name string, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      name,
		Description: "offload ledger: the last change applied to each object",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

// KeyValueAPI is the part of a jetstream.JetStream CreateBucket uses.
type KeyValueAPI interface {
	KeyValue(ctx context.Context, bucket string) (jetstream.KeyValue, error)
	CreateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error)
}

// CreateBucket returns the bucket name, making it with BucketConfig if it
// does not exist. An existing bucket is used as it is.
func CreateBucket(ctx context.Context, js KeyValueAPI, name string, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, name)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("ledger/natskv: bucket %s: %w", name, err)
	}
	kv, err = js.CreateKeyValue(ctx, BucketConfig(name, replicas))
	if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		kv, err = js.KeyValue(ctx, name) // another replica made it first
	}
	if err != nil {
		return nil, fmt.Errorf("ledger/natskv: create bucket %s: %w", name, err)
	}
	return kv, nil
}

var b64 = base64.RawURLEncoding

// Key returns the key-value key of an object: bucket and key, each in
// unpadded base64url, joined by a dot.
func Key(bucket, key string) string {
	return b64.EncodeToString([]byte(bucket)) + "." + b64.EncodeToString([]byte(key))
}

// MaxKeyLen is the longest key-value key the ledger writes (Key's
// length). NATS sends a key inside the protocol line of each request,
// which a server refuses past 4,096 bytes by closing the connection, so a
// longer key is refused as ledger.ErrInvalid before it is sent. S3's
// longest names, a bucket of 255 bytes and a key of 1,024, make a key of
// 1,707.
const MaxKeyLen = 2048

// checkEntryKey reports why the ledger can hold no entry for key of
// bucket, or nil. The error wraps ledger.ErrInvalid.
func checkEntryKey(bucket, key string) error {
	if err := ledger.CheckKey(bucket, key); err != nil {
		return err
	}
	if n := b64.EncodedLen(len(bucket)) + 1 + b64.EncodedLen(len(key)); n > MaxKeyLen {
		return fmt.Errorf("%w: bucket and key make a key-value key of %d characters; at most %d are sent", ledger.ErrInvalid, n, MaxKeyLen)
	}
	return nil
}

// checkStrings refuses strings that are not valid UTF-8: JSON would
// replace their bytes, and the store would give back what it was not given.
func checkStrings(strs ...string) error {
	for _, s := range strs {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %.100q is not valid UTF-8", ledger.ErrInvalid, s)
		}
	}
	return nil
}

// Get returns the records held for keys of bucket; keys never seen, and
// keys no entry can be for, are absent from the map.
func (l *Ledger) Get(ctx context.Context, bucket string, keys []string) (map[string]ledger.Record, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/natskv: get from %s: %w", bucket, err)
	}
	out := make(map[string]ledger.Record)
	err := l.readAll(ctx, bucket, keys, func(k string, v value) {
		if !v.NoRecord {
			out[k] = v.record(bucket, k)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("ledger/natskv: get from %s in %s: %w", bucket, l.opts.KV.Bucket(), err)
	}
	return out, nil
}

// readAll reads the entries of keys of bucket, Options.Concurrency at a
// time, and calls found, one call at a time, for each entry held. Keys
// repeated are read once; keys no entry can be for are not read.
func (l *Ledger) readAll(ctx context.Context, bucket string, keys []string, found func(key string, v value)) error {
	var (
		mu       sync.Mutex
		firstErr error
	)
	var g errgroup.Group
	g.SetLimit(l.opts.Concurrency)
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] || checkEntryKey(bucket, k) != nil {
			continue
		}
		seen[k] = true
		g.Go(func() error {
			v, _, ok, err := l.read(ctx, bucket, k)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && firstErr == nil:
				firstErr = err
			case err == nil && ok:
				found(k, v)
			}
			return nil
		})
	}
	_ = g.Wait()
	return firstErr
}

// maxConflicts bounds the compare-and-set attempts of one write: each
// conflict means another writer changed the entry meanwhile.
const maxConflicts = 100

// Commit writes every record that is newer than the one held, each with a
// compare-and-set on its entry's revision, and clears the receipt in that
// entry with the same write. It reports ledger.ErrStale for the records
// not newer, and ledger.ErrInvalid for those ledger.Check refuses or the
// store cannot hold (a key-value key over MaxKeyLen, an ETag or version ID
// not valid UTF-8, a time JSON cannot write); the others are written. A
// cancelled ctx or a closed ledger writes nothing. A record the store
// failed to write has its error in the slice, and the returned error is
// non-nil.
func (l *Ledger) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/natskv: commit: %w", err)
	}
	errs := make([]error, len(recs))
	for i, r := range recs {
		if err := checkRecord(r); err != nil {
			errs[i] = ledger.Invalid(i, r.Bucket, r.Key, err)
		}
	}
	failed := l.each(len(recs), errs, func(i int) (string, string) { return recs[i].Bucket, recs[i].Key }, func(i int) error {
		r := recs[i]
		return l.update(ctx, r.Bucket, r.Key, func(v *value, ok bool) (bool, error) {
			if ok && !v.NoRecord && !ledger.Newer(r, v.record(r.Bucket, r.Key)) {
				return false, ledger.ErrStale
			}
			*v = encode(r) // and no receipt
			return true, nil
		})
	})
	if len(failed) > 0 {
		return errs, fmt.Errorf("ledger/natskv: commit %d of %d records to %s failed: %w", len(failed), len(recs), l.opts.KV.Bucket(), errors.Join(failed...))
	}
	return errs, nil
}

func checkRecord(r ledger.Record) error {
	if err := ledger.Check(r); err != nil {
		return err
	}
	if err := checkEntryKey(r.Bucket, r.Key); err != nil {
		return err
	}
	if err := checkStrings(r.ETag, r.VersionID); err != nil {
		return err
	}
	if _, err := r.Time.UTC().MarshalJSON(); err != nil {
		return fmt.Errorf("%w: %w", ledger.ErrInvalid, err)
	}
	return nil
}

// each runs write(i) for every i whose errs[i] is nil, in order for the
// items of one key (named by name(i)) and concurrently for different
// keys, and puts each result in errs[i]. It returns the failures of the
// store, named: not ErrStale, not ErrInvalid.
func (l *Ledger) each(n int, errs []error, name func(i int) (bucket, key string), write func(i int) error) []error {
	byKey := map[string][]int{}
	var order []string
	for i := range n {
		if errs[i] != nil {
			continue
		}
		k := Key(name(i))
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	var g errgroup.Group
	g.SetLimit(l.opts.Concurrency)
	for _, k := range order {
		g.Go(func() error {
			for _, i := range byKey[k] {
				errs[i] = write(i)
			}
			return nil
		})
	}
	_ = g.Wait()
	var failed []error
	for i, e := range errs {
		if e != nil && !errors.Is(e, ledger.ErrStale) && !errors.Is(e, ledger.ErrInvalid) {
			b, k := name(i)
			failed = append(failed, fmt.Errorf("%s/%.100q: %w", b, k, e))
		}
	}
	return failed
}

// update changes the entry of key of bucket with change, which is given
// the value held (ok false for none) and reports whether to write it, and
// writes it with a compare-and-set: an Update at the revision read, or a
// Create where no entry is held (which writes at the revision of the
// key's delete marker, if it has one, a revision Get does not tell). When
// another writer got there first, it reads the entry again and asks
// change again.
func (l *Ledger) update(ctx context.Context, bucket, key string, change func(v *value, ok bool) (bool, error)) error {
	k := Key(bucket, key)
	for range maxConflicts {
		v, rev, ok, err := l.read(ctx, bucket, key)
		if err != nil {
			return err
		}
		if write, err := change(&v, ok); !write || err != nil {
			return err
		}
		val, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if ok {
			_, err = l.opts.KV.Update(ctx, k, val, rev)
		} else {
			_, err = l.opts.KV.Create(ctx, k, val)
		}
		if !conflict(err) {
			return err
		}
	}
	return fmt.Errorf("gave up after %d conflicting writes", maxConflicts)
}

// conflict reports whether err is a compare-and-set that lost: the
// server's "wrong last sequence", 10071, or 10164 from a replicated
// bucket, which nats.go does not always wrap.
func conflict(err error) bool {
	var ae *jetstream.APIError
	if errors.As(err, &ae) && (ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// read returns the value held for one object and the entry's revision; ok
// is false when there is none (never written, or deleted).
func (l *Ledger) read(ctx context.Context, bucket, key string) (value, uint64, bool, error) {
	e, err := l.opts.KV.Get(ctx, Key(bucket, key))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return value{}, 0, false, nil
	case err != nil:
		return value{}, 0, false, fmt.Errorf("get %s/%.100q: %w", bucket, key, err)
	}
	var v value
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return value{}, 0, false, fmt.Errorf("entry of %s/%.100q (revision %d) is unreadable: %w", bucket, key, e.Revision(), err)
	}
	return v, e.Revision(), true, nil
}

// Delete removes the key's entry, its record and its receipt, with a
// delete marker.
func (l *Ledger) Delete(ctx context.Context, bucket, key string) error {
	what := fmt.Sprintf("ledger/natskv: delete %s/%.100q from %s", bucket, key, l.opts.KV.Bucket())
	if err := l.usable(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := ledger.CheckKey(bucket, key); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if checkEntryKey(bucket, key) != nil {
		return fmt.Errorf("%s: %w", what, ledger.ErrNotFound) // never held
	}
	_, _, ok, err := l.read(ctx, bucket, key)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case !ok:
		return fmt.Errorf("%s: %w", what, ledger.ErrNotFound)
	}
	if err := l.opts.KV.Delete(ctx, Key(bucket, key)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Close marks the ledger closed; later calls fail with ledger.ErrClosed.
// The connection stays open: its owner closes it. Closing twice is not an
// error.
func (l *Ledger) Close() error {
	l.closed.Store(true)
	return nil
}

func (l *Ledger) usable(ctx context.Context) error {
	if l.closed.Load() {
		return ledger.ErrClosed
	}
	return ctx.Err()
}

// value is an entry's stored form: a record, its key's receipt, or both.
type value struct {
	Sequencer string    `json:"seq,omitempty"`
	ETag      string    `json:"etag,omitempty"`
	VersionID string    `json:"ver,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	Deleted   bool      `json:"del,omitempty"`
	Purged    string    `json:"purged,omitempty"`
	// NoRecord marks an entry that holds a receipt alone: a change that
	// failed before its key was ever committed. Get skips it.
	NoRecord bool     `json:"norec,omitempty"`
	Receipt  *receipt `json:"rc,omitempty"`
}

type receipt struct {
	Change  string   `json:"change"`
	Targets []string `json:"targets"`
}

func encode(r ledger.Record) value {
	return value{Sequencer: r.Sequencer, ETag: r.ETag, VersionID: r.VersionID, Time: r.Time.UTC(), Deleted: r.Deleted, Purged: r.Purged}
}

func (v value) record(bucket, key string) ledger.Record {
	return ledger.Record{Bucket: bucket, Key: key, Sequencer: v.Sequencer, ETag: v.ETag, VersionID: v.VersionID,
		Time: v.Time, Deleted: v.Deleted, Purged: v.Purged}
}

var _ ledger.Ledger = (*Ledger)(nil)
