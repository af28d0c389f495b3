package httpapi

import (
	"sync"
	"time"
)

// limiter is a token bucket per key: each holds up to burst requests and
// refills at rate a second. Safe for concurrent use.
type limiter struct {
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens      float64
	last        time.Time
	rate, burst float64
}

// maxBuckets bounds the map: keys are configured tokens (and "loopback"),
// so it only grows as tokens rotate; past it, full buckets are dropped.
const maxBuckets = 10000

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, buckets: map[string]*bucket{}}
}

// allow takes one request from key's bucket, which refills at rate a
// second up to burst. When the bucket is empty it returns false and how
// long until a request would be allowed.
func (l *limiter) allow(key string, rate float64, burst int) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: float64(burst), last: now}
		l.buckets[key] = b
	}
	b.rate, b.burst = rate, float64(burst) // the configuration may have changed
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

func (l *limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
}

func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= b.burst {
			delete(l.buckets, k)
		}
	}
}
