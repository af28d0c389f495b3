package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/retry"
)

// source is an in-memory source for testing the core's logic: values by
// name, a record of every Fetch call, and failures on demand. The sources
// themselves are tested against moto in their own packages.
type source struct {
	mu      sync.Mutex
	values  map[string]string
	calls   [][]string
	fail    map[string]error // per name
	failAll error
	batch   int
	gate    chan struct{} // when set, Fetch waits for it to close
	notMod  bool          // answer Unchanged when Prev.Version matches
}

func newSource(batch int, kv ...string) *source {
	s := &source{values: map[string]string{}, fail: map[string]error{}, batch: batch}
	for i := 0; i+1 < len(kv); i += 2 {
		s.values[kv[i]] = kv[i+1]
	}
	return s
}

func (s *source) BatchSize() int { return s.batch }

func (s *source) Fetch(ctx context.Context, reqs []*cache.Request) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			for _, r := range reqs {
				r.Fail(ctx.Err())
			}
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, len(reqs))
	for i, r := range reqs {
		names[i] = r.Key.Name
	}
	s.calls = append(s.calls, names)
	for _, r := range reqs {
		name := r.Key.Name
		switch v, ok := s.values[name]; {
		case s.failAll != nil:
			r.Fail(s.failAll)
		case s.fail[name] != nil:
			r.Fail(s.fail[name])
		case !ok:
			r.Fail(fmt.Errorf("%w: no value named %q", cache.ErrNotFound, name))
		case s.notMod && r.Prev != nil && r.Prev.Version == v:
			r.Unchanged()
		default:
			r.Succeed(cache.Raw{Value: v, Version: v, Size: int64(len(v))})
		}
	}
}

func (s *source) set(name, v string) {
	s.mu.Lock()
	s.values[name] = v
	s.mu.Unlock()
}

func (s *source) setFailAll(err error) {
	s.mu.Lock()
	s.failAll = err
	s.mu.Unlock()
}

func (s *source) nCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// nRequests counts the values asked for over every call.
func (s *source) nRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += len(c)
	}
	return n
}

func (s *source) spec(name string) cache.Spec[string] {
	return cache.Spec[string]{Key: cache.Key{Source: "test", Name: name}, Fetcher: s}
}

func newCache(t testing.TB, clk *fakeclock.Clock, opts ...func(*cache.Options)) (*cache.Cache, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	c, err := cache.New(cache.Options{Clock: clk, Jitter: cache.NoJitter, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, &logs
}

func mustGet[T any](t *testing.T, e *cache.Entry[T]) T {
	t.Helper()
	v, err := e.Get(context.Background())
	if err != nil {
		t.Fatalf("Get %s: %v", e.Key(), err)
	}
	return v
}

// lambda-cache's TTL cycle: the old value before expiry, the new one after,
// and again.
func TestTTLCycle(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "/production/app/var", "v1")
	e := cache.MustAdd(c, src.spec("/production/app/var"), cache.MaxAge(300*time.Second))

	steps := []struct {
		advance time.Duration
		set     string
		want    string
		calls   int
	}{
		{0, "", "v1", 1},
		{299 * time.Second, "v2", "v1", 1}, // changed at the source, not yet expired
		{1 * time.Second, "", "v2", 2},     // expired: fetched again
		{100 * time.Second, "v3", "v2", 2},
		{200 * time.Second, "", "v3", 3},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		if st.set != "" {
			src.set("/production/app/var", st.set)
		}
		if got := mustGet(t, e); got != st.want {
			t.Fatalf("step %d: got %q, want %q", i, got, st.want)
		}
		if got := src.nCalls(); got != st.calls {
			t.Fatalf("step %d: fetches: got %d, want %d", i, got, st.calls)
		}
	}
	st := e.Stats()
	if st.Hits != 2 || st.Misses != 3 || st.Refreshes != 3 {
		t.Fatalf("stats: got hits=%d misses=%d refreshes=%d, want 2, 3, 3", st.Hits, st.Misses, st.Refreshes)
	}
	if st.Name != "var" {
		t.Fatalf("short name: got %q, want %q", st.Name, "var")
	}
}

func TestDefaultMaxAgeIs60s(t *testing.T) {
	t.Setenv(cache.MaxAgeEnv, "")
	t.Setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "")
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(1, "a", "1")
	e := cache.MustAdd(c, src.spec("a"))
	mustGet(t, e)
	clk.Advance(59 * time.Second)
	mustGet(t, e)
	if got := src.nCalls(); got != 1 {
		t.Fatalf("fetches before 60s: got %d, want 1", got)
	}
	clk.Advance(time.Second)
	mustGet(t, e)
	if got := src.nCalls(); got != 2 {
		t.Fatalf("fetches at 60s: got %d, want 2", got)
	}
}

