package ledger

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Memory is a Ledger held in a map: for tests, dry runs and the "memory"
// state driver. It forgets everything when the process ends. The zero
// value is an empty ledger, ready to use; it is safe for concurrent use.
type Memory struct {
	mu     sync.RWMutex
	recs   map[string]map[string]Record  // bucket → key → record
	rcpts  map[string]map[string]Receipt // bucket → key → receipt
	marks  map[string]string             // checkpoints, by name
	closed bool
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{} }

// Get returns the records held for keys of bucket; keys never seen are
// absent from the map.
func (m *Memory) Get(ctx context.Context, bucket string, keys []string) (map[string]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ledger: memory: get from %s: %w", bucket, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("ledger: memory: get from %s: %w", bucket, ErrClosed)
	}
	// Sized for what is held, not for keys: a plan of 100,000 new objects
	// asks for 100,000 keys and finds none.
	out := make(map[string]Record, min(len(keys), len(m.recs[bucket])))
	held := m.recs[bucket]
	for _, k := range keys {
		if r, ok := held[k]; ok {
			out[k] = r
		}
	}
	return out, nil
}

// Commit records each of recs that is Newer than what is held, in order,
// and reports ErrStale for the others and ErrInvalid for those Check
// refuses. It fails as a whole, writing nothing, when ctx is done or the
// ledger is closed.
func (m *Memory) Commit(ctx context.Context, recs []Record) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ledger: memory: commit: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("ledger: memory: commit: %w", ErrClosed)
	}
	if m.recs == nil {
		m.recs = make(map[string]map[string]Record)
	}
	errs := make([]error, len(recs))
	for i, r := range recs {
		if err := Check(r); err != nil {
			errs[i] = Invalid(i, r.Bucket, r.Key, err)
			continue
		}
		held := m.recs[r.Bucket]
		if held == nil {
			held = make(map[string]Record)
			m.recs[r.Bucket] = held
		}
		if old, ok := held[r.Key]; ok && !Newer(r, old) {
			errs[i] = ErrStale
			continue
		}
		r.Time = r.Time.Round(0) // drop the monotonic reading, as a store would
		held[r.Key] = r
		delete(m.rcpts[r.Bucket], r.Key)
	}
	return errs, nil
}

// Receipts returns the receipts held for keys of bucket.
func (m *Memory) Receipts(ctx context.Context, bucket string, keys []string) (map[string]Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ledger: memory: receipts from %s: %w", bucket, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("ledger: memory: receipts from %s: %w", bucket, ErrClosed)
	}
	out := make(map[string]Receipt, len(keys))
	held := m.rcpts[bucket]
	for _, k := range keys {
		if rc, ok := held[k]; ok {
			rc.Targets = slices.Clone(rc.Targets)
			out[k] = rc
		}
	}
	return out, nil
}

// AddReceipts adds each receipt to its key's (MergeReceipt), and reports
// ErrInvalid for those CheckReceipt refuses.
func (m *Memory) AddReceipts(ctx context.Context, rs []Receipt) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ledger: memory: add receipts: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("ledger: memory: add receipts: %w", ErrClosed)
	}
	if m.rcpts == nil {
		m.rcpts = make(map[string]map[string]Receipt)
	}
	errs := make([]error, len(rs))
	for i, rc := range rs {
		if err := CheckReceipt(rc); err != nil {
			errs[i] = Invalid(i, rc.Bucket, rc.Key, err)
			continue
		}
		held := m.rcpts[rc.Bucket]
		if held == nil {
			held = make(map[string]Receipt)
			m.rcpts[rc.Bucket] = held
		}
		held[rc.Key] = MergeReceipt(held[rc.Key], rc)
	}
	return errs, nil
}

// Delete removes the key's record and receipt.
func (m *Memory) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ledger: memory: delete %s/%.100q: %w", bucket, key, err)
	}
	if err := CheckKey(bucket, key); err != nil {
		return fmt.Errorf("ledger: memory: delete %s/%.100q: %w", bucket, key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("ledger: memory: delete %s/%.100q: %w", bucket, key, ErrClosed)
	}
	_, rec := m.recs[bucket][key]
	_, rc := m.rcpts[bucket][key]
	if !rec && !rc {
		return fmt.Errorf("ledger: memory: delete %s/%.100q: %w", bucket, key, ErrNotFound)
	}
	delete(m.recs[bucket], key)
	delete(m.rcpts[bucket], key)
	return nil
}

// Close empties the ledger; later calls fail with ErrClosed. Closing twice
// is not an error.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.recs, m.rcpts, m.marks = nil, nil, nil
	return nil
}

var _ Ledger = (*Memory)(nil)
