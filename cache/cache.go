package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offload-dev/offload/retry"
)

// DefaultMaxAge is how long a value is served before it is fetched again,
// unless an entry, Options.MaxAge or the environment says otherwise. It is
// lambda-cache's default.
const DefaultMaxAge = 60 * time.Second

// AlwaysFetch, as a max age (Options.MaxAge, the MaxAge option), fetches the
// value on every read; concurrent readers share the fetch. It is
// lambda-cache's max_age_in_seconds=0 and Powertools' max_age=0.
const AlwaysFetch time.Duration = -1

// NoJitter, as Options.Jitter, expires every value exactly at its max age.
const NoJitter float64 = -1

// NeverStale, as Options.MaxStale, never serves a value past its expiry:
// a failed refresh fails the read.
const NeverStale time.Duration = -1

// MaxAgeEnv names the environment variable that sets the default max age,
// in seconds ("300") or as a Go duration ("5m"); "0" fetches on every read.
// POWERTOOLS_PARAMETERS_MAX_AGE, read when MaxAgeEnv is unset, has the same
// meaning, for functions that move from Powertools.
const MaxAgeEnv = "OFFLOAD_CACHE_MAX_AGE"

const powertoolsMaxAgeEnv = "POWERTOOLS_PARAMETERS_MAX_AGE"

// Clock tells the time. Tests inject a fake one so they never sleep.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configure a Cache. The zero value is ready to use: every zero
// field means its default.
type Options struct {
	// MaxAge is the default max age of an entry; an entry's own MaxAge
	// option wins. Default: $OFFLOAD_CACHE_MAX_AGE, else
	// $POWERTOOLS_PARAMETERS_MAX_AGE, else DefaultMaxAge (60s). AlwaysFetch
	// fetches on every read.
	MaxAge time.Duration

	// Jitter is the largest fraction of the max age taken off each expiry at
	// random, so a fleet of execution environments started together does not
	// refresh in the same second. Default 0.1; at most 0.5. NoJitter turns
	// it off.
	Jitter float64

	// MaxStale is how long past its expiry a value is still served when a
	// refresh fails. Default 5m. NeverStale never serves a stale value.
	MaxStale time.Duration

	// Retry sets the wait after a failed fetch before an entry is fetched
	// again (Retry.Backoff of the failures in a row); meanwhile reads are
	// served the stale value, or the last error, without a call. Only
	// Initial and Max are used: a cache retries on a later read, not in a
	// loop. Defaults: Initial 1s, Max 1m.
	Retry retry.Policy

	// FetchTimeout bounds a fetch that no waiting caller's deadline bounds.
	// A fetch runs on its own context, so that a caller that gives up does
	// not fail the others waiting for it; it ends at the latest deadline of
	// its callers, or FetchTimeout after a caller without a deadline began
	// to wait. Default 1m.
	FetchTimeout time.Duration

	// WarmupHorizon: Warm refreshes every entry that would expire within
	// it. Default 5m, a common warm-up schedule.
	WarmupHorizon time.Duration

	// MaxFetchEntries bounds the entries Fetch keeps for names known only
	// at request time; past it the least recently used go first. Default
	// 1,000.
	MaxFetchEntries int

	// MaxFetchBytes bounds the bytes of the values Fetch keeps (where the
	// source knows a value's size); past it the least recently used go
	// first. Default 64 MiB.
	MaxFetchBytes int64

	// Logger receives one line when an entry starts serving a stale value
	// and one when it recovers. Default slog.Default().
	Logger *slog.Logger

	// Clock tells the time. Default: the system clock, read on a cache hit
	// from a copy that a background goroutine advances every
	// ClockGranularity (see Entry.Get). An injected clock is read on every
	// hit.
	Clock Clock
}

// Cache holds entries in memory for the life of the execution environment.
// Its methods are safe for concurrent use.
type Cache struct {
	opts   Options
	clock  Clock
	coarse *coarseClock // the hit path's clock; nil when Options.Clock is injected
	base   time.Time    // expiries are kept as offsets from it

	registered atomic.Pointer[[]*entry] // by id; only ever appended to
	fetched    *Store[Key, *entry]      // Fetch's entries, bounded

	mu        sync.Mutex // guards the fields below
	byKey     map[Key]*entry
	byName    map[string][]*entry  // by short name, in the order added
	byFetcher map[Fetcher][]*entry // registered and fetched entries, for ride-along
	rnd       *rand.Rand
}

