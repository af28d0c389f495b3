package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/fakeclock"
)

func mustFetch(t *testing.T, c *cache.Cache, s cache.Spec[string], opts ...cache.EntryOption) string {
	t.Helper()
	v, err := cache.Fetch(context.Background(), c, s, opts...)
	if err != nil {
		t.Fatalf("Fetch %s: %v", s.Key, err)
	}
	return v
}

// Repeated names share one entry; due entries of the same source ride
// along in the call a miss makes.
func TestFetchSharesOneEntryPerKey(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10)
	for i := range 5 {
		src.set(fmt.Sprint("/tenant/", i), fmt.Sprint("plan-", i))
	}
	for range 20 {
		for i := range 5 {
			if got, want := mustFetch(t, c, src.spec(fmt.Sprint("/tenant/", i)), cache.MaxAge(time.Minute)), fmt.Sprint("plan-", i); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	}
	if got := src.nRequests(); got != 5 {
		t.Fatalf("values fetched for 100 reads of 5 names: got %d, want 5", got)
	}
	if got := len(c.Stats()); got != 5 {
		t.Fatalf("entries held: got %d, want 5", got)
	}
	// All five expire together: the first miss brings the other four along.
	clk.Advance(time.Minute)
	calls := src.nCalls()
	for i := range 5 {
		mustFetch(t, c, src.spec(fmt.Sprint("/tenant/", i)), cache.MaxAge(time.Minute))
	}
	if got := src.nCalls() - calls; got != 1 {
		t.Fatalf("calls to refresh 5 due names: got %d, want 1", got)
	}
}

// A call's max age bounds the age of the value it gets.
func TestFetchMaxAgePerCall(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "/app/x", "v1")
	spec := src.spec("/app/x")
	steps := []struct {
		advance time.Duration
		maxAge  time.Duration
		set     string
		want    string
		calls   int
	}{
		{0, time.Minute, "", "v1", 1},
		{30 * time.Second, time.Minute, "v2", "v1", 1},
		{0, 10 * time.Second, "", "v2", 2}, // the value is 30s old: too old for this call
		{5 * time.Second, time.Minute, "v3", "v2", 2},
		{0, cache.AlwaysFetch, "", "v3", 3},
		{0, 0, "v4", "v3", 3}, // 0: the cache's default max age (60s)
		{59 * time.Second, time.Minute, "", "v3", 3},
		{time.Second, 0, "", "v4", 4},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		if st.set != "" {
			src.set("/app/x", st.set)
		}
		if got := mustFetch(t, c, spec, cache.MaxAge(st.maxAge)); got != st.want {
			t.Fatalf("step %d: got %q, want %q", i, got, st.want)
		}
		if got := src.nCalls(); got != st.calls {
			t.Fatalf("step %d: fetches: got %d, want %d", i, got, st.calls)
		}
	}
}

// However many distinct names are asked for, the entries Fetch keeps stay
// within Options.MaxFetchEntries and Options.MaxFetchBytes.
func TestFetchIsBounded(t *testing.T) {
	tests := []struct {
		name    string
		opts    func(*cache.Options)
		value   string
		maxHeld int
	}{
		{"by count", func(o *cache.Options) { o.MaxFetchEntries = 100 }, "v", 100},
		{"by bytes", func(o *cache.Options) { o.MaxFetchBytes = 1000 }, strings.Repeat("x", 100), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := fakeclock.New()
			c, _ := newCache(t, clk, tt.opts)
			src := newSource(1)
			added := cache.MustAdd(c, src.spec("/added"))
			src.set("/added", "kept")
			for i := range 2000 {
				name := fmt.Sprint("/user/", i)
				src.set(name, tt.value)
				if got := mustFetch(t, c, src.spec(name)); got != tt.value {
					t.Fatalf("name %d: got %q", i, got)
				}
				if held := len(c.Stats()) - 1; held > tt.maxHeld {
					t.Fatalf("after %d names: %d entries held, bound %d", i+1, held, tt.maxHeld)
				}
			}
			if held := len(c.Stats()) - 1; held != tt.maxHeld {
				t.Fatalf("entries held: got %d, want %d", held, tt.maxHeld)
			}
			// The most recent names are still there; the first are gone.
			calls := src.nCalls()
			mustFetch(t, c, src.spec("/user/1999"))
			if got := src.nCalls() - calls; got != 0 {
				t.Fatalf("calls for the last name: got %d, want 0", got)
			}
			mustFetch(t, c, src.spec("/user/0"))
			if got := src.nCalls() - calls; got != 1 {
				t.Fatalf("calls for the first name: got %d, want 1", got)
			}
			// An added entry is never evicted.
			if got := mustGet(t, added); got != "kept" {
				t.Fatalf("added entry: got %q, want kept", got)
			}
		})
	}
}

// An entry added with Add is the one Fetch finds for its key.
func TestFetchFindsAddedEntry(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "/app/x", "v")
	e := cache.MustAdd(c, src.spec("/app/x"))
	mustGet(t, e)
	if got := mustFetch(t, c, src.spec("/app/x")); got != "v" {
		t.Fatalf("got %q, want v", got)
	}
	if st := e.Stats(); st.Hits != 1 || src.nCalls() != 1 {
		t.Fatalf("got hits=%d fetches=%d, want the added entry's hit and 1 fetch", st.Hits, src.nCalls())
	}
	if got := len(c.Stats()); got != 1 {
		t.Fatalf("entries: got %d, want 1", got)
	}
}

func TestFetchRefusals(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "/app/x", "v")
	mustFetch(t, c, src.spec("/app/x"))
	ctx := context.Background()
	if _, err := cache.Fetch(ctx, c, cache.Spec[int]{Key: src.spec("/app/x").Key, Fetcher: src}); !errors.Is(err, cache.ErrInvalid) ||
		!strings.Contains(err.Error(), "test:/app/x is held as a string entry, not int") {
		t.Fatalf("another type: got %v, want ErrInvalid saying so", err)
	}
	bad := cache.Spec[string]{Key: cache.Key{Source: "s3", Name: "s3:/nope"}, Err: errors.New("malformed S3 URI")}
	if _, err := cache.Fetch(ctx, c, bad); err == nil || !strings.Contains(err.Error(), "malformed S3 URI") {
		t.Fatalf("a spec that could not be built: got %v, want its error", err)
	}
	if _, err := cache.Fetch(ctx, c, src.spec("/app/y"), cache.MaxAge(-time.Second)); !errors.Is(err, cache.ErrInvalid) {
		t.Fatalf("a negative max age: got %v, want ErrInvalid", err)
	}
	if got := len(c.Stats()); got != 1 {
		t.Fatalf("entries after the refusals: got %d, want 1", got)
	}
}
