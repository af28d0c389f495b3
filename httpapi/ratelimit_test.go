package httpapi

import (
	"strconv"
	"testing"
	"time"
)

// The limiters stay within maxLimiters, and full buckets go first.
func TestLimiterBounded(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := newLimiter(func() time.Time { return now })
	for i := range maxLimiters + 10 {
		if ok, _ := l.allow(strconv.Itoa(i), 1, 5); !ok {
			t.Fatalf("key %d: refused, want its first request allowed", i)
		}
	}
	if got := len(l.byID); got > maxLimiters {
		t.Errorf("got %d limiters, want at most %d", got, maxLimiters)
	}
	now = now.Add(10 * time.Second) // every bucket is full again
	l.allow("new", 1, 5)
	if got := len(l.byID); got != 1 {
		t.Errorf("after the buckets refilled: got %d limiters, want 1 (the full ones dropped)", got)
	}
}
