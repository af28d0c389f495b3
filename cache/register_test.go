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

// Each entry is registered once; what would have been a panic at cold
// start or a silent second entry is an error from Add.
func TestAddOnce(t *testing.T) {
	c, _ := newCache(t, fakeclock.New())
	src := newSource(10, "/prod/x/pw", "prod", "/dev/x/pw", "dev")
	prod := cache.MustAdd(c, src.spec("/prod/x/pw"), cache.MaxAge(time.Minute))

	again, err := cache.Add(c, src.spec("/prod/x/pw"))
	if err != nil || again != prod {
		t.Fatalf("the same key again: got %p, %v; want the same entry %p", again, err, prod)
	}
	if again, err := cache.Add(c, src.spec("/prod/x/pw"), cache.MaxAge(time.Minute), cache.Name("pw")); err != nil || again != prod {
		t.Fatalf("the same key with the same options: got %p, %v; want the same entry", again, err)
	}
	if got := len(c.Stats()); got != 1 {
		t.Fatalf("entries: got %d, want 1", got)
	}

	refused := []struct {
		name string
		add  func() error
		want string
	}{
		{"same key, another type", func() error {
			_, err := cache.Add(c, cache.Spec[int]{Key: src.spec("/prod/x/pw").Key, Fetcher: src})
			return err
		}, "test:/prod/x/pw is already added as a string entry, not int"},
		{"same key, another max age", func() error {
			_, err := cache.Add(c, src.spec("/prod/x/pw"), cache.MaxAge(time.Hour))
			return err
		}, "test:/prod/x/pw is already added with max age 1m0s, not 1h0m0s"},
		{"same key, another name", func() error {
			_, err := cache.Add(c, src.spec("/prod/x/pw"), cache.Name("password"))
			return err
		}, `test:/prod/x/pw is already added with the name "pw", not "password"`},
		{"another key, a name given to another entry", func() error {
			_, err := cache.Add(c, src.spec("/dev/x/pw"), cache.Name("pw"))
			return err
		}, `test:/prod/x/pw and test:/dev/x/pw are both given the name "pw"`},
		{"negative max age", func() error {
			_, err := cache.Add(c, src.spec("/dev/x/pw"), cache.MaxAge(-time.Second))
			return err
		}, "MaxAge(-1s)"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.add()
			if !errors.Is(err, cache.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
	if got := len(c.Stats()); got != 1 {
		t.Fatalf("entries after the refusals: got %d, want 1", got)
	}

	t.Run("MustAdd panics with the error", func(t *testing.T) {
		defer func() {
			err, _ := recover().(error)
			if !errors.Is(err, cache.ErrInvalid) || !strings.Contains(err.Error(), `"pw"`) {
				t.Fatalf("got panic %v, want the error naming the short name pw", err)
			}
		}()
		cache.MustAdd(c, src.spec("/dev/x/pw"), cache.Name("pw"))
	})
}

// Default short names may repeat: entries are keyed by their full key, and
// only Lookup needs a name to be unique.
func TestShortNames(t *testing.T) {
	c, _ := newCache(t, fakeclock.New())
	src := newSource(10, "/prod/x/pw", "prod", "/dev/x/pw", "dev", "/test/x/pw", "test", "/prod/y/user", "u")
	prod := cache.MustAdd(c, src.spec("/prod/x/pw"))
	dev := cache.MustAdd(c, src.spec("/dev/x/pw"))
	for _, tt := range []struct {
		e    *cache.Entry[string]
		want string
	}{{prod, "prod"}, {dev, "dev"}} {
		if got := mustGet(t, tt.e); got != tt.want {
			t.Fatalf("%s: got %q, want %q", tt.e.Key(), got, tt.want)
		}
		if got := tt.e.Name(); got != "pw" {
			t.Fatalf("%s: short name: got %q, want pw", tt.e.Key(), got)
		}
	}

	_, err := cache.Lookup[string](c, "pw")
	if want := `cache: short name "pw" is ambiguous: test:/prod/x/pw and test:/dev/x/pw; give one a cache.Name`; fmt.Sprint(err) != want {
		t.Fatalf("Lookup of a repeated short name: got %v, want %q", err, want)
	}
	cache.MustAdd(c, src.spec("/test/x/pw"))
	_, err = cache.Lookup[string](c, "pw")
	if want := `cache: short name "pw" is ambiguous: test:/prod/x/pw, test:/dev/x/pw and test:/test/x/pw; give one a cache.Name`; fmt.Sprint(err) != want {
		t.Fatalf("Lookup of a short name three entries have: got %v, want %q", err, want)
	}

	// A name given with Name is unique, and wins over default ones.
	if _, err := cache.Add(c, src.spec("/prod/x/pw"), cache.Name("pw")); err != nil {
		t.Fatalf("naming an entry what it is named by default: got %v, want no error", err)
	}
	if got, err := cache.Lookup[string](c, "pw"); got != prod || err != nil {
		t.Fatalf("Lookup of the name given to /prod/x/pw: got %v, %v; want its entry", got, err)
	}
	named := []struct {
		name string
		key  string
		opt  string
		want string
	}{
		{"a default name taken by Name", "/dev/x/pw", "pw", `test:/prod/x/pw and test:/dev/x/pw are both given the name "pw"`},
		{"a new entry, a name taken by Name", "/prod/y/user", "pw", `test:/prod/x/pw and test:/prod/y/user are both given the name "pw"`},
	}
	for _, tt := range named {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cache.Add(c, src.spec(tt.key), cache.Name(tt.opt))
			if !errors.Is(err, cache.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
	if got := len(c.Stats()); got != 3 {
		t.Fatalf("entries: got %d, want 3", got)
	}
}

func TestLookup(t *testing.T) {
	c, _ := newCache(t, fakeclock.New())
	src := newSource(10, "/prod/app/key", "k")
	added := cache.MustAdd(c, src.spec("/prod/app/key"))
	tests := []struct {
		name    string
		lookup  func() (any, error)
		want    any
		wantErr string
	}{
		{"by short name", func() (any, error) { return cache.Lookup[string](c, "key") }, added, ""},
		{"another type", func() (any, error) { return cache.Lookup[[]byte](c, "key") }, (*cache.Entry[[]byte])(nil),
			`cache: entry "key" (test:/prod/app/key) holds string, not []uint8`},
		{"no such name", func() (any, error) { return cache.Lookup[string](c, "nope") }, (*cache.Entry[string])(nil),
			`cache: no entry is named "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.lookup()
			if got != tt.want || fmt.Sprint(err) != map[bool]string{true: "<nil>", false: tt.wantErr}[tt.wantErr == ""] {
				t.Fatalf("got %v, %v; want %v, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		opts cache.Options
		want string
	}{
		{"max age", cache.Options{MaxAge: -time.Second}, "cache: Options.MaxAge is -1s"},
		{"jitter negative", cache.Options{Jitter: -0.2}, "cache: Options.Jitter is -0.2"},
		{"jitter too large", cache.Options{Jitter: 0.9}, "cache: Options.Jitter is 0.9"},
		{"max stale", cache.Options{MaxStale: -time.Minute}, "cache: Options.MaxStale is -1m0s"},
		{"fetch timeout", cache.Options{FetchTimeout: -1}, "cache: Options.FetchTimeout is negative"},
		{"warm-up horizon", cache.Options{WarmupHorizon: -1}, "cache: Options.WarmupHorizon is negative"},
		{"fetch entries", cache.Options{MaxFetchEntries: -1}, "cache: Options.MaxFetchEntries is negative"},
		{"fetch bytes", cache.Options{MaxFetchBytes: -1}, "cache: Options.MaxFetchBytes is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cache.New(tt.opts)
			if c != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want no cache and an error saying %q", c, err, tt.want)
			}
		})
	}
	t.Run("option functions apply to a copy", func(t *testing.T) {
		opts := cache.Options{MaxAge: time.Minute}
		if _, err := cache.New(opts, func(o *cache.Options) { o.MaxAge = -time.Second }); err == nil {
			t.Fatal("got no error for the MaxAge an option function set")
		}
		if opts.MaxAge != time.Minute {
			t.Fatalf("the caller's Options: got MaxAge %s, want it untouched (1m)", opts.MaxAge)
		}
	})
}

// Zero means the default everywhere; "never" and "off" have names.
func TestZeroOptionsAndNamedOff(t *testing.T) {
	failing := func(t *testing.T, o func(*cache.Options)) (*cache.Entry[string], *source, *fakeclock.Clock) {
		t.Helper()
		clk := fakeclock.New()
		c, _ := newCache(t, clk, o)
		src := newSource(10, "a", "v")
		e := cache.MustAdd(c, src.spec("a"), cache.MaxAge(time.Minute))
		mustGet(t, e)
		src.setFailAll(errors.New("outage"))
		return e, src, clk
	}
	t.Run("MaxStale 0 is 5 minutes", func(t *testing.T) {
		e, _, clk := failing(t, func(o *cache.Options) { o.MaxStale = 0 })
		clk.Advance(time.Minute + 5*time.Minute - time.Second)
		if v, err := e.Get(context.Background()); v != "v" || err != nil {
			t.Fatalf("4m59s past expiry: got %q, %v; want the stale value", v, err)
		}
		clk.Advance(time.Second)
		if _, err := e.Get(context.Background()); err == nil {
			t.Fatal("5m past expiry: got the stale value, want the error")
		}
	})
	t.Run("NeverStale", func(t *testing.T) {
		e, _, clk := failing(t, func(o *cache.Options) { o.MaxStale = cache.NeverStale })
		clk.Advance(time.Minute)
		if _, err := e.Get(context.Background()); err == nil || !strings.Contains(err.Error(), "outage") {
			t.Fatalf("at expiry: got %v, want the fetch's error", err)
		}
	})
	t.Run("NoJitter", func(t *testing.T) {
		e, src, clk := failing(t, func(o *cache.Options) { o.Jitter = cache.NoJitter })
		src.setFailAll(nil)
		clk.Advance(time.Minute - time.Nanosecond)
		mustGet(t, e)
		if got := src.nCalls(); got != 1 {
			t.Fatalf("fetches just before the max age: got %d, want 1", got)
		}
	})
	t.Run("Jitter 0 is 10%", func(t *testing.T) {
		clk := fakeclock.New()
		c, _ := newCache(t, clk, func(o *cache.Options) { o.Jitter = 0 })
		src := newSource(1)
		var entries []*cache.Entry[string]
		for i := range 50 {
			name := fmt.Sprint(i)
			src.set(name, name)
			entries = append(entries, cache.MustAdd(c, src.spec(name), cache.MaxAge(100*time.Second)))
		}
		if err := c.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(90*time.Second - time.Nanosecond)
		for _, e := range entries {
			mustGet(t, e)
		}
		if got := src.nRequests(); got != 50 {
			t.Fatalf("values fetched before 90s: got %d, want 50 (jitter takes at most 10%%)", got)
		}
		clk.Advance(10 * time.Second)
		for _, e := range entries {
			mustGet(t, e)
		}
		if got := src.nRequests(); got != 100 {
			t.Fatalf("values fetched by 100s: got %d, want 100", got)
		}
	})
}
