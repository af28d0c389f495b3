package cache

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one cached value of type T. Get it from Add. Its methods are safe
// for concurrent use.
type Entry[T any] struct {
	e *entry
}

// EntryOption sets an option of one entry: MaxAge or Name.
type EntryOption struct {
	maxAge    time.Duration
	hasMaxAge bool
	name      string
}

// MaxAge sets how long the entry's value is served before it is fetched
// again. MaxAge(0) is the cache's default (Options.MaxAge); AlwaysFetch
// fetches on every read, concurrent readers sharing the fetch.
func MaxAge(d time.Duration) EntryOption {
	return EntryOption{maxAge: d, hasMaxAge: true}
}

// Name sets the short name of an entry added with Add, by which Lookup
// finds it and Stats report it; the default is the spec's Name, or the last
// segment of the key's name. Default short names may repeat ("/prod/x/pw"
// and "/dev/x/pw" are both "pw"); a name given with Name is unique among
// the names given with Name, and Lookup prefers it to a default one. It does
// not change the key: values are cached by source and full name.
func Name(name string) EntryOption {
	return EntryOption{name: name}
}

// entryOptions merges opts, the last of each kind winning, and returns the
// max age they come to.
func (c *Cache) entryOptions(opts []EntryOption) (EntryOption, time.Duration, error) {
	var o EntryOption
	for _, opt := range opts {
		if opt.hasMaxAge {
			o.maxAge, o.hasMaxAge = opt.maxAge, true
		}
		if opt.name != "" {
			o.name = opt.name
		}
	}
	maxAge := c.opts.MaxAge
	switch {
	case !o.hasMaxAge || o.maxAge == 0:
	case o.maxAge > 0 || o.maxAge == AlwaysFetch:
		maxAge = o.maxAge
	default:
		return o, 0, errInvalid("MaxAge(%s): want a positive duration, 0 for the cache's default, or cache.AlwaysFetch", o.maxAge)
	}
	return o, maxAge, nil
}

// Add registers the entry for s in c and returns it; nothing is fetched
// until it is first read, loaded or warmed. Each entry is added once, at
// start-up: Load, Warm and lambdacache's handler then take every entry of
// the cache.
//
// Adding a spec whose key is already in c returns the entry already there,
// as long as its type is the same and the options given agree with it. It
// is an error to add a spec that could not be built (Spec.Err), a key held
// as another type, a Name another entry was given, or a negative MaxAge
// other than AlwaysFetch.
func Add[T any](c *Cache, s Spec[T], opts ...EntryOption) (*Entry[T], error) {
	o, maxAge, err := c.entryOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	name := o.name
	if name == "" {
		name = s.defaultName()
	}
	typ := reflect.TypeFor[T]()

	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byKey[s.Key]; e != nil {
		switch {
		case e.typ != typ:
			return nil, errInvalid("%s is already added as a %s entry, not %s", s.Key, e.typ, typ)
		case o.hasMaxAge && e.maxAge.Load() != int64(maxAge):
			return nil, errInvalid("%s is already added with max age %s, not %s", s.Key, time.Duration(e.maxAge.Load()), maxAge)
		case o.name != "" && e.name != o.name:
			return nil, errInvalid("%s is already added with the name %q, not %q", s.Key, e.name, o.name)
		}
		if o.name != "" && !e.named {
			if err := c.nameFree(o.name, s.Key); err != nil {
				return nil, err
			}
			e.named = true
		}
		return e.typed.(*Entry[T]), nil
	}
	if o.name != "" {
		if err := c.nameFree(o.name, s.Key); err != nil {
			return nil, err
		}
	}
	ens := c.entries()
	e := newEntry(c, s, len(ens), name, maxAge)
	e.named = o.name != ""
	c.byKey[s.Key] = e
	c.byName[name] = append(c.byName[name], e)
	c.byFetcher[s.Fetcher] = append(c.byFetcher[s.Fetcher], e)
	ens = append(ens, e)
	c.registered.Store(&ens)
	return e.typed.(*Entry[T]), nil
}

