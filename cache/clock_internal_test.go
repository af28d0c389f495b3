package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/fakeclock"
)

type countingFetcher struct{ n atomic.Int64 }

func (f *countingFetcher) Fetch(_ context.Context, reqs []*Request) {
	n := f.n.Add(1)
	for _, r := range reqs {
		r.Succeed(Raw{Value: n})
	}
}

// A hit reads a clock that lags the real one by up to a tick; a tick, or
// the goroutine stopping, brings the expiry back.
func TestCoarseClockHonoursExpiryWithinATick(t *testing.T) {
	clk := fakeclock.New()
	c, err := New(Options{Clock: clk, Jitter: NoJitter})
	if err != nil {
		t.Fatal(err)
	}
	ticks := 0
	k := &coarseClock{base: c.base, tick: func() { ticks++ }}
	k.source = func() int64 { return int64(clk.Now().Sub(k.base)) }
	c.coarse = k // the clock the hit path reads, stepped by hand

	f := &countingFetcher{}
	e := MustAdd(c, Spec[int64]{Key: Key{Source: "test", Name: "x"}, Fetcher: f}, MaxAge(10*time.Second))
	get := func() int64 {
		t.Helper()
		v, err := e.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	steps := []struct {
		name    string
		advance time.Duration
		tick    bool // the goroutine ticks
		stop    bool // the goroutine stops
		want    int64
	}{
		{"first read fetches", 0, false, false, 1},
		{"fresh", 5 * time.Second, true, false, 1},
		{"expired, but the clock has not ticked", 5 * time.Second, false, false, 1},
		{"the tick shows it expired", 0, true, false, 2},
		{"fresh again", 9 * time.Second, true, false, 2},
		{"expired; the goroutine stopped: the real clock is read", time.Second, false, true, 3},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		if st.tick {
			k.advance(k.source())
		}
		if st.stop {
			k.running.Store(false)
		}
		if got := get(); got != st.want {
			t.Fatalf("%s: got value %d, want %d", st.name, got, st.want)
		}
	}
	if ticks != 2 {
		t.Fatalf("goroutine starts: got %d, want 2 (at the first hit and after it stopped)", ticks)
	}
	if now, real := k.now.Load(), k.source(); now != real {
		t.Fatalf("after a read of the real clock: clock at %d, want %d", now, real)
	}
	k.advance(k.source() - 1)
	if now, real := k.now.Load(), k.source(); now != real {
		t.Fatalf("advance backwards: clock at %d, want it to stay at %d", now, real)
	}
}

// Readers on the system clock, with its goroutine ticking: values expire
// (the loader is called again and again) and the race detector sees the
// clock shared.
func TestCoarseClockUnderConcurrentReads(t *testing.T) {
	c, err := New(Options{Jitter: NoJitter})
	if err != nil {
		t.Fatal(err)
	}
	f := &countingFetcher{}
	e := MustAdd(c, Spec[int64]{Key: Key{Source: "test", Name: "x"}, Fetcher: f}, MaxAge(2*ClockGranularity))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			last := int64(0)
			for f.n.Load() < 5 {
				v, err := e.Get(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if v < last {
					t.Errorf("got value %d after %d: a reader went back in time", v, last)
					return
				}
				last = v
			}
		})
	}
	wg.Wait()
}
