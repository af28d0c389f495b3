// Package budget spends a provider's published rate limits on the client
// side. A Budget is a set of token buckets, each a golang.org/x/time/rate
// limiter; a request waits until every bucket it draws on holds its
// tokens, and takes them all at once. Every purge made with one account
// shares one Budget, so a large backfill waits for its tokens instead of
// collecting 429s, and the batches of a busy server share the account's
// budget rather than each assuming all of it.
package budget

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Bucket is one token bucket: it holds Size tokens when full and gains
// PerSecond tokens a second.
type Bucket struct {
	Size      int
	PerSecond float64
}

// Per returns a bucket of size tokens refilled at n tokens every d:
// Per(10000, 12000, time.Minute) is Akamai's URL bucket.
func Per(size int, n float64, d time.Duration) Bucket {
	return Bucket{Size: size, PerSecond: n / d.Seconds()}
}

// Clock tells the time and waits for it.
type Clock interface {
	Now() time.Time
	// SleepUntil returns nil when the clock reaches t, or ctx's error if
	// ctx ends first. The wait is until a time, not for a duration, so a
	// fake clock shared by concurrent waiters can move to the latest of
	// their times.
	SleepUntil(ctx context.Context, t time.Time) error
}

// Options configure a Budget.
type Options struct {
	// Buckets are the budget's token buckets, by name. A Cost naming a
	// bucket not here is not limited. Default none: nothing is limited.
	Buckets map[string]Bucket
	// Clock tells the time and waits. Default the real clock.
	Clock Clock
}

// Budget is a set of token buckets. It is safe for concurrent use.
type Budget struct {
	clock    Clock
	mu       sync.Mutex // makes a request's reservations in all its buckets one step
	limiters map[string]*rate.Limiter
	buckets  map[string]Bucket

	waitMu sync.Mutex
	waited time.Duration
	waits  int
}

// Cost is what one request draws: N tokens of the named bucket.
type Cost struct {
	Bucket string
	N      int
}

// ErrTooLarge is wrapped by Wait's error for a cost larger than its
// bucket: it could never be paid.
var ErrTooLarge = errors.New("budget: more tokens than the bucket holds")

// ErrPastDeadline is wrapped by Wait's error when the tokens would come
// only after the context's deadline.
var ErrPastDeadline = errors.New("budget: no tokens before the deadline")

// New returns a Budget, after applying optFns to a copy of opts. Buckets
// start full.
func New(opts Options, optFns ...func(*Options)) (*Budget, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	b := &Budget{clock: opts.Clock, limiters: map[string]*rate.Limiter{}, buckets: map[string]Bucket{}}
	if b.clock == nil {
		b.clock = realClock{}
	}
	names := make([]string, 0, len(opts.Buckets))
	for name := range opts.Buckets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		bk := opts.Buckets[name]
		if bk.Size < 1 || !(bk.PerSecond > 0) {
			return nil, fmt.Errorf("budget: Options.Buckets[%q]: want a Size of 1 or more and a PerSecond above 0, got %d and %g", name, bk.Size, bk.PerSecond)
		}
		b.limiters[name] = rate.NewLimiter(rate.Limit(bk.PerSecond), bk.Size)
		b.buckets[name] = bk
	}
	return b, nil
}

// Unlimited returns a Budget with no buckets: Wait never waits.
func Unlimited() *Budget {
	b, _ := New(Options{})
	return b
}

// Wait returns when every cost can be paid, having paid them all at once,
// the way a provider's server takes a request's tokens. If ctx ends first
// it pays nothing and returns ctx's error; if the tokens would come only
// after ctx's deadline, it pays nothing and fails at once with an error
// wrapping ErrPastDeadline; a cost larger than its bucket fails at once
// with an error wrapping ErrTooLarge.
func (b *Budget) Wait(ctx context.Context, costs ...Cost) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	now := b.clock.Now()
	var rs []*rate.Reservation
	var delay time.Duration
	for _, c := range costs {
		l := b.limiters[c.Bucket]
		if l == nil || c.N <= 0 {
			continue
		}
		r := l.ReserveN(now, c.N)
		if !r.OK() {
			for _, r := range rs {
				r.CancelAt(now)
			}
			b.mu.Unlock()
			return fmt.Errorf("%w: %d from %q, which holds %d", ErrTooLarge, c.N, c.Bucket, b.buckets[c.Bucket].Size)
		}
		rs = append(rs, r)
		delay = max(delay, r.DelayFrom(now))
	}
	if delay <= 0 {
		b.mu.Unlock()
		return nil
	}
	// Whole milliseconds, rounded up: the server's bucket, refilled by its
	// own arithmetic, has the tokens by then.
	delay = (delay + time.Millisecond - 1).Truncate(time.Millisecond)
	if dl, ok := ctx.Deadline(); ok && now.Add(delay).After(dl) {
		// Waiting would only end at the deadline with nothing sent: say so
		// now, and leave the tokens to a request that can use them.
		for _, r := range rs {
			r.CancelAt(now)
		}
		b.mu.Unlock()
		return fmt.Errorf("%w: the tokens come in %s, after the deadline", ErrPastDeadline, delay)
	}
	b.mu.Unlock()
	if err := b.clock.SleepUntil(ctx, now.Add(delay)); err != nil {
		at := b.clock.Now()
		for _, r := range rs {
			r.CancelAt(at)
		}
		return err
	}
	b.waitMu.Lock()
	b.waited += delay
	b.waits++
	b.waitMu.Unlock()
	return nil
}

// Waited returns how many Waits had to wait, and for how long in all.
func (b *Budget) Waited() (waits int, total time.Duration) {
	b.waitMu.Lock()
	defer b.waitMu.Unlock()
	return b.waits, b.waited
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) error {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