// New returns a Cache with opts, and then each optFn applied to a copy of
// opts, validated and the defaults filled in. It fails when a field is out
// of range, or when the max age in the environment cannot be read.
func New(opts Options, optFns ...func(*Options)) (*Cache, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cache: "+format, args...)) }
	switch {
	case opts.MaxAge == 0:
		d, err := envMaxAge()
		if err != nil {
			errs = append(errs, err)
		}
		opts.MaxAge = d
	case opts.MaxAge < 0 && opts.MaxAge != AlwaysFetch:
		bad("Options.MaxAge is %s; want a positive duration, 0 for the default, or cache.AlwaysFetch", opts.MaxAge)
	}
	switch {
	case opts.Jitter == 0:
		opts.Jitter = 0.1
	case opts.Jitter == NoJitter:
		opts.Jitter = 0
	case opts.Jitter < 0 || opts.Jitter > 0.5:
		bad("Options.Jitter is %g; want a fraction up to 0.5, 0 for the default 0.1, or cache.NoJitter", opts.Jitter)
	}
	switch {
	case opts.MaxStale == 0:
		opts.MaxStale = 5 * time.Minute
	case opts.MaxStale < 0 && opts.MaxStale != NeverStale:
		bad("Options.MaxStale is %s; want a positive duration, 0 for the default 5m, or cache.NeverStale", opts.MaxStale)
	}
	if opts.Retry.Initial <= 0 {
		opts.Retry.Initial = time.Second
	}
	if opts.Retry.Max <= 0 {
		opts.Retry.Max = time.Minute
	}
	positive := func(field string, v, def int64) int64 {
		switch {
		case v == 0:
			return def
		case v < 0:
			bad("Options.%s is negative; want 0 for the default or more", field)
		}
		return v
	}
	opts.FetchTimeout = time.Duration(positive("FetchTimeout", int64(opts.FetchTimeout), int64(time.Minute)))
	opts.WarmupHorizon = time.Duration(positive("WarmupHorizon", int64(opts.WarmupHorizon), int64(5*time.Minute)))
	opts.MaxFetchEntries = int(positive("MaxFetchEntries", int64(opts.MaxFetchEntries), 1000))
	opts.MaxFetchBytes = positive("MaxFetchBytes", opts.MaxFetchBytes, 64<<20)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	c := &Cache{
		opts: opts, clock: opts.Clock,
		byKey: map[Key]*entry{}, byName: map[string][]*entry{}, byFetcher: map[Fetcher][]*entry{},
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	if c.clock == nil {
		c.clock, c.coarse = systemClock{}, processClock()
		c.base = c.coarse.base
	} else {
		c.base = c.clock.Now()
	}
	c.registered.Store(&[]*entry{})
	c.fetched = NewStore(StoreOptions[Key, *entry]{
		MaxEntries: opts.MaxFetchEntries,
		MaxBytes:   opts.MaxFetchBytes,
		Size:       func(_ Key, e *entry) int64 { return e.size() },
	})
	c.fetched.onEvict = c.forget
	return c, nil
}

// envMaxAge reads the default max age from the environment: MaxAgeEnv, or
// else Powertools' variable. A value that cannot be read is an error, not a
// silent 60 seconds.
func envMaxAge() (time.Duration, error) {
	for _, name := range []string{MaxAgeEnv, powertoolsMaxAgeEnv} {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			continue
		}
		d, err := parseMaxAge(v)
		if err != nil {
			return DefaultMaxAge, fmt.Errorf("cache: $%s is %q: %w", name, v, err)
		}
		return d, nil
	}
	return DefaultMaxAge, nil
}

// maxEnvSeconds is a year: more is surely a mistake, and would overflow.
const maxEnvSeconds = 365 * 24 * 3600