func TestMaxAgeFromEnvironment(t *testing.T) {
	tests := []struct {
		env, powertools string
		want            time.Duration // cache.AlwaysFetch: every read fetches
	}{
		{"300", "", 300 * time.Second},
		{"5m", "", 5 * time.Minute},
		{"0.5", "", 500 * time.Millisecond},
		{"", "20", 20 * time.Second},
		{"10", "20", 10 * time.Second},
		{"", "0", cache.AlwaysFetch}, // Powertools' meaning: no caching
		{"0", "", cache.AlwaysFetch},
		{"0s", "", cache.AlwaysFetch},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.powertools, func(t *testing.T) {
			t.Setenv(cache.MaxAgeEnv, tt.env)
			t.Setenv("POWERTOOLS_PARAMETERS_MAX_AGE", tt.powertools)
			clk := fakeclock.New()
			c, _ := newCache(t, clk)
			src := newSource(1, "a", "1")
			e := cache.MustAdd(c, src.spec("a"))
			if tt.want == cache.AlwaysFetch {
				for range 3 {
					mustGet(t, e)
				}
				if got := src.nCalls(); got != 3 {
					t.Fatalf("fetches for 3 reads: got %d, want 3 (no caching)", got)
				}
				return
			}
			mustGet(t, e)
			clk.Advance(tt.want - time.Millisecond)
			mustGet(t, e)
			clk.Advance(time.Millisecond)
			mustGet(t, e)
			if got := src.nCalls(); got != 2 {
				t.Fatalf("fetches: got %d, want 2 (max age %s)", got, tt.want)
			}
		})
	}
	invalid := []struct{ env, powertools, variable string }{
		{"nonsense", "", cache.MaxAgeEnv},
		{"-5", "", cache.MaxAgeEnv},
		{"5 min", "", cache.MaxAgeEnv},
		{"NaN", "", cache.MaxAgeEnv},
		{"1e300", "", cache.MaxAgeEnv},
		{"", "-1", "POWERTOOLS_PARAMETERS_MAX_AGE"},
		{"", "ten", "POWERTOOLS_PARAMETERS_MAX_AGE"},
	}
	for _, tt := range invalid {
		t.Run("invalid "+tt.env+"/"+tt.powertools, func(t *testing.T) {
			t.Setenv(cache.MaxAgeEnv, tt.env)
			t.Setenv("POWERTOOLS_PARAMETERS_MAX_AGE", tt.powertools)
			_, err := cache.New(cache.Options{Clock: fakeclock.New()})
			value := tt.env + tt.powertools
			if err == nil || !strings.Contains(err.Error(), tt.variable) || !strings.Contains(err.Error(), fmt.Sprintf("%q", value)) {
				t.Fatalf("got %v, want an error naming $%s and %q", err, tt.variable, value)
			}
		})
	}
	t.Run("entry wins", func(t *testing.T) {
		t.Setenv(cache.MaxAgeEnv, "300")
		clk := fakeclock.New()
		c, _ := newCache(t, clk)
		src := newSource(1, "a", "1")
		e := cache.MustAdd(c, src.spec("a"), cache.MaxAge(10*time.Second))
		mustGet(t, e)
		clk.Advance(10 * time.Second)
		mustGet(t, e)
		if got := src.nCalls(); got != 2 {
			t.Fatalf("fetches: got %d, want 2", got)
		}
	})
	t.Run("options win", func(t *testing.T) {
		t.Setenv(cache.MaxAgeEnv, "nonsense") // not read: Options.MaxAge is set
		if _, err := cache.New(cache.Options{MaxAge: time.Minute}); err != nil {
			t.Fatalf("got %v, want no error", err)
		}
	})
}

