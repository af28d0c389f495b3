package httpapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter holds a token bucket (rate.Limiter) per key. Safe for concurrent
// use.
type limiter struct {
	now func() time.Time

	mu   sync.Mutex
	byID map[string]*rate.Limiter
}

// maxLimiters bounds the map: keys are configured tokens (and "loopback"),
// so it only grows as tokens rotate; past it, full buckets are dropped.
const maxLimiters = 10000

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, byID: map[string]*rate.Limiter{}}
}

// allow takes one request from key's bucket, which refills at r a second up
// to burst. When the bucket is empty it returns false and how long until a
// request would be allowed; the refused request takes nothing.
func (l *limiter) allow(key string, r float64, burst int) (bool, time.Duration) {
	now := l.now()
	lim := l.get(key, now, rate.Limit(r), burst)
	res := lim.ReserveN(now, 1)
	if !res.OK() { // burst < 1: never
		return false, time.Second
	}
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// wait returns how long until key's bucket holds a request, 0 when it
// does now; it takes nothing. A key never seen has a full bucket.
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	lim, ok := l.byID[key]
	l.mu.Unlock()
	if !ok {
		return 0
	}
	tokens := lim.TokensAt(l.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(lim.Limit()) * float64(time.Second))
}

// get returns key's limiter, made or set to r and burst: the configuration
// may have changed.
func (l *limiter) get(key string, now time.Time, r rate.Limit, burst int) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byID[key]
	if !ok {
		if len(l.byID) >= maxLimiters {
			l.prune(now)
		}
		lim = rate.NewLimiter(r, burst)
		l.byID[key] = lim
	}
	if lim.Limit() != r {
		lim.SetLimitAt(now, r)
	}
	if lim.Burst() != burst {
		lim.SetBurstAt(now, burst)
	}
	return lim
}

// prune drops the limiters whose bucket is full: to start again with a
// full bucket is the same. If that is not enough (more than maxLimiters
// tokens in use at once), it drops any. l.mu is held.
func (l *limiter) prune(now time.Time) {
	for k, lim := range l.byID {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(l.byID, k)
		}
	}
	for k := range l.byID {
		if len(l.byID) < maxLimiters {
			break
		}
		delete(l.byID, k)
	}
}
