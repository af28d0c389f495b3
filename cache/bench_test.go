package cache_test

import (
	"context"
	"testing"

	"github.com/offload-dev/offload/cache"
)

func benchCache(b *testing.B) *cache.Cache {
	c, err := cache.New(cache.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// A cached hit: the cost every invocation pays for a warm value.
func BenchmarkGetHit(b *testing.B) {
	c := benchCache(b)
	e := cache.MustAdd(c, newSource(10, "/prod/app/db_url", "postgres://db").spec("/prod/app/db_url"))
	ctx := context.Background()
	if _, err := e.Get(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetHitParallel(b *testing.B) {
	c := benchCache(b)
	e := cache.MustAdd(c, newSource(10, "/prod/app/db_url", "postgres://db").spec("/prod/app/db_url"))
	ctx := context.Background()
	if _, err := e.Get(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A one-shot get by name of a cached value.
func BenchmarkFetchHit(b *testing.B) {
	c := benchCache(b)
	spec := newSource(10, "/prod/app/db_url", "postgres://db").spec("/prod/app/db_url")
	ctx := context.Background()
	if _, err := cache.Fetch(ctx, c, spec); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cache.Fetch(ctx, c, spec); err != nil {
			b.Fatal(err)
		}
	}
}

// An invocation's values with five warm entries: what lambdacache's
// handler adds to an invocation, without aws-lambda-go's JSON decoding.
func BenchmarkNewContextHit(b *testing.B) {
	c := benchCache(b)
	src := newSource(10, "/a", "1", "/b", "2", "/c", "3", "/d", "4", "/e", "5")
	var first *cache.Entry[string]
	for _, n := range []string{"/a", "/b", "/c", "/d", "/e"} {
		e := cache.MustAdd(c, src.spec(n))
		if first == nil {
			first = e
		}
	}
	ctx := context.Background()
	if _, err := c.NewContext(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ictx, err := c.NewContext(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if v, ok := first.From(ictx); !ok || v != "1" {
			b.Fatal("entry not in context")
		}
	}
}