func TestForceRefreshWhileFresh(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "a", "v1")
	e := cache.MustAdd(c, src.spec("a"), cache.MaxAge(time.Hour))
	mustGet(t, e)
	src.set("a", "v2")
	if got := mustGet(t, e); got != "v1" {
		t.Fatalf("cached: got %q, want v1", got)
	}
	got, err := e.Refresh(context.Background())
	if err != nil || got != "v2" {
		t.Fatalf("Refresh: got %q, %v; want v2", got, err)
	}
	if got := mustGet(t, e); got != "v2" {
		t.Fatalf("after Refresh: got %q, want v2", got)
	}
	if got := src.nCalls(); got != 2 {
		t.Fatalf("fetches: got %d, want 2", got)
	}
}

// MaxAge(0) is the cache's default, as Options.MaxAge 0 is; AlwaysFetch
// fetches on every read.
func TestEntryMaxAge(t *testing.T) {
	tests := []struct {
		name   string
		opt    time.Duration
		reads  []time.Duration // clock advance before each read
		values []string
		calls  int
	}{
		{"zero is the default", 0, []time.Duration{0, 29 * time.Second, time.Second}, []string{"v1", "v1", "v3"}, 2},
		{"always fetch", cache.AlwaysFetch, []time.Duration{0, 0, 0}, []string{"v1", "v2", "v3"}, 3},
		{"ten seconds", 10 * time.Second, []time.Duration{0, 9 * time.Second, time.Second}, []string{"v1", "v1", "v3"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := fakeclock.New()
			c, _ := newCache(t, clk, func(o *cache.Options) { o.MaxAge = 30 * time.Second })
			src := newSource(10, "a", "v1")
			e := cache.MustAdd(c, src.spec("a"), cache.MaxAge(tt.opt))
			for i, d := range tt.reads {
				clk.Advance(d)
				src.set("a", fmt.Sprint("v", i+1))
				if got := mustGet(t, e); got != tt.values[i] {
					t.Fatalf("read %d: got %q, want %q", i+1, got, tt.values[i])
				}
			}
			if got := src.nCalls(); got != tt.calls {
				t.Fatalf("fetches: got %d, want %d", got, tt.calls)
			}
		})
	}
}