// MustAdd is Add for entries declared at start-up, as package variables:
// it panics where Add returns an error.
func MustAdd[T any](c *Cache, s Spec[T], opts ...EntryOption) *Entry[T] {
	e, err := Add(c, s, opts...)
	if err != nil {
		panic(err)
	}
	return e
}

// namedAs returns the entry given the name n with the Name option, if any.
// c.mu is held.
func (c *Cache) namedAs(n string) *entry {
	for _, e := range c.byName[n] {
		if e.named {
			return e
		}
	}
	return nil
}

// nameFree fails when another entry than k's was given the name n. c.mu is
// held.
func (c *Cache) nameFree(n string, k Key) error {
	if other := c.namedAs(n); other != nil {
		return errInvalid("%s and %s are both given the name %q", other.key, k, n)
	}
	return nil
}

// Lookup returns the entry added to c under the short name name, as
// lambda-cache hands a handler values by entry_name: the entry given that
// name with the Name option, or else the one entry whose default short name
// it is. It fails when no entry has that name, when several have it by
// default (name one with the Name option), or when its values are not of
// type T.
func Lookup[T any](c *Cache, name string) (*Entry[T], error) {
	c.mu.Lock()
	e, all := c.namedAs(name), c.byName[name]
	c.mu.Unlock()
	switch {
	case e != nil:
	case len(all) == 0:
		return nil, fmt.Errorf("cache: no entry is named %q", name)
	case len(all) > 1:
		keys := make([]string, len(all))
		for i, o := range all {
			keys[i] = o.key.String()
		}
		return nil, fmt.Errorf("cache: short name %q is ambiguous: %s and %s; give one a cache.Name",
			name, strings.Join(keys[:len(keys)-1], ", "), keys[len(keys)-1])
	default:
		e = all[0]
	}
	en, ok := e.typed.(*Entry[T])
	if !ok {
		return nil, fmt.Errorf("cache: entry %q (%s) holds %s, not %s", name, e.key, e.typ, reflect.TypeFor[T]())
	}
	return en, nil
}

// Fetch returns the value of s, for a name known only at request time
// (Powertools' get_parameter(name)): a value younger than the call's max
// age (MaxAge; default Options.MaxAge; AlwaysFetch fetches) is served from
// memory, else it is fetched, with every rule of an added entry: one fetch
// in flight, due entries of the same source riding along, stale-on-error,
// backoff.
//
// The entry is found by s's key, so repeated names share one: an entry
// added with Add (whose own max age then applies too), or one that Fetch
// keeps in a store bounded by Options.MaxFetchEntries and
// Options.MaxFetchBytes, least recently used out first. Other options than
// MaxAge do not apply.
func Fetch[T any](ctx context.Context, c *Cache, s Spec[T], opts ...EntryOption) (T, error) {
	var zero T
	_, maxAge, err := c.entryOptions(opts)
	if err != nil {
		return zero, err
	}
	typ := reflect.TypeFor[T]()
	c.mu.Lock()
	e := c.byKey[s.Key]
	c.mu.Unlock()
	if e == nil {
		e, _ = c.fetched.Get(s.Key)
	}
	if e == nil {
		e, err = c.fetched.GetOrLoad(ctx, s.Key, func(context.Context, Key) (*entry, error) {
			if err := s.check(); err != nil {
				return nil, err
			}
			e := newEntry(c, s, -1, s.defaultName(), maxAge)
			c.mu.Lock()
			c.byFetcher[s.Fetcher] = append(c.byFetcher[s.Fetcher], e)
			c.mu.Unlock()
			return e, nil
		})
		if err != nil {
			return zero, err
		}
	}
	if e.typ != typ {
		return zero, errInvalid("%s is held as a %s entry, not %s", s.Key, e.typ, typ)
	}
	if e.id < 0 && maxAge != AlwaysFetch {
		e.maxAge.Store(int64(maxAge)) // when the value is due, for ride-along and stale-on-error
	}
	if sn := e.snap.Load(); sn != nil && maxAge != AlwaysFetch {
		if now := c.hitNow(); (e.id < 0 || now < sn.exp) && now-sn.at < int64(maxAge) {
			e.hits.Add(1)
			return sn.val.(T), nil
		}
	}
	outs, n := c.load(ctx, []*entry{e}, loadDue, maxAge)
	if n > 0 && e.id < 0 {
		c.fetched.resize(s.Key)
	}
	if outs[0].err != nil {
		return zero, outs[0].err
	}
	return outs[0].val.(T), nil
}

