package cache_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/fakeclock"
)

func TestStoreEvictsLeastRecentlyUsed(t *testing.T) {
	s := cache.NewStore(cache.StoreOptions[string, int]{MaxEntries: 3})
	s.Set("a", 1)
	s.Set("b", 2)
	s.Set("c", 3)
	s.Get("a") // a is now the most recently used; b the least
	s.Set("d", 4)
	if _, ok := s.Get("b"); ok {
		t.Fatal("b should have been evicted")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := s.Get(k); !ok {
			t.Fatalf("%s was evicted, want kept", k)
		}
	}
	if st := s.Stats(); st.Len != 3 || st.Evictions != 1 {
		t.Fatalf("stats: got %+v, want len 3, 1 eviction", st)
	}
}

func TestStoreBoundsBytes(t *testing.T) {
	s := cache.NewStore(cache.StoreOptions[string, []byte]{
		MaxBytes: 100,
		Size:     func(_ string, v []byte) int64 { return int64(len(v)) },
	})
	for i := range 10 {
		s.Set(fmt.Sprint(i), make([]byte, 30))
		if s.Bytes() > 100 {
			t.Fatalf("after %d sets: %d bytes held, bound 100", i+1, s.Bytes())
		}
	}
	if got := s.Len(); got != 3 {
		t.Fatalf("entries: got %d, want 3", got)
	}
	s.Set("huge", make([]byte, 101))
	if _, ok := s.Get("huge"); ok {
		t.Fatal("a value over MaxBytes on its own was stored")
	}
	s.Set("7", make([]byte, 10)) // replacing resizes
	if got := s.Bytes(); got != 70 {
		t.Fatalf("bytes after replacing: got %d, want 70", got)
	}
	s.Delete("7")
	if got := s.Bytes(); got != 60 {
		t.Fatalf("bytes after delete: got %d, want 60", got)
	}
}

func TestStoreTTL(t *testing.T) {
	clk := fakeclock.New()
	s := cache.NewStore(cache.StoreOptions[string, string]{TTL: time.Minute, Clock: clk})
	s.Set("session", "alice")
	clk.Advance(59 * time.Second)
	if v, ok := s.Get("session"); !ok || v != "alice" {
		t.Fatalf("before TTL: got %q, %v", v, ok)
	}
	clk.Advance(time.Second)
	if _, ok := s.Get("session"); ok {
		t.Fatal("after TTL: still there")
	}
	if s.Len() != 0 {
		t.Fatalf("len after expiry: %d", s.Len())
	}
}

func TestStoreGetOrLoadSharesLoads(t *testing.T) {
	s := cache.NewStore(cache.StoreOptions[string, string]{})
	var loads atomic.Int32
	gate := make(chan struct{})
	load := func(ctx context.Context, k string) (string, error) {
		loads.Add(1)
		<-gate
		return "user:" + k, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			v, err := s.GetOrLoad(context.Background(), "u1", load)
			if err != nil || v != "user:u1" {
				t.Errorf("got %q, %v", v, err)
			}
		})
	}
	for s.Stats().Misses < 20 { // every caller is waiting on the one load
		runtime.Gosched()
	}
	close(gate)
	wg.Wait()
	if got := loads.Load(); got != 1 {
		t.Fatalf("loads: got %d, want 1", got)
	}
	// A failed load stores nothing.
	_, err := s.GetOrLoad(context.Background(), "u2", func(context.Context, string) (string, error) {
		return "", errors.New("db down")
	})
	if err == nil || s.Len() != 1 {
		t.Fatalf("failed load: err %v, len %d", err, s.Len())
	}
}