// Entries due together are fetched together: one Fetch with every request,
// however many entries were stacked.
func TestLoadBatchesDueEntries(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10)
	var entries []cache.Loadable
	for i := range 25 {
		name := fmt.Sprintf("/app/p%02d", i)
		src.set(name, "x")
		entries = append(entries, cache.MustAdd(c, src.spec(name)))
	}
	if err := c.Load(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
	if got := src.nCalls(); got != 1 {
		t.Fatalf("Fetch calls: got %d, want 1", got)
	}
	if got := len(src.calls[0]); got != 25 {
		t.Fatalf("requests in the call: got %d, want 25", got)
	}
	// Fresh: nothing more.
	if err := c.Load(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
	if got := src.nCalls(); got != 1 {
		t.Fatalf("Fetch calls after a fresh load: got %d, want 1", got)
	}
}

// A function that reads its entries one by one still fetches them in
// batch-sized calls: due entries of the same source ride along.
func TestSequentialGetsRideAlong(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10)
	var entries []*cache.Entry[string]
	for i := range 25 {
		name := fmt.Sprintf("/app/p%02d", i)
		src.set(name, name)
		entries = append(entries, cache.MustAdd(c, src.spec(name), cache.MaxAge(time.Minute)))
	}
	read := func() {
		for _, e := range entries {
			if got := mustGet(t, e); got != e.Key().Name {
				t.Fatalf("got %q, want %q", got, e.Key().Name)
			}
		}
	}
	read()
	if got := src.nCalls(); got != 3 {
		t.Fatalf("Fetch calls for 25 entries read one by one: got %d, want 3 (%v)", got, src.calls)
	}
	clk.Advance(time.Minute)
	read()
	if got := src.nCalls(); got != 6 {
		t.Fatalf("Fetch calls after expiry: got %d, want 6", got)
	}
	// A batch size of 1 gets no riders.
	one := newSource(1, "a", "1", "b", "2")
	a := cache.MustAdd(c, one.spec("a"))
	cache.MustAdd(c, one.spec("b"))
	mustGet(t, a)
	if got := len(one.calls[0]); got != 1 {
		t.Fatalf("requests with batch size 1: got %d, want 1", got)
	}
}

func TestConcurrentGetsShareOneFetch(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "a", "v")
	src.gate = make(chan struct{})
	e := cache.MustAdd(c, src.spec("a"))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			v, err := e.Get(context.Background())
			if err == nil && v != "v" {
				err = fmt.Errorf("got %q, want v", v)
			}
			errs <- err
		})
	}
	waitMisses(e, 50) // every reader is waiting on the one fetch
	close(src.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := src.nCalls(); got != 1 {
		t.Fatalf("fetches: got %d, want 1", got)
	}
}

// waitMisses waits until n reads of e have missed: they are waiting on, or
// have started, a fetch.
func waitMisses[T any](e *cache.Entry[T], n int64) {
	for e.Stats().Misses < n {
		runtime.Gosched()
	}
}

func TestStaleOnErrorWithBackoff(t *testing.T) {
	clk := fakeclock.New()
	c, logs := newCache(t, clk, func(o *cache.Options) {
		o.MaxStale = 2 * time.Minute
		o.Retry = retry.Policy{Initial: 10 * time.Second, Max: 40 * time.Second}
	})
	src := newSource(10, "/prod/db/password", "old")
	e := cache.MustAdd(c, src.spec("/prod/db/password"), cache.MaxAge(time.Minute))
	mustGet(t, e)

	src.setFailAll(fmt.Errorf("%w: Rate exceeded", cache.ErrThrottled))
	// retry.Policy.Backoff(n) is a random wait from Initial/2 up to
	// Initial·2^(n-1): the steps sit outside those bounds.
	steps := []struct {
		advance time.Duration
		calls   int
	}{
		{time.Minute, 2},      // expired: one try, which fails; the stale value is served
		{0, 2},                // during the first backoff (5s..10s): no call
		{4 * time.Second, 2},  // still within it
		{6 * time.Second, 3},  // 10s: over; the second try fails, backoff 5s..20s
		{4 * time.Second, 3},  // within it
		{16 * time.Second, 4}, // 20s: over
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		if got := mustGet(t, e); got != "old" {
			t.Fatalf("step %d: got %q, want the stale %q", i, got, "old")
		}
		if got := src.nCalls(); got != st.calls {
			t.Fatalf("step %d: fetches: got %d, want %d", i, got, st.calls)
		}
	}
	if n := strings.Count(logs.String(), "serving the cached value"); n != 1 {
		t.Fatalf("stale warnings logged: got %d, want 1:\n%s", n, logs.String())
	}
	st := e.Stats()
	if st.Errors != 3 || st.Stale != 6 || !strings.Contains(st.LastError, "Rate exceeded") {
		t.Fatalf("stats: got errors=%d stale=%d last=%q, want 3, 6, Rate exceeded", st.Errors, st.Stale, st.LastError)
	}

	// Past MaxStale the error surfaces, naming the entry.
	clk.Advance(2 * time.Minute)
	_, err := e.Get(context.Background())
	if !errors.Is(err, cache.ErrThrottled) || !strings.Contains(err.Error(), "/prod/db/password") {
		t.Fatalf("past MaxStale: got %v, want a throttle error naming the entry", err)
	}

	// Recovery.
	src.setFailAll(nil)
	src.set("/prod/db/password", "new")
	clk.Advance(time.Minute)
	if got := mustGet(t, e); got != "new" {
		t.Fatalf("after recovery: got %q, want new", got)
	}
	if !strings.Contains(logs.String(), "refresh succeeded again") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}

