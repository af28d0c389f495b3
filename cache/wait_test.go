package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// The caller leading a shared fetch is cancelled: the others waiting on
// the same fetch still get its value, with or without a stale value cached.
func TestCancelledLeaderDoesNotFailWaiters(t *testing.T) {
	for _, stale := range []bool{false, true} {
		t.Run(map[bool]string{false: "no value yet", true: "stale value cached"}[stale], func(t *testing.T) {
			clk := fakeclock.New()
			c, _ := newCache(t, clk)
			src := newSource(10, "a", "v1")
			e := cache.MustAdd(c, src.spec("a"), cache.MaxAge(time.Minute))
			if stale {
				mustGet(t, e)
				clk.Advance(time.Minute)
				src.set("a", "v2")
			}
			src.mu.Lock()
			src.gate = make(chan struct{})
			src.mu.Unlock()
			misses := e.Stats().Misses

			leaderCtx, cancel := context.WithCancel(context.Background())
			leader := make(chan error, 1)
			go func() { _, err := e.Get(leaderCtx); leader <- err }()
			waitMisses(e, misses+1)
			type result struct {
				v   string
				err error
			}
			waiter := make(chan result, 1)
			go func() {
				v, err := e.Get(context.Background())
				waiter <- result{v, err}
			}()
			waitMisses(e, misses+2)
			cancel()
			if err := <-leader; !errors.Is(err, context.Canceled) {
				t.Fatalf("leader: got %v, want context.Canceled", err)
			}
			close(src.gate)
			got := <-waiter
			want := map[bool]string{false: "v1", true: "v2"}[stale]
			if got.err != nil || got.v != want {
				t.Fatalf("waiter: got %q, %v; want %q", got.v, got.err, want)
			}
			if st := e.Stats(); st.Errors != 0 {
				t.Fatalf("errors: got %d, want 0", st.Errors)
			}
		})
	}
}

// A waiter whose own context ends gets its own context's error, even with
// a stale value cached; the fetch goes on, and the next read has its value.
func TestWaiterGetsItsOwnContextError(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	src := newSource(10, "a", "v1")
	e := cache.MustAdd(c, src.spec("a"), cache.MaxAge(time.Minute))
	mustGet(t, e)
	clk.Advance(time.Minute)
	src.set("a", "v2")
	src.mu.Lock()
	src.gate = make(chan struct{})
	src.mu.Unlock()

	leader := make(chan string, 1)
	go func() { v, _ := e.Get(context.Background()); leader <- v }()
	waitMisses(e, 2)
	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan error, 1)
	go func() { _, err := e.Get(ctx); waiter <- err }()
	waitMisses(e, 3)
	cancel()
	err := <-waiter
	var ce *cache.Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ce) || ce.Key.Name != "a" {
		t.Fatalf("waiter: got %v, want context.Canceled naming entry a", err)
	}
	close(src.gate)
	if got := <-leader; got != "v2" {
		t.Fatalf("leader: got %q, want v2", got)
	}
	if got := mustGet(t, e); got != "v2" {
		t.Fatalf("next read: got %q, want v2", got)
	}
}

// The fetch ends when its caller's deadline has passed, and that is not
// counted against the source. (How waiters extend it: run_internal_test.go.)
func TestFetchEndsWithItsCallers(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(t, clk)
	f := &blockingFetcher{ended: make(chan error, 1)}
	e := cache.MustAdd(c, cache.Spec[string]{Key: cache.Key{Source: "test", Name: "slow"}, Fetcher: f})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := e.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller: got %v, want context.DeadlineExceeded", err)
	}
	if err := <-f.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the fetch's context: got %v, want it cancelled", err)
	}
	if d := f.gotDeadline; !d.IsZero() {
		t.Fatalf("the fetch's context has the deadline %s; want none, only cancellation", d)
	}
	if st := e.Stats(); st.Errors != 0 || st.LastError != "" {
		t.Fatalf("a fetch its caller gave up on: got errors=%d last=%q, want 0 and none", st.Errors, st.LastError)
	}
}

// blockingFetcher answers only when its context ends, and says when.
type blockingFetcher struct {
	ended       chan error
	gotDeadline time.Time
}

func (f *blockingFetcher) Fetch(ctx context.Context, reqs []*cache.Request) {
	f.gotDeadline, _ = ctx.Deadline()
	<-ctx.Done()
	for _, r := range reqs {
		r.Fail(ctx.Err())
	}
	f.ended <- ctx.Err()
}