// Get returns the entry's value, fetching it first if it has expired. If the
// fetch fails while a value is cached, the old value is served for up to
// Options.MaxStale past its expiry, and the failure is logged once.
//
// A hit costs a few nanoseconds: a value that has not expired is read from
// memory, checked against a clock that lags the real one by up to
// ClockGranularity (so a value may be served that much past its expiry).
// When ctx ends while Get waits for a fetch, Get returns ctx's error, and the
// fetch goes on for the other callers waiting for it.
func (en *Entry[T]) Get(ctx context.Context) (T, error) {
	e := en.e
	if s := e.snap.Load(); s != nil && e.c.hitNow() < s.exp {
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
	out, _ := en.e.c.load(ctx, []*entry{en.e}, mode, 0)
	if out[0].err != nil {
		return zero, out[0].err
	}
	return out[0].val.(T), nil
}

// From returns the value the cache's NewContext (lambdacache's handler)
// loaded for this entry when the invocation began, the same for the whole
// invocation. ok is false when ctx does not come from NewContext of this
// entry's cache, or the entry was added after it.
func (en *Entry[T]) From(ctx context.Context) (v T, ok bool) {
	val, ok := fromContext(ctx, en.e)
	if !ok {
		return v, false
	}
	return val.(T), true
}

// Key returns the entry's key.
func (en *Entry[T]) Key() Key { return en.e.key }

// Name returns the entry's short name.
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
	// The hit path reads snap and c, and counts in hits: hits has a cache
	// line of its own, so that readers on other cores counting hits do
	// not slow each other's loads of snap.
	snap atomic.Pointer[snapshot]
	c    *Cache
	_    [48]byte
	hits atomic.Int64
	_    [56]byte

	id      int // index in Cache.registered; -1 for an entry Fetch keeps
	key     Key
	name    string
	named   bool // name was given with the Name option; guarded by Cache.mu
	typ     reflect.Type
	typed   any          // the *Entry[typ] that Add and Lookup return
	maxAge  atomic.Int64 // a time.Duration, or AlwaysFetch
	fetcher Fetcher
	arg     any
	decode  func(Raw) (any, error)

	mu       sync.Mutex // guards the fields below
	inflight *flight
	failures int // failed fetches in a row
	retryAt  time.Time
	lastErr  error
	stale    bool // serving stale since the last failure was logged

	misses, refreshes, unchanged, errors, staleReads atomic.Int64
}

func newEntry[T any](c *Cache, s Spec[T], id int, name string, maxAge time.Duration) *entry {
	dec := s.Decode
	e := &entry{
		c: c, id: id, key: s.Key, name: name, typ: reflect.TypeFor[T](),
		fetcher: s.Fetcher, arg: s.Arg,
		decode: func(r Raw) (any, error) { return decodeAs(dec, r) },
	}
	e.maxAge.Store(int64(maxAge))
	e.typed = &Entry[T]{e: e}
	return e
}

type snapshot struct {
	val     any
	version string
	size    int64
	fetched time.Time
	expires time.Time
	at, exp int64 // fetched and expires as offsets from the cache's base, for the hit path
}

func (e *entry) size() int64 {
	if s := e.snap.Load(); s != nil {
		return s.size
	}
	return 0
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
