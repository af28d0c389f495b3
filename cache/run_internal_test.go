package cache

import (
	"context"
	"testing"
	"time"
)

// A fetch's run lasts until the latest deadline of the callers that wait
// for it, or FetchTimeout after one without a deadline began to wait.
func TestRunExtendsToTheLastWaiter(t *testing.T) {
	const timeout = time.Hour
	at := func(d time.Duration) (context.Context, context.CancelFunc) {
		return context.WithDeadline(context.Background(), time.Now().Add(d))
	}
	c := &Cache{opts: Options{FetchTimeout: timeout}}

	first, cancel1 := at(2 * time.Hour)
	defer cancel1()
	r := c.startRun(first)
	defer r.end()
	want, _ := first.Deadline()
	check := func(step string) {
		t.Helper()
		r.mu.Lock()
		got := r.until
		r.mu.Unlock()
		if !got.Equal(want) {
			t.Fatalf("%s: the run lasts until %s, want %s", step, got, want)
		}
	}
	check("first caller")

	earlier, cancel2 := at(time.Minute)
	defer cancel2()
	r.extend(earlier)
	check("a waiter with an earlier deadline")

	later, cancel3 := at(3 * time.Hour)
	defer cancel3()
	r.extend(later)
	want, _ = later.Deadline()
	check("a waiter with a later deadline")

	before := time.Now()
	r.extend(context.Background()) // now + 1h: earlier than 3h, no change
	check("a waiter without a deadline, within the last deadline")

	r2 := c.startRun(context.Background())
	defer r2.end()
	r2.mu.Lock()
	got := r2.until
	r2.mu.Unlock()
	if got.Before(before.Add(timeout)) || got.After(time.Now().Add(timeout)) {
		t.Fatalf("a caller without a deadline: the run lasts until %s, want FetchTimeout (%s) from now", got, timeout)
	}
	if r2.ctx.Err() != nil {
		t.Fatalf("the run's context: got %v, want it live", r2.ctx.Err())
	}
	r2.end()
	if r2.ctx.Err() == nil {
		t.Fatal("the run's context after end: got live, want cancelled")
	}
}