func TestErrorWithoutValueIsBackedOff(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10)
	e := cache.MustAdd(c, src.spec("/prod/missing"))
	_, err := e.Get(context.Background())
	var ce *cache.Error
	if !errors.As(err, &ce) || !errors.Is(err, cache.ErrNotFound) {
		t.Fatalf("got %v, want a *cache.Error wrapping ErrNotFound", err)
	}
	if ce.Key.Name != "/prod/missing" || !strings.Contains(err.Error(), "test:/prod/missing") {
		t.Fatalf("error does not name the entry: %v", err)
	}
	if _, err2 := e.Get(context.Background()); !errors.Is(err2, cache.ErrNotFound) {
		t.Fatalf("during backoff: got %v, want the same error", err2)
	}
	if got := src.nCalls(); got != 1 {
		t.Fatalf("fetches: got %d, want 1", got)
	}
	// A forced refresh does not wait for the backoff.
	src.set("/prod/missing", "here")
	if v, err := e.Refresh(context.Background()); err != nil || v != "here" {
		t.Fatalf("Refresh: got %q, %v", v, err)
	}
}

// A caller that has already given up starts no fetch, and leaves nothing
// behind for the next.
func TestCancelledCallerStartsNothing(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "a", "v")
	e := cache.MustAdd(c, src.spec("a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := src.nCalls(); got != 0 {
		t.Fatalf("fetches for a cancelled caller: got %d, want 0", got)
	}
	if got := mustGet(t, e); got != "v" {
		t.Fatalf("next read: got %q, want v", got)
	}
	if st := e.Stats(); st.Errors != 0 {
		t.Fatalf("errors counted for a cancelled caller: got %d, want 0", st.Errors)
	}
}

func TestJitterSpreadsExpiry(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk, func(o *cache.Options) { o.Jitter = 0.2 })
	src := newSource(1)
	var entries []*cache.Entry[string]
	for i := range 200 {
		name := fmt.Sprint(i)
		src.set(name, name)
		entries = append(entries, cache.MustAdd(c, src.spec(name), cache.MaxAge(100*time.Second)))
	}
	if err := c.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	expiredAt := map[int]int{} // seconds -> entries first found expired
	for s := 1; s <= 100; s++ {
		clk.Advance(time.Second)
		for _, e := range entries {
			st := e.Stats()
			if st.Age == time.Duration(s)*time.Second {
				if _, err := e.Get(context.Background()); err != nil {
					t.Fatal(err)
				}
				if e.Stats().Age == 0 {
					expiredAt[s]++
				}
			}
		}
	}
	var total, minS, maxS int
	minS = 1000
	for s, n := range expiredAt {
		total += n
		minS, maxS = min(minS, s), max(maxS, s)
	}
	if total != 200 {
		t.Fatalf("entries refreshed within 100s: got %d, want 200", total)
	}
	if minS < 80 || maxS > 100 {
		t.Fatalf("expiry spread: got %ds..%ds, want within 80s..100s", minS, maxS)
	}
	if len(expiredAt) < 10 {
		t.Fatalf("expiries fell in only %d distinct seconds; jitter should spread them", len(expiredAt))
	}
}

