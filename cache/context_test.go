package cache_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/fakeclock"
)

func TestNewContextLoadsEveryEntry(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	params := newSource(10, "/prod/app/db_url", "postgres://db", "/prod/app/flags", `{"beta":true}`)
	secrets := newSource(20, "prod/api-key", "k-123")
	dbURL := cache.MustAdd(c, params.spec("/prod/app/db_url"), cache.MaxAge(time.Minute))
	type flags struct{ Beta bool }
	fl := cache.MustAdd(c, cache.JSON[flags](params.spec("/prod/app/flags")))
	key := cache.MustAdd(c, cache.Spec[string]{Key: cache.Key{Source: "secretsmanager", Name: "prod/api-key"}, Fetcher: secrets})

	for i := range 3 {
		ctx, err := c.NewContext(context.Background())
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		url, ok1 := dbURL.From(ctx)
		f, ok2 := fl.From(ctx)
		k, ok3 := key.From(ctx)
		if !ok1 || !ok2 || !ok3 || url != "postgres://db" || !f.Beta || k != "k-123" {
			t.Fatalf("invocation %d: got %q %v, %+v %v, %q %v; want every value", i, url, ok1, f, ok2, k, ok3)
		}
	}
	if params.nCalls() != 1 || secrets.nCalls() != 1 {
		t.Fatalf("fetches: got params %d, secrets %d; want 1 and 1", params.nCalls(), secrets.nCalls())
	}
	if got := len(params.calls[0]); got != 2 {
		t.Fatalf("parameters in the one call: got %d, want 2", got)
	}
	if st := dbURL.Stats(); st.Hits != 2 || st.Misses != 1 {
		t.Fatalf("stats: got hits=%d misses=%d, want 2 and 1", st.Hits, st.Misses)
	}
	if _, ok := dbURL.From(context.Background()); ok {
		t.Fatal("From outside NewContext: got ok, want not")
	}

	// The values are the same for the whole invocation, while the entry
	// itself is refreshed.
	ctx, err := c.NewContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	params.set("/prod/app/db_url", "postgres://new")
	clk.Advance(time.Minute)
	if got := mustGet(t, dbURL); got != "postgres://new" {
		t.Fatalf("Get after expiry: got %q, want postgres://new", got)
	}
	if got, _ := dbURL.From(ctx); got != "postgres://db" {
		t.Fatalf("From in the same invocation: got %q, want postgres://db", got)
	}

	// An entry added after the invocation began is not in it.
	late := cache.MustAdd(c, params.spec("/prod/app/late"))
	if _, ok := late.From(ctx); ok {
		t.Fatal("From of an entry added after NewContext: got ok, want not")
	}
}

func TestNewContextFailsWhenAnEntryHasNoValue(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "/a", "1")
	cache.MustAdd(c, src.spec("/a"))
	cache.MustAdd(c, src.spec("/prod/missing"))
	_, err := c.NewContext(context.Background())
	if !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), "/prod/missing") {
		t.Fatalf("got %v, want ErrNotFound naming /prod/missing", err)
	}
}

// Contexts of two caches nest: each entry is read from its own cache's.
func TestNewContextNests(t *testing.T) {
	clk := fakeclock.New()
	outer, _ := newCache(t, clk)
	inner, _ := newCache(t, clk)
	src := newSource(10, "/a", "outer", "/b", "inner")
	a := cache.MustAdd(outer, src.spec("/a"))
	b := cache.MustAdd(inner, src.spec("/b"))
	ctx, err := outer.NewContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ctx, err = inner.NewContext(ctx); err != nil {
		t.Fatal(err)
	}
	va, oka := a.From(ctx)
	vb, okb := b.From(ctx)
	if va != "outer" || vb != "inner" || !oka || !okb {
		t.Fatalf("got %q %v, %q %v; want outer and inner", va, oka, vb, okb)
	}
}
