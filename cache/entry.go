package cache

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one cached value of type T. Get it from Add. Its methods are safe
// for concurrent use.
type Entry[T any] struct {
	e *entry
}

// EntryOption sets an option of one entry.
type EntryOption func(*entryOptions)

type entryOptions struct {
	maxAge    time.Duration
	hasMaxAge bool
	name      string
}

// MaxAge sets how long the entry's value is served before it is fetched
// again. MaxAge(0) fetches on every Get (concurrent callers share the fetch),
// as lambda-cache's max_age_in_seconds=0 does.
func MaxAge(d time.Duration) EntryOption {
	return func(o *entryOptions) { o.maxAge, o.hasMaxAge = max(d, 0), true }
}

// Name sets the short name a handler reads the entry by (Lookup); the
// default is the last segment of the full name. It does not change the key:
// entries are cached by source and full name.
func Name(name string) EntryOption {
	return func(o *entryOptions) { o.name = name }
}

// Add registers an entry for s in c and returns it. Nothing is fetched until
// the entry is first read, loaded or warmed.
func Add[T any](c *Cache, s Spec[T], opts ...EntryOption) *Entry[T] {
	var o entryOptions
	for _, opt := range opts {
		opt(&o)
	}
	maxAge := c.opts.MaxAge
	if o.hasMaxAge {
		maxAge = o.maxAge
	}
	name := o.name
	if name == "" {
		name = s.Name
	}
	if name == "" {
		name = LastSegment(s.Key.Name)
	}
	e := &entry{c: c, key: s.Key, name: name, maxAge: maxAge, fetcher: s.Fetcher, arg: s.Arg, specErr: s.Err}
	dec := s.Decode
	e.decode = func(r Raw) (any, error) { return decodeAs(dec, r) }
	switch {
	case e.specErr != nil:
	case s.Fetcher == nil:
		e.specErr = fmt.Errorf("%w: no fetcher", ErrInvalid)
	case !reflect.TypeOf(s.Fetcher).Comparable():
		e.specErr = fmt.Errorf("%w: fetcher %T is not comparable; use a pointer", ErrInvalid, s.Fetcher)
	}
	c.mu.Lock()
	e.id = len(c.entries)
	c.entries = append(c.entries, e)
	if e.specErr == nil {
		c.byFetcher[s.Fetcher] = append(c.byFetcher[s.Fetcher], e)
	}
	c.mu.Unlock()
	return &Entry[T]{e: e}
}

// Get returns the entry's value, fetching it first if it has expired. If the
// fetch fails while a value is cached, the old value is served for up to
// Options.MaxStale past its expiry, and the failure is logged once.
func (en *Entry[T]) Get(ctx context.Context) (T, error) {
	e := en.e
	if s := e.snap.Load(); s != nil && e.c.mono() < s.exp {
		e.hits.Add(1)
		return s.val.(T), nil
	}
	return en.load(ctx, loadDue)
}

// Refresh fetches the entry now, whatever its age, and returns the new value:
// lambda-cache's get_entry with max_age_in_seconds=0. Due entries of the same
// source ride along in the same call.
func (en *Entry[T]) Refresh(ctx context.Context) (T, error) {
	return en.load(ctx, loadForce)
}

func (en *Entry[T]) load(ctx context.Context, mode loadMode) (T, error) {
	var zero T
	out, _ := en.e.c.load(ctx, []*entry{en.e}, mode)
	if out[0].err != nil {
		return zero, out[0].err
	}
	return out[0].val.(T), nil
}

// From returns the value that a Handler loaded for this entry before the
// invocation began. ok is false when ctx does not come from a Handler that
// was given this entry.
func (en *Entry[T]) From(ctx context.Context) (v T, ok bool) {
	val, ok := fromContext(ctx, en.e)
	if !ok {
		return v, false
	}
	return val.(T), true
}

// Key returns the entry's key.
func (en *Entry[T]) Key() Key { return en.e.key }

// Name returns the short name the entry is read by.
func (en *Entry[T]) Name() string { return en.e.name }

// Stats returns the entry's statistics.
func (en *Entry[T]) Stats() Stats { return en.e.stats(en.e.c.now()) }

func (en *Entry[T]) base() *entry { return en.e }

// Stats describe one entry. Counters count since the entry was added.
type Stats struct {
	Key       Key
	Name      string
	Hits      int64 // reads served from memory without a fetch
	Misses    int64 // reads that found no unexpired value
	Refreshes int64 // successful fetches, Unchanged included
	Unchanged int64 // fetches that found the value unchanged (a 304, say)
	Errors    int64 // failed fetches
	Stale     int64 // reads served a stale value because fetching failed
	Loaded    bool  // a value is held
	Age       time.Duration
	Size      int64  // bytes of the last value, where the source knows
	LastError string // the last fetch error, "" once a fetch succeeds
}

// HitRatio returns hits / (hits + misses), or 0 before any read.
func (s Stats) HitRatio() float64 {
	if n := s.Hits + s.Misses; n > 0 {
		return float64(s.Hits) / float64(n)
	}
	return 0
}

// entry is the untyped state behind an Entry.
type entry struct {
	c       *Cache
	id      int
	key     Key
	name    string
	maxAge  time.Duration
	fetcher Fetcher
	arg     any
	decode  func(Raw) (any, error)
	specErr error

	snap atomic.Pointer[snapshot]

	mu       sync.Mutex // guards the fields below
	inflight *flight
	failures int // failed fetches in a row
	retryAt  time.Time
	lastErr  error
	stale    bool // serving stale since the last failure was logged

	hits, misses, refreshes, unchanged, errors, staleReads atomic.Int64
}

type snapshot struct {
	val     any
	version string
	size    int64
	fetched time.Time
	expires time.Time
	exp     time.Duration // expires as an offset from the cache's base, for the hot path
}

// flight is one fetch of one entry; everyone who wants the entry meanwhile
// waits on done.
type flight struct {
	done chan struct{}
	val  any
	err  error
}

func (e *entry) stats(now time.Time) Stats {
	s := Stats{
		Key: e.key, Name: e.name,
		Hits: e.hits.Load(), Misses: e.misses.Load(), Refreshes: e.refreshes.Load(),
		Unchanged: e.unchanged.Load(), Errors: e.errors.Load(), Stale: e.staleReads.Load(),
	}
	if sn := e.snap.Load(); sn != nil {
		s.Loaded, s.Age, s.Size = true, now.Sub(sn.fetched), sn.size
	}
	e.mu.Lock()
	if e.lastErr != nil {
		s.LastError = e.lastErr.Error()
	}
	e.mu.Unlock()
	return s
}

// LogValue lets a Stats be logged as a group: logger.Info("cache", "entry", e.Stats()).
func (s Stats) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("key", s.Key.String()), slog.String("name", s.Name),
		slog.Int64("hits", s.Hits), slog.Int64("misses", s.Misses),
		slog.Int64("refreshes", s.Refreshes), slog.Int64("unchanged", s.Unchanged),
		slog.Int64("errors", s.Errors), slog.Int64("stale", s.Stale),
		slog.Duration("age", s.Age),
	}
	if s.LastError != "" {
		attrs = append(attrs, slog.String("last_error", s.LastError))
	}
	return slog.GroupValue(attrs...)
}
