package cache_test

import (
	"context"
	"testing"

	"github.com/offload-dev/offload/cache"
)

// A cached hit: the cost every invocation pays for a warm value.
func BenchmarkGetHit(b *testing.B) {
	c := cache.New(cache.Options{})
	e := cache.Add(c, newSource(10, "/prod/app/db_url", "postgres://db").spec("/prod/app/db_url"))
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
	c := cache.New(cache.Options{})
	e := cache.Add(c, newSource(10, "/prod/app/db_url", "postgres://db").spec("/prod/app/db_url"))
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

type rawHandler struct{ read func(context.Context) }

func (h rawHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	h.read(ctx)
	return payload, nil
}

// An invocation through the handler wrapper with five warm entries: the
// wrapper's own cost, without aws-lambda-go's JSON decoding of the event.
func BenchmarkHandlerHit(b *testing.B) {
	c := cache.New(cache.Options{})
	src := newSource(10, "/a", "1", "/b", "2", "/c", "3", "/d", "4", "/e", "5")
	var entries []cache.Loadable
	var first *cache.Entry[string]
	for _, n := range []string{"/a", "/b", "/c", "/d", "/e"} {
		e := cache.Add(c, src.spec(n))
		if first == nil {
			first = e
		}
		entries = append(entries, e)
	}
	h := cache.Handler(c, rawHandler{read: func(ctx context.Context) {
		if v, ok := first.From(ctx); !ok || v != "1" {
			b.Fatal("entry not in context")
		}
	}}, entries...)
	ctx := context.Background()
	payload := []byte(`{}`)
	if _, err := h.Invoke(ctx, payload); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}
