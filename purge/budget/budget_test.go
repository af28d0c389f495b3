package budget_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/purge/budget"
)

// Each Wait takes its tokens from every bucket it names at once, waiting
// for the slowest; a bucket not configured limits nothing.
func TestWait(t *testing.T) {
	buckets := map[string]budget.Bucket{
		"requests": {Size: 2, PerSecond: 10},           // 2, then one every 100ms
		"url":      budget.Per(100, 6000, time.Minute), // 100, then 100 a second
		"tag":      budget.Per(10, 60, time.Minute),    // 10, then one a second
	}
	tests := []struct {
		name  string
		calls [][]budget.Cost
		want  []time.Duration // each call's wait
	}{
		{"requests bucket", [][]budget.Cost{{{"requests", 1}}, {{"requests", 1}}, {{"requests", 1}}, {{"requests", 1}}},
			[]time.Duration{0, 0, 100 * time.Millisecond, 100 * time.Millisecond}},
		{"the slower bucket decides", [][]budget.Cost{{{"requests", 1}, {"url", 100}}, {{"requests", 1}, {"url", 50}}},
			[]time.Duration{0, 500 * time.Millisecond}},
		{"an unknown bucket is unlimited", [][]budget.Cost{{{"cpcode", 1000}}, {{"cpcode", 1000}}}, []time.Duration{0, 0}},
		{"rounded up to the millisecond", [][]budget.Cost{{{"tag", 10}}, {{"tag", 1}}, {{"url", 100}}, {{"url", 1}}},
			[]time.Duration{0, time.Second, 0, 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New()
			b, err := budget.New(budget.Options{Buckets: buckets, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			for i, costs := range tt.calls {
				before := clock.Now()
				if err := b.Wait(context.Background(), costs...); err != nil {
					t.Fatalf("call %d: got %v, want nil", i, err)
				}
				if got := clock.Now().Sub(before); got != tt.want[i] {
					t.Errorf("call %d: waited %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

// A cost larger than its bucket fails at once, and takes nothing from the
// other buckets; a Wait whose context ends gives its tokens back.
func TestWaitRefusals(t *testing.T) {
	clock := fakeclock.New()
	b, err := budget.New(budget.Options{Buckets: map[string]budget.Bucket{"requests": {Size: 1, PerSecond: 1}, "url": {Size: 10, PerSecond: 1}}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(context.Background(), budget.Cost{Bucket: "requests", N: 1}, budget.Cost{Bucket: "url", N: 11}); !errors.Is(err, budget.ErrTooLarge) {
		t.Fatalf("11 URLs from a bucket of 10: got %v, want ErrTooLarge", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Wait(ctx, budget.Cost{Bucket: "requests", N: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v, want context.Canceled", err)
	}
	before := clock.Now()
	if err := b.Wait(context.Background(), budget.Cost{Bucket: "requests", N: 1}, budget.Cost{Bucket: "url", N: 10}); err != nil {
		t.Fatal(err)
	}
	if got := clock.Now().Sub(before); got != 0 {
		t.Errorf("after the refusals: waited %v, want 0 (nothing was taken)", got)
	}
}

// Tokens that would come after the context's deadline are not waited for:
// Wait fails at once and takes nothing.
func TestWaitPastDeadline(t *testing.T) {
	// In a synctest bubble: the context's deadline and the budget's clock
	// are the bubble's fake time.
	synctest.Test(t, func(t *testing.T) {
		b, err := budget.New(budget.Options{Buckets: map[string]budget.Bucket{"url": {Size: 10, PerSecond: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(context.Background(), budget.Cost{Bucket: "url", N: 10}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		start := time.Now()
		if err := b.Wait(ctx, budget.Cost{Bucket: "url", N: 5}); !errors.Is(err, budget.ErrPastDeadline) {
			t.Fatalf("5 tokens in 5s with 4s left: got %v, want ErrPastDeadline", err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("waited %v, want 0", got)
		}
		if err := b.Wait(ctx, budget.Cost{Bucket: "url", N: 3}); err != nil {
			t.Fatalf("3 tokens in 3s with 4s left: got %v, want nil", err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("waited %v, want 3s (the refused request took nothing)", got)
		}
	})
}

func TestNewRefusesEmptyBuckets(t *testing.T) {
	for _, bk := range []budget.Bucket{{Size: 0, PerSecond: 1}, {Size: 1, PerSecond: 0}, {Size: 1, PerSecond: -1}} {
		if _, err := budget.New(budget.Options{Buckets: map[string]budget.Bucket{"x": bk}}); err == nil {
			t.Errorf("New with %+v: got nil, want an error", bk)
		}
	}
}
