package cache

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxAge is how long a value is served before it is fetched again,
// unless an entry, Options.MaxAge or the environment says otherwise. It is
// lambda-cache's default.
const DefaultMaxAge = 60 * time.Second

// MaxAgeEnv names the environment variable that sets the default max age,
// in seconds ("300") or as a Go duration ("5m"). POWERTOOLS_PARAMETERS_MAX_AGE
// is honoured too, for functions that move from Powertools.
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
	// MaxAge is the default max age of an entry. Default: $OFFLOAD_CACHE_MAX_AGE
	// (or $POWERTOOLS_PARAMETERS_MAX_AGE), else 60s. An entry's own MaxAge wins.
	MaxAge time.Duration

	// Jitter is the largest fraction of the max age taken off each expiry at
	// random, so a fleet of execution environments started together does not
	// refresh in the same second. Default 0.1; a negative value turns it off.
	Jitter float64

	// MaxStale is how long past its expiry a value is still served when a
	// refresh fails. Default 5m; a negative value never serves a stale value.
	MaxStale time.Duration

	// RetryBackoff is the wait after a failed fetch before the next try; it
	// doubles with each failure in a row, up to MaxRetryBackoff. While it
	// runs, Get serves the stale value (or the last error) without a call.
	// Defaults 1s and 1m.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration

	// WarmupHorizon: a warm-up event refreshes every entry that would expire
	// within it. Default 5m, a common warm-up schedule.
	WarmupHorizon time.Duration

	// IsWarmup tells a warm-up event from a real one in Handler. Default
	// IsWarmupPing.
	IsWarmup func(payload []byte) bool

	// Logger receives one line when an entry starts serving a stale value and
	// one when it recovers. Default slog.Default().
	Logger *slog.Logger

	// Clock tells the time. Default: the system clock.
	Clock Clock
}

// Cache holds entries in memory for the life of the execution environment.
// Its methods are safe for concurrent use.
type Cache struct {
	opts   Options
	clock  Clock
	system bool      // clock is the system clock: read the monotonic clock directly
	base   time.Time // when the cache was made; expiries are kept as offsets from it

	mu        sync.Mutex
	entries   []*entry
	byFetcher map[Fetcher][]*entry
	rnd       *rand.Rand
}

// New returns a Cache with opts validated and defaults filled in.
func New(opts Options) *Cache {
	if opts.MaxAge <= 0 {
		opts.MaxAge = envMaxAge(opts.Logger)
	}
	if opts.Jitter == 0 {
		opts.Jitter = 0.1
	}
	if opts.Jitter < 0 {
		opts.Jitter = 0
	}
	if opts.Jitter > 0.5 {
		opts.Jitter = 0.5
	}
	if opts.MaxStale == 0 {
		opts.MaxStale = 5 * time.Minute
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	if opts.MaxRetryBackoff <= 0 {
		opts.MaxRetryBackoff = time.Minute
	}
	if opts.MaxRetryBackoff < opts.RetryBackoff {
		opts.MaxRetryBackoff = opts.RetryBackoff
	}
	if opts.WarmupHorizon <= 0 {
		opts.WarmupHorizon = 5 * time.Minute
	}
	if opts.IsWarmup == nil {
		opts.IsWarmup = IsWarmupPing
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Cache{opts: opts, clock: opts.Clock, byFetcher: map[Fetcher][]*entry{}, rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	if c.clock == nil {
		c.clock, c.system = systemClock{}, true
	}
	c.base = c.clock.Now()
	return c
}

// envMaxAge reads the default max age from the environment. A value that
// does not parse is reported and ignored rather than failing a cold start.
func envMaxAge(logger *slog.Logger) time.Duration {
	for _, name := range []string{MaxAgeEnv, powertoolsMaxAgeEnv} {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			continue
		}
		if d, err := parseMaxAge(v); err == nil {
			return d
		}
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("cache: ignoring invalid max age in environment", "variable", name, "value", v,
			"want", "seconds (300) or a duration (5m) greater than zero")
	}
	return DefaultMaxAge
}

func parseMaxAge(v string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 {
			return 0, strconv.ErrRange
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, strconv.ErrRange
	}
	return d, nil
}

// mono returns the time since the cache was made. On the system clock it
// reads only the monotonic clock, about half the cost of time.Now: it is
// the one clock read on the path of every cache hit.
func (c *Cache) mono() time.Duration {
	if c.system {
		return time.Since(c.base)
	}
	return c.clock.Now().Sub(c.base)
}

func (c *Cache) now() time.Time {
	if c.system {
		return time.Now()
	}
	return c.clock.Now()
}

// Loadable is an entry of any type: what Load, Handler and Stats take.
type Loadable interface {
	base() *entry
}

// Load makes sure every given entry holds a value that has not expired,
// fetching those that are due in as few calls as their sources allow. With
// no entries it loads every entry of the cache. It returns the errors of the
// entries that have no value to serve, joined.
func (c *Cache) Load(ctx context.Context, entries ...Loadable) error {
	outs, _ := c.load(ctx, c.resolve(entries), loadDue)
	return joinErrors(outs)
}

// Refresh fetches the given entries now, whatever their age (all entries if
// none are given), in as few calls as their sources allow.
func (c *Cache) Refresh(ctx context.Context, entries ...Loadable) error {
	outs, _ := c.load(ctx, c.resolve(entries), loadForce)
	return joinErrors(outs)
}

// Warm refreshes every entry that has no value yet or whose value expires
// within the warm-up horizon, in as few calls as the sources allow, and
// returns how many it fetched. A warm-up event calls it.
func (c *Cache) Warm(ctx context.Context) (int, error) {
	c.mu.Lock()
	ens := append([]*entry(nil), c.entries...)
	c.mu.Unlock()
	outs, n := c.load(ctx, ens, loadWarm)
	return n, joinErrors(outs)
}

// Stats returns the statistics of every entry, in the order they were added.
func (c *Cache) Stats() []Stats {
	c.mu.Lock()
	ens := append([]*entry(nil), c.entries...)
	c.mu.Unlock()
	out := make([]Stats, len(ens))
	for i, e := range ens {
		out[i] = e.stats(c.now())
	}
	return out
}

func (c *Cache) resolve(entries []Loadable) []*entry {
	if len(entries) == 0 {
		c.mu.Lock()
		defer c.mu.Unlock()
		return append([]*entry(nil), c.entries...)
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

func (c *Cache) backoff(failures int) time.Duration {
	d := c.opts.RetryBackoff
	for i := 1; i < failures && d < c.opts.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, c.opts.MaxRetryBackoff)
}