func TestKeysDoNotCollide(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	ssmLike := newSource(10, "/prod/x/pw", "prod", "/dev/x/pw", "dev")
	secretLike := newSource(20, "pw", "secret")
	prod := cache.MustAdd(c, ssmLike.spec("/prod/x/pw"))
	dev := cache.MustAdd(c, ssmLike.spec("/dev/x/pw"))
	sec := cache.MustAdd(c, cache.Spec[string]{Key: cache.Key{Source: "secretsmanager", Name: "pw"}, Fetcher: secretLike})
	for _, tt := range []struct {
		e    *cache.Entry[string]
		want string
	}{{prod, "prod"}, {dev, "dev"}, {sec, "secret"}} {
		if got := mustGet(t, tt.e); got != tt.want {
			t.Fatalf("%s: got %q, want %q", tt.e.Key(), got, tt.want)
		}
	}
}

func TestDecodeErrorsNameTheEntry(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "/app/config", `{"port": "not a number"}`)
	type config struct{ Port int }
	e := cache.MustAdd(c, cache.JSON[config](src.spec("/app/config")))
	_, err := e.Get(context.Background())
	if !errors.Is(err, cache.ErrDecode) || !strings.Contains(err.Error(), "/app/config") {
		t.Fatalf("got %v, want ErrDecode naming /app/config", err)
	}

	good := cache.MustAdd(c, cache.JSON[config](newSource(1, "/app/ok", `{"Port": 8080}`).spec("/app/ok")))
	if got := mustGet(t, good); got.Port != 8080 {
		t.Fatalf("got %+v, want Port 8080", got)
	}
	b64 := cache.MustAdd(c, cache.Base64(newSource(1, "/app/bin", "aGVsbG8=").spec("/app/bin")))
	if got := mustGet(t, b64); string(got) != "hello" {
		t.Fatalf("base64: got %q, want hello", got)
	}
	bad64 := cache.MustAdd(c, cache.Base64(newSource(1, "/app/bad", "%%%").spec("/app/bad")))
	if _, err := bad64.Get(context.Background()); !errors.Is(err, cache.ErrDecode) {
		t.Fatalf("bad base64: got %v, want ErrDecode", err)
	}
}

func TestBrokenSpecsAndFetchers(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	ctx := context.Background()

	// What cannot work is refused when it is added.
	refused := []struct {
		name string
		add  func() error
		want string
	}{
		{"spec error", func() error {
			_, err := cache.Add(c, cache.Spec[string]{Key: cache.Key{Source: "s3", Name: "s3:/nope"}, Err: errors.New(`malformed S3 URI "s3:/nope"`)})
			return err
		}, `malformed S3 URI "s3:/nope"`},
		{"no fetcher", func() error {
			_, err := cache.Add(c, cache.Spec[string]{Key: cache.Key{Source: "x", Name: "y"}})
			return err
		}, "x:y: no fetcher"},
		{"no key", func() error {
			_, err := cache.Add(c, cache.Spec[string]{Fetcher: newSource(1)})
			return err
		}, "needs a source and a name"},
		{"fetcher not comparable", func() error {
			_, err := cache.Add(c, cache.Spec[string]{Key: cache.Key{Source: "x", Name: "z"}, Fetcher: funcFetcher(nil)})
			return err
		}, "not comparable"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.add(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}

	// What fails only when fetched fails its reads.
	panics := cache.MustAdd(c, cache.Func("boom", func(context.Context) (string, error) { panic("kaboom") }))
	if _, err := panics.Get(ctx); err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("panicking loader: got %v, want an error saying kaboom", err)
	}
	silent := cache.MustAdd(c, cache.Spec[string]{Key: cache.Key{Source: "x", Name: "silent"}, Fetcher: &silentFetcher{}})
	if _, err := silent.Get(ctx); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("fetcher that answers nothing: got %v, want an error saying no answer", err)
	}
	decodePanics := cache.MustAdd(c, cache.Map(cache.Func("parse", func(context.Context) (string, error) { return "x", nil }),
		func(string) (int, error) { panic("bad parser") }))
	if _, err := decodePanics.Get(ctx); !errors.Is(err, cache.ErrDecode) || !strings.Contains(err.Error(), "bad parser") {
		t.Fatalf("panicking decoder: got %v, want ErrDecode saying bad parser", err)
	}
	wrongType := cache.MustAdd(c, cache.Spec[int]{Key: cache.Key{Source: "x", Name: "t"}, Fetcher: newSource(1, "t", "str")})
	if _, err := wrongType.Get(ctx); !errors.Is(err, cache.ErrDecode) {
		t.Fatalf("wrong raw type: got %v, want ErrDecode", err)
	}
}

