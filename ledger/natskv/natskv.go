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

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/ledger"
)

// KV is the part of a jetstream.KeyValue the ledger uses, with its own
// method signatures, so a bucket handle from jetstream satisfies it.
type KV interface {
	Bucket() string
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
}

// Options configure New.
type Options struct {
	// KV is the key-value bucket; required. CreateBucket makes one.
	KV KV
	// Concurrency bounds the requests in flight for one Get or Commit.
	// Default 32.
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

// Get returns the records held for keys of bucket; keys never seen are
// absent from the map.
func (l *Ledger) Get(ctx context.Context, bucket string, keys []string) (map[string]ledger.Record, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/natskv: get from %s: %w", bucket, err)
	}
	uniq := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	var (
		mu       sync.Mutex
		out      = make(map[string]ledger.Record, len(uniq))
		firstErr error
	)
	var g errgroup.Group
	g.SetLimit(l.opts.Concurrency)
	for _, k := range uniq {
		g.Go(func() error {
			r, _, ok, err := l.read(ctx, bucket, k)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && firstErr == nil:
				firstErr = err
			case ok:
				out[k] = r
			}
			return nil
		})
	}
	_ = g.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("ledger/natskv: get from %s in %s: %w", bucket, l.opts.KV.Bucket(), firstErr)
	}
	return out, nil
}

// maxConflicts bounds the compare-and-set attempts of one record: each
// conflict means another writer committed the key meanwhile.
const maxConflicts = 100

// Commit writes every record that is newer than the one held, each with a
// compare-and-set on the entry's revision, and reports ledger.ErrStale for
// the others. A cancelled ctx, a closed ledger or an invalid record writes
// nothing. A record the store failed to write has its error in the slice,
// and the returned error is non-nil.
func (l *Ledger) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/natskv: commit: %w", err)
	}
	if err := ledger.Validate(recs); err != nil {
		return nil, fmt.Errorf("ledger/natskv: commit: %w", err)
	}
	errs := make([]error, len(recs))
	// Records of one key, in order; keys concurrently.
	byKey := map[string][]int{}
	var order []string
	for i, r := range recs {
		k := Key(r.Bucket, r.Key)
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
				errs[i] = l.commitOne(ctx, k, recs[i])
			}
			return nil
		})
	}
	_ = g.Wait()
	var failed []error
	for i, e := range errs {
		if e != nil && !errors.Is(e, ledger.ErrStale) {
			failed = append(failed, fmt.Errorf("%s/%s: %w", recs[i].Bucket, recs[i].Key, e))
		}
	}
	if len(failed) > 0 {
		return errs, fmt.Errorf("ledger/natskv: commit %d of %d records to %s failed: %w", len(failed), len(recs), l.opts.KV.Bucket(), errors.Join(failed...))
	}
	return errs, nil
}

func (l *Ledger) commitOne(ctx context.Context, k string, r ledger.Record) error {
	val, err := json.Marshal(encode(r))
	if err != nil {
		return err
	}
	for range maxConflicts {
		held, rev, ok, err := l.read(ctx, r.Bucket, r.Key)
		if err != nil {
			return err
		}
		if ok && !ledger.Newer(r, held) {
			return ledger.ErrStale
		}
		_, err = l.opts.KV.Update(ctx, k, val, rev) // rev 0: only if the key is new
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
		// Another writer got there first: compare with what it wrote.
	}
	return fmt.Errorf("gave up after %d conflicting writes", maxConflicts)
}

// read returns the record held for one object and the entry's revision.
func (l *Ledger) read(ctx context.Context, bucket, key string) (ledger.Record, uint64, bool, error) {
	e, err := l.opts.KV.Get(ctx, Key(bucket, key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ledger.Record{}, 0, false, nil
	}
	if err != nil {
		return ledger.Record{}, 0, false, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	var v value
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return ledger.Record{}, 0, false, fmt.Errorf("entry of %s/%s (revision %d) is unreadable: %w", bucket, key, e.Revision(), err)
	}
	return v.record(bucket, key), e.Revision(), true, nil
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

// value is an entry's stored form.
type value struct {
	Sequencer string    `json:"seq,omitempty"`
	ETag      string    `json:"etag,omitempty"`
	VersionID string    `json:"ver,omitempty"`
	Time      time.Time `json:"time"`
	Deleted   bool      `json:"del,omitempty"`
	Purged    string    `json:"purged,omitempty"`
}

func encode(r ledger.Record) value {
	return value{Sequencer: r.Sequencer, ETag: r.ETag, VersionID: r.VersionID, Time: r.Time.UTC(), Deleted: r.Deleted, Purged: r.Purged}
}

func (v value) record(bucket, key string) ledger.Record {
	return ledger.Record{Bucket: bucket, Key: key, Sequencer: v.Sequencer, ETag: v.ETag, VersionID: v.VersionID,
		Time: v.Time, Deleted: v.Deleted, Purged: v.Purged}
}

var _ ledger.Ledger = (*Ledger)(nil)
