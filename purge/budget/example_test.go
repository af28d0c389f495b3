package budget_test

import (
	"context"
	"fmt"
	"time"

	"github.com/offload-dev/offload/purge/budget"
)

// stepClock is a clock that moves only when waited on: a test's clock.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) SleepUntil(ctx context.Context, t time.Time) error {
	if t.After(c.now) {
		c.now = t
	}
	return ctx.Err()
}

// Akamai's request and URL buckets, spent by three requests of 4,000
// URLs: the third waits until the URL bucket holds 4,000 again. A real
// program leaves Options.Clock out.
func Example() {
	clock := &stepClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	b, _ := budget.New(budget.Options{Clock: clock, Buckets: map[string]budget.Bucket{
		"requests": {Size: 100, PerSecond: 50},
		"url":      budget.Per(10000, 12000, time.Minute),
	}})
	start := clock.Now()
	for range 3 {
		_ = b.Wait(context.Background(), budget.Cost{Bucket: "requests", N: 1}, budget.Cost{Bucket: "url", N: 4000})
		fmt.Println("sent at", clock.Now().Sub(start))
	}
	// Output:
	// sent at 0s
	// sent at 0s
	// sent at 10s
}
