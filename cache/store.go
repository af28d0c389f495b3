package cache

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// StoreOptions configure a Store. Zero fields mean their defaults.
type StoreOptions[K comparable, V any] struct {
	// MaxEntries bounds the number of entries; past it the least recently
	// used go first. Default 10,000.
	MaxEntries int
	// MaxBytes bounds the sum of Size over all entries; 0 means no byte
	// bound. It needs Size.
	MaxBytes int64
	// Size returns the bytes an entry holds, for MaxBytes. Default: 0 each.
	Size func(K, V) int64
	// TTL drops an entry this long after it was set; 0 keeps it until it is
	// evicted.
	TTL time.Duration
	// Clock tells the time, for TTL. Default: the system clock.
	Clock Clock
}

// Store is a bounded in-memory map for keyed data that outlives an
// invocation (per-user or per-session values, what a Lambda@Edge global
// would otherwise grow without limit): a maximum number of entries and of
// bytes, least recently used out first. Safe for concurrent use.
type Store[K comparable, V any] struct {
	opts StoreOptions[K, V]

	mu      sync.Mutex
	items   map[K]*node[K, V]
	head    node[K, V] // sentinel: head.next is the most recently used
	bytes   int64
	loading map[K]*storeFlight[V]
	onEvict func(K, V) // called with mu held, for each entry the bounds push out

	hits, misses, evictions int64
}

type node[K comparable, V any] struct {
	key        K
	val        V
	size       int64
	expires    time.Time
	prev, next *node[K, V]
}

type storeFlight[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// NewStore returns an empty Store.
func NewStore[K comparable, V any](opts StoreOptions[K, V]) *Store[K, V] {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 10000
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	s := &Store[K, V]{opts: opts, items: map[K]*node[K, V]{}, loading: map[K]*storeFlight[V]{}}
	s.head.next, s.head.prev = &s.head, &s.head
	return s
}

// Get returns the value for k and marks it recently used.
func (s *Store[K, V]) Get(k K) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(k)
	if n == nil {
		s.misses++
		var zero V
		return zero, false
	}
	s.hits++
	return n.val, true
}

func (s *Store[K, V]) lookup(k K) *node[K, V] {
	n, ok := s.items[k]
	if !ok {
		return nil
	}
	if !n.expires.IsZero() && !s.opts.Clock.Now().Before(n.expires) {
		s.remove(n)
		return nil
	}
	s.unlink(n)
	s.pushFront(n)
	return n
}

// Set stores v under k, evicting the least recently used entries as the
// bounds require. A value larger than MaxBytes on its own is not stored.
func (s *Store[K, V]) Set(k K, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(k, v)
}

func (s *Store[K, V]) set(k K, v V) {
	var size int64
	if s.opts.Size != nil {
		size = s.opts.Size(k, v)
	}
	if old, ok := s.items[k]; ok {
		s.remove(old)
	}
	if s.opts.MaxBytes > 0 && size > s.opts.MaxBytes {
		return
	}
	n := &node[K, V]{key: k, val: v, size: size}
	if s.opts.TTL > 0 {
		n.expires = s.opts.Clock.Now().Add(s.opts.TTL)
	}
	s.items[k] = n
	s.pushFront(n)
	s.bytes += size
	s.evict()
}

// evict removes the least recently used entries until the bounds hold.
func (s *Store[K, V]) evict() {
	for len(s.items) > s.opts.MaxEntries || (s.opts.MaxBytes > 0 && s.bytes > s.opts.MaxBytes) {
		n := s.head.prev
		s.remove(n)
		s.evictions++
		if s.onEvict != nil {
			s.onEvict(n.key, n.val)
		}
	}
}

// resize measures k's entry again, after its value changed in place, and
// evicts as the bounds require; an entry now larger than MaxBytes on its
// own goes too.
func (s *Store[K, V]) resize(k K) {
	if s.opts.Size == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items[k]
	if !ok {
		return
	}
	size := s.opts.Size(k, n.val)
	s.bytes += size - n.size
	n.size = size
	if s.opts.MaxBytes > 0 && size > s.opts.MaxBytes {
		s.remove(n)
		s.evictions++
		if s.onEvict != nil {
			s.onEvict(n.key, n.val)
		}
		return
	}
	s.evict()
}

// each calls f for every entry, most recently used first, with the store
// locked: f must not call the store.
func (s *Store[K, V]) each(f func(K, V)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := s.head.next; n != &s.head; n = n.next {
		f(n.key, n.val)
	}
}

// GetOrLoad returns the value for k, calling load to get it when it is
// missing. Concurrent callers for the same key share one load; a failed load
// stores nothing.
func (s *Store[K, V]) GetOrLoad(ctx context.Context, k K, load func(context.Context, K) (V, error)) (V, error) {
	s.mu.Lock()
	if n := s.lookup(k); n != nil {
		s.hits++
		s.mu.Unlock()
		return n.val, nil
	}
	s.misses++
	if f, ok := s.loading[k]; ok {
		s.mu.Unlock()
		select {
		case <-f.done:
			return f.val, f.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	f := &storeFlight[V]{done: make(chan struct{})}
	s.loading[k] = f
	s.mu.Unlock()

	func() {
		defer func() {
			if p := recover(); p != nil {
				f.err = &panicError{p}
			}
		}()
		f.val, f.err = load(ctx, k)
	}()

	s.mu.Lock()
	delete(s.loading, k)
	if f.err == nil {
		s.set(k, f.val)
	}
	s.mu.Unlock()
	close(f.done)
	return f.val, f.err
}

// Delete removes k.
func (s *Store[K, V]) Delete(k K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.items[k]; ok {
		s.remove(n)
	}
}

// Len returns the number of entries held.
func (s *Store[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Bytes returns the sum of the entries' sizes.
func (s *Store[K, V]) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// StoreStats count a Store's reads and evictions.
type StoreStats struct {
	Hits, Misses, Evictions int64
	Len                     int
	Bytes                   int64
}

// Stats returns the store's counters.
func (s *Store[K, V]) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StoreStats{Hits: s.hits, Misses: s.misses, Evictions: s.evictions, Len: len(s.items), Bytes: s.bytes}
}

func (s *Store[K, V]) remove(n *node[K, V]) {
	s.unlink(n)
	delete(s.items, n.key)
	s.bytes -= n.size
}

func (s *Store[K, V]) unlink(n *node[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (s *Store[K, V]) pushFront(n *node[K, V]) {
	n.prev, n.next = &s.head, s.head.next
	s.head.next.prev = n
	s.head.next = n
}

type panicError struct{ v any }

func (p *panicError) Error() string { return fmt.Sprintf("cache: load panicked: %v", p.v) }