// parseMaxAge reads seconds or a Go duration; zero means no caching, as in
// Powertools.
func parseMaxAge(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if n, ferr := strconv.ParseFloat(v, 64); ferr == nil {
		if !(n >= -1 && n <= maxEnvSeconds) { // NaN and ±Inf parse too
			return 0, fmt.Errorf("want 0 to %d seconds", maxEnvSeconds)
		}
		d, err = time.Duration(n*float64(time.Second)), nil
	}
	switch {
	case err != nil:
		return 0, errors.New(`want seconds ("300") or a duration ("5m")`)
	case d < 0:
		return 0, errors.New("want 0 (fetch on every read) or more")
	case d == 0:
		return AlwaysFetch, nil
	}
	return d, nil
}

// hitNow returns the time on the hit path, as an offset from base: the
// coarse clock, or the injected one.
func (c *Cache) hitNow() int64 {
	if k := c.coarse; k != nil {
		return k.read()
	}
	return int64(c.clock.Now().Sub(c.base))
}

// now returns the exact time, for everything but the hit path, and moves
// the coarse clock up to it.
func (c *Cache) now() time.Time {
	t := c.clock.Now()
	if c.coarse != nil {
		c.coarse.advance(int64(t.Sub(c.base)))
	}
	return t
}

func (c *Cache) offset(t time.Time) int64 { return int64(t.Sub(c.base)) }

// Loadable is an entry of any type: what Load and Refresh take.
type Loadable interface {
	base() *entry
}

// Load makes sure every given entry holds a value that has not expired,
// fetching those that are due in as few calls as their sources allow. With
// no entries it loads every entry added to the cache. It returns the errors
// of the entries that have no value to serve, joined.
func (c *Cache) Load(ctx context.Context, entries ...Loadable) error {
	outs, _ := c.load(ctx, c.resolve(entries), loadDue, 0)
	return joinErrors(outs)
}

// Refresh fetches the given entries now, whatever their age (every entry
// added to the cache if none are given), in as few calls as their sources
// allow.
func (c *Cache) Refresh(ctx context.Context, entries ...Loadable) error {
	outs, _ := c.load(ctx, c.resolve(entries), loadForce, 0)
	return joinErrors(outs)
}

// Warm refreshes every entry added to the cache that has no value yet or
// whose value expires within Options.WarmupHorizon, in as few calls as the
// sources allow, and returns how many it fetched. A warm-up event calls it.
// Entries that Fetch keeps are left to the requests that use them.
func (c *Cache) Warm(ctx context.Context) (int, error) {
	outs, n := c.load(ctx, c.entries(), loadWarm, 0)
	return n, joinErrors(outs)
}

// Stats returns the statistics of every entry: those added, in the order
// they were added, then those Fetch keeps, most recently used first.
func (c *Cache) Stats() []Stats {
	now := c.now()
	ens := c.entries()
	out := make([]Stats, 0, len(ens)+c.fetched.Len())
	for _, e := range ens {
		out = append(out, e.stats(now))
	}
	c.fetched.each(func(_ Key, e *entry) { out = append(out, e.stats(now)) })
	return out
}

// entries returns the entries added to the cache, by id.
func (c *Cache) entries() []*entry { return *c.registered.Load() }

func (c *Cache) resolve(entries []Loadable) []*entry {
	if len(entries) == 0 {
		return c.entries()
	}
	ens := make([]*entry, 0, len(entries))
	for _, l := range entries {
		ens = append(ens, l.base())
	}
	return ens
}

// expiry returns when a value fetched at t expires: its max age less a
// random share of it.
func (c *Cache) expiry(t time.Time, maxAge time.Duration) time.Time {
	if maxAge <= 0 {
		return t
	}
	if c.opts.Jitter > 0 {
		c.mu.Lock()
		j := time.Duration(c.rnd.Float64() * c.opts.Jitter * float64(maxAge))
		c.mu.Unlock()
		maxAge -= j
	}
	return t.Add(maxAge)
}

// forget drops an entry that Fetch's store evicted from the ride-along lists.
func (c *Cache) forget(_ Key, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	peers := c.byFetcher[e.fetcher]
	for i, p := range peers {
		if p == e {
			c.byFetcher[e.fetcher] = append(peers[:i:i], peers[i+1:]...)
			break
		}
	}
	if len(c.byFetcher[e.fetcher]) == 0 {
		delete(c.byFetcher, e.fetcher)
	}
}
