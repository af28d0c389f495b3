package lambdacache_test

import (
	"context"
	"testing"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
)

type rawHandler struct{ read func(context.Context) }

func (h rawHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	h.read(ctx)
	return payload, nil
}

// An invocation through the wrapper with five warm entries: the wrapper's
// own cost, without aws-lambda-go's JSON decoding of the event.
func BenchmarkHandlerHit(b *testing.B) {
	c, err := cache.New(cache.Options{})
	if err != nil {
		b.Fatal(err)
	}
	src := newSource("/a", "1", "/b", "2", "/c", "3", "/d", "4", "/e", "5")
	var first *cache.Entry[string]
	for _, n := range []string{"/a", "/b", "/c", "/d", "/e"} {
		e := cache.MustAdd(c, src.spec(n))
		if first == nil {
			first = e
		}
	}
	h := lambdacache.Handler(c, rawHandler{read: func(ctx context.Context) {
		if v, ok := first.From(ctx); !ok || v != "1" {
			b.Fatal("entry not in context")
		}
	}})
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