// funcFetcher is a Fetcher that cannot be compared.
type funcFetcher func(context.Context, []*cache.Request)

func (f funcFetcher) Fetch(ctx context.Context, reqs []*cache.Request) { f(ctx, reqs) }

type silentFetcher struct{}

func (*silentFetcher) Fetch(context.Context, []*cache.Request) {}

func TestUnchangedKeepsValue(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(1, "obj", "etag1")
	src.notMod = true
	e := cache.MustAdd(c, src.spec("obj"), cache.MaxAge(time.Minute))
	mustGet(t, e)
	clk.Advance(time.Minute)
	mustGet(t, e)
	st := e.Stats()
	if st.Refreshes != 2 || st.Unchanged != 1 || st.Age != 0 {
		t.Fatalf("stats: got refreshes=%d unchanged=%d age=%s, want 2, 1, 0", st.Refreshes, st.Unchanged, st.Age)
	}
}

func TestFuncLoader(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	n := 0
	e := cache.MustAdd(c, cache.Func("counter", func(context.Context) (int, error) { n++; return n, nil }), cache.MaxAge(time.Second))
	if got := mustGet(t, e); got != 1 {
		t.Fatalf("got %d, want 1", got)
	}
	if got := mustGet(t, e); got != 1 {
		t.Fatalf("cached: got %d, want 1", got)
	}
	clk.Advance(time.Second)
	if got := mustGet(t, e); got != 2 {
		t.Fatalf("after expiry: got %d, want 2", got)
	}
}

func TestWarmRefreshesWhatExpiresSoon(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk, func(o *cache.Options) { o.WarmupHorizon = 5 * time.Minute })
	src := newSource(10, "short", "1", "long", "1", "never", "1")
	short := cache.MustAdd(c, src.spec("short"), cache.MaxAge(time.Minute))
	long := cache.MustAdd(c, src.spec("long"), cache.MaxAge(time.Hour))
	cache.MustAdd(c, src.spec("never"))
	n, err := c.Warm(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("first warm: got %d, %v; want 3 entries", n, err)
	}
	if got := src.nCalls(); got != 1 {
		t.Fatalf("fetches: got %d, want 1", got)
	}
	n, _ = c.Warm(context.Background())
	if n != 2 { // short and never (max age 60s) expire within 5m; long does not
		t.Fatalf("second warm: got %d, want 2", n)
	}
	if !short.Stats().Loaded || long.Stats().Refreshes != 1 {
		t.Fatalf("got short=%+v long=%+v", short.Stats(), long.Stats())
	}
}

func TestStatsLogAsAGroup(t *testing.T) {
	clk := fakeclock.New()
	c, logs := newCache(t, clk)
	e := cache.MustAdd(c, newSource(1, "/a/b", "v").spec("/a/b"))
	mustGet(t, e)
	mustGet(t, e)
	slog.New(slog.NewTextHandler(logs, nil)).Info("cache", "entry", e.Stats())
	for _, want := range []string{"entry.key=test:/a/b", "entry.hits=1", "entry.misses=1", "entry.refreshes=1"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log line lacks %q: %s", want, logs.String())
		}
	}
}
