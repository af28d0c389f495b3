package ledger

import (
	"context"
	"fmt"
	"sync"
)

// Memory is a Ledger held in a map: for tests, dry runs and the "memory"
// state driver. It forgets everything when the process ends. The zero
// value is an empty ledger, ready to use; it is safe for concurrent use.
type Memory struct {
	mu     sync.RWMutex
	recs   map[string]map[string]Record // bucket → key → record
	marks  map[string]string            // checkpoints, by name
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
// and reports ErrStale for the others. It fails as a whole, writing
// nothing, when ctx is done, the ledger is closed or a record has no
// bucket or key.
func (m *Memory) Commit(ctx context.Context, recs []Record) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ledger: memory: commit: %w", err)
	}
	if err := Validate(recs); err != nil {
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
	}
	return errs, nil
}

// Close empties the ledger; later calls fail with ErrClosed. Closing twice
// is not an error.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.recs, m.marks = nil, nil
	return nil
}

var _ Ledger = (*Memory)(nil)
