package purgetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/retry"
)

// Harness is what the suite needs from a provider's test.
type Harness struct {
	// New returns a purger whose backend consults b on every call it
	// receives, and which retries with policy. Required. It is called once
	// per check, with a fresh Backend.
	New func(t *testing.T, b *Backend, policy retry.Policy) purge.Purger

	// Item returns the i-th of many distinct items of the kind the provider
	// batches. Default: the path "/purgetest/<i>.html".
	Item func(i int) purge.Item
	// Key returns the key the backend reports for item. Default: its Value.
	Key func(item purge.Item) string
	// Limit is the most items the provider takes in one call. Default: the
	// purger's Limits for the kind of Item(0); the suite fails without one.
	Limit int
	// Concurrency is the most calls one Purge sends at once. Default 1.
	Concurrency int
	// Unsupported is an item the provider cannot purge, if it has one; the
	// zero value skips that check.
	Unsupported purge.Item
}

// Sleeper is a retry.Policy Sleep that records the waits and returns at
// once, moving a fake clock so the policy's budget still counts.
type Sleeper struct {
	clock *fakeclock.Clock

	mu    sync.Mutex
	waits []time.Duration
}

// NewSleeper returns a Sleeper over a new fake clock.
func NewSleeper() *Sleeper { return &Sleeper{clock: fakeclock.New()} }

// Now tells the fake clock's time: it moves only by the waits Sleep
// records. Give it to a provider's own clock option, so that what the
// provider times agrees with the policy.
func (s *Sleeper) Now() time.Time { return s.clock.Now() }

// Sleep records d, advances the clock and returns ctx's error, if any.
func (s *Sleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clock.Advance(d)
	return nil
}

// Waits returns the waits so far.
func (s *Sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// Policy returns a retry policy that sleeps through s: 100ms initial
// backoff, at most 5 attempts, a budget of an hour of fake time.
func (s *Sleeper) Policy() retry.Policy {
	return retry.Policy{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Budget: time.Hour,
		MaxAttempts: 5, Sleep: s.Sleep, Now: s.Now}
}

// Run runs every check of the contract in purge.Purger against the
// harness's provider, each as a subtest.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("purgetest: Harness.New is required")
	}
	if h.Item == nil {
		h.Item = func(i int) purge.Item {
			return purge.Item{Kind: purge.KindPath, Value: fmt.Sprintf("/purgetest/%d.html", i)}
		}
	}
	if h.Key == nil {
		h.Key = func(it purge.Item) string { return it.Value }
	}
	if h.Concurrency <= 0 {
		h.Concurrency = 1
	}
	s := &suite{h: h}
	for _, c := range []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Batching", s.batching},
		{"PartialFailure", s.partialFailure},
		{"CancelledBefore", s.cancelledBefore},
		{"CancelledDuring", s.cancelledDuring},
		{"RetryThrottled", s.retryThrottled},
		{"RetryServerError", s.retryServerError},
		{"NoRetryInvalid", s.noRetryInvalid},
		{"GiveUp", s.giveUp},
		{"Unsupported", s.unsupported},
		{"Concurrent", s.concurrent},
	} {
		t.Run(c.name, c.fn)
	}
}

type suite struct {
	h Harness
}

type env struct {
	b     *Backend
	sleep *Sleeper
	p     purge.Purger
	limit int
}

func (s *suite) env(t *testing.T, tweak ...func(*retry.Policy)) *env {
	t.Helper()
	e := &env{b: NewBackend(), sleep: NewSleeper()}
	policy := e.sleep.Policy()
	for _, f := range tweak {
		f(&policy)
	}
	e.p = s.h.New(t, e.b, policy)
	if e.p == nil {
		t.Fatal("purgetest: Harness.New returned a nil purger")
	}
	e.limit = s.h.Limit
	if e.limit <= 0 {
		if l, ok := e.p.(purge.Limiter); ok {
			e.limit = l.Limits().ItemsPerCall[s.h.Item(0).Kind]
		}
	}
	if e.limit <= 0 {
		t.Fatalf("purgetest: no per-call limit for %s items: set Harness.Limit or implement purge.Limiter", s.h.Item(0).Kind)
	}
	return e
}

func (s *suite) items(from, n int) []purge.Item {
	out := make([]purge.Item, n)
	for i := range out {
		out[i] = s.h.Item(from + i)
	}
	return out
}

// checkShape checks what every Result must be: one outcome per item, in order.
func checkShape(t *testing.T, res *purge.Result, items []purge.Item) {
	t.Helper()
	if res == nil {
		t.Fatal("got a nil Result, want one")
	}
	if res.Provider == "" {
		t.Error("got Result.Provider \"\", want the provider's name")
	}
	if len(res.Outcomes) != len(items) {
		t.Fatalf("got %d outcomes, want %d (one per item)", len(res.Outcomes), len(items))
	}
	for i, o := range res.Outcomes {
		if o.Item != items[i] {
			t.Fatalf("outcome %d: got item %v, want %v (outcomes in the order given)", i, o.Item, items[i])
		}
		if !o.OK && o.Err == "" {
			t.Errorf("outcome %d (%v): failed with no message", i, o.Item)
		}
	}
}

func checkAllOK(t *testing.T, res *purge.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Purge: got error %v, want nil", err)
	}
	for _, o := range res.Outcomes {
		if !o.OK {
			t.Fatalf("outcome %v: got failed (%s), want ok", o.Item, o.Err)
		}
	}
}

func checkPartial(t *testing.T, err error, failed, total int) {
	t.Helper()
	var pe *purge.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("Purge: got error %v (%T), want a *purge.PartialError", err, err)
	}
	if pe.Failed != failed || pe.Total != total {
		t.Errorf("PartialError: got %d of %d failed, want %d of %d", pe.Failed, pe.Total, failed, total)
	}
}

// Batching: N items over the limit go in ceil(N/limit) calls, none over the
// limit, each item exactly once.
func (s *suite) batching(t *testing.T) {
	e := s.env(t)
	n := 2*e.limit + 1
	items := s.items(0, n)
	res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
	checkShape(t, res, items)
	checkAllOK(t, res, err)

	calls := e.b.Calls()
	if want := (n + e.limit - 1) / e.limit; len(calls) != want {
		t.Errorf("calls received: got %d, want %d (%d items, %d per call)", len(calls), want, n, e.limit)
	}
	seen := map[string]int{}
	for i, c := range calls {
		if len(c) > e.limit {
			t.Errorf("call %d: got %d items, want at most %d", i, len(c), e.limit)
		}
		for _, k := range c {
			seen[k]++
		}
	}
	for _, it := range items {
		if k := s.h.Key(it); seen[k] != 1 {
			t.Errorf("item %v (key %q): sent %d times, want once", it, k, seen[k])
		}
	}
	if got, want := len(res.Calls), len(calls); got != want {
		t.Errorf("Result.Calls: got %d, want %d (one per call sent)", got, want)
	}
	sum := 0
	for _, c := range res.Calls {
		sum += c.Items
		if c.Attempts != 1 {
			t.Errorf("call %+v: got %d attempts, want 1", c, c.Attempts)
		}
	}
	if sum != n {
		t.Errorf("Result.Calls items: got %d in all, want %d", sum, n)
	}
	if w := e.sleep.Waits(); len(w) != 0 {
		t.Errorf("waits: got %v, want none", w)
	}
}

// PartialFailure: one call refused for good, the others served; the items of
// the refused call fail with the provider's message.
func (s *suite) partialFailure(t *testing.T) {
	e := s.env(t)
	n := 2*e.limit + 1
	items := s.items(0, n)
	bad := s.h.Key(items[e.limit])
	const msg = "purgetest refused this batch"
	e.b.Fail(Fault{Kind: Invalid, Times: -1, Key: bad, Message: msg})

	res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
	checkShape(t, res, items)

	var refused []string
	for _, c := range e.b.Calls() {
		if slices.Contains(c, bad) {
			if refused != nil {
				t.Fatalf("the refused call was sent again, want it sent once (not retried)")
			}
			refused = c
		}
	}
	if refused == nil {
		t.Fatalf("no call carried %q", bad)
	}
	for _, o := range res.Outcomes {
		inBad := slices.Contains(refused, s.h.Key(o.Item))
		switch {
		case inBad && o.OK:
			t.Errorf("outcome %v: got ok, want failed (its call was refused)", o.Item)
		case inBad && !strings.Contains(o.Err, msg):
			t.Errorf("outcome %v: got error %q, want the provider's message %q in it", o.Item, o.Err, msg)
		case !inBad && !o.OK:
			t.Errorf("outcome %v: got failed (%s), want ok", o.Item, o.Err)
		}
	}
	checkPartial(t, err, len(refused), n)
	if w := e.sleep.Waits(); len(w) != 0 {
		t.Errorf("waits: got %v, want none (a refusal is not retried)", w)
	}
}

// CancelledBefore: a context already done sends nothing; every item fails
// with the context's error.
func (s *suite) cancelledBefore(t *testing.T) {
	e := s.env(t)
	items := s.items(0, e.limit+1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := e.p.Purge(ctx, purge.Request{Items: items})
	if err == nil {
		t.Fatal("Purge: got nil error, want one")
	}
	checkShape(t, res, items)
	if got := len(e.b.Calls()); got != 0 {
		t.Errorf("calls received: got %d, want 0", got)
	}
	for _, o := range res.Outcomes {
		if o.OK || !strings.Contains(o.Err, context.Canceled.Error()) {
			t.Errorf("outcome %v: got ok=%v err=%q, want failed with %q", o.Item, o.OK, o.Err, context.Canceled)
		}
	}
}

// CancelledDuring: the context ends while the first call is on the wire;
// no new call starts, and the items never sent fail with the context's error.
func (s *suite) cancelledDuring(t *testing.T) {
	e := s.env(t)
	batches := s.h.Concurrency + 2
	n := batches * e.limit
	items := s.items(0, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.b.OnCall(func(n int) {
		if n == 1 {
			cancel()
		}
	})
	res, err := e.p.Purge(ctx, purge.Request{Items: items})
	if err == nil {
		t.Fatal("Purge: got nil error, want one")
	}
	checkShape(t, res, items)
	calls := e.b.Calls()
	if len(calls) > s.h.Concurrency {
		t.Errorf("calls received: got %d, want at most %d (none started after the cancel)", len(calls), s.h.Concurrency)
	}
	sent := map[string]bool{}
	for _, c := range calls {
		for _, k := range c {
			sent[k] = true
		}
	}
	unsent := 0
	for _, o := range res.Outcomes {
		if sent[s.h.Key(o.Item)] {
			continue
		}
		unsent++
		if o.OK || !strings.Contains(o.Err, context.Canceled.Error()) {
			t.Errorf("unsent outcome %v: got ok=%v err=%q, want failed with %q", o.Item, o.OK, o.Err, context.Canceled)
		}
	}
	if unsent == 0 {
		t.Error("every item was sent after the context was cancelled, want some left unsent")
	}
}

// RetryThrottled: throttled twice with Retry-After, then served; the waits
// honour Retry-After.
func (s *suite) retryThrottled(t *testing.T) {
	e := s.env(t)
	items := s.items(0, 1)
	const after = 7 * time.Second
	e.b.Fail(Fault{Kind: Throttled, Times: 2, RetryAfter: after, Message: "purgetest slow down"})
	res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
	checkShape(t, res, items)
	checkAllOK(t, res, err)
	if got := len(e.b.Calls()); got != 3 {
		t.Errorf("calls received: got %d, want 3 (two throttled, one served)", got)
	}
	waits := e.sleep.Waits()
	if len(waits) != 2 {
		t.Fatalf("waits: got %v, want 2", waits)
	}
	for _, w := range waits {
		if w < after {
			t.Errorf("wait: got %v, want at least %v (Retry-After)", w, after)
		}
	}
	if len(res.Calls) == 1 && res.Calls[0].Attempts != 3 {
		t.Errorf("Call.Attempts: got %d, want 3", res.Calls[0].Attempts)
	}
}

// RetryServerError: a 5xx twice, then served.
func (s *suite) retryServerError(t *testing.T) {
	e := s.env(t)
	items := s.items(0, 1)
	e.b.Fail(Fault{Kind: Unavailable, Times: 2, Message: "purgetest unavailable"})
	res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
	checkShape(t, res, items)
	checkAllOK(t, res, err)
	if got := len(e.b.Calls()); got != 3 {
		t.Errorf("calls received: got %d, want 3 (two failed, one served)", got)
	}
	if w := e.sleep.Waits(); len(w) != 2 {
		t.Errorf("waits: got %v, want 2", w)
	}
}

// NoRetryInvalid: a refusal is final: one call, the item fails with the
// provider's message, no wait.
func (s *suite) noRetryInvalid(t *testing.T) {
	e := s.env(t)
	items := s.items(0, 1)
	const msg = "purgetest invalid item"
	e.b.Fail(Fault{Kind: Invalid, Times: 1, Message: msg})
	res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
	checkShape(t, res, items)
	checkPartial(t, err, 1, 1)
	if got := len(e.b.Calls()); got != 1 {
		t.Errorf("calls received: got %d, want 1", got)
	}
	if o := res.Outcomes[0]; o.OK || !strings.Contains(o.Err, msg) {
		t.Errorf("outcome: got ok=%v err=%q, want failed with %q", o.OK, o.Err, msg)
	}
	if w := e.sleep.Waits(); len(w) != 0 {
		t.Errorf("waits: got %v, want none", w)
	}
}

// GiveUp: throttled for ever; the policy's attempts end it and the item
// fails with the provider's message.
func (s *suite) giveUp(t *testing.T) {
	e := s.env(t, func(p *retry.Policy) { p.MaxAttempts = 3 })
	items := s.items(0, 1)
	const msg = "purgetest still busy"
	e.b.Fail(Fault{Kind: Throttled, Times: -1, Message: msg})
	res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
	checkShape(t, res, items)
	checkPartial(t, err, 1, 1)
	if got := len(e.b.Calls()); got != 3 {
		t.Errorf("calls received: got %d, want 3 (the policy's MaxAttempts)", got)
	}
	if o := res.Outcomes[0]; o.OK || !strings.Contains(o.Err, msg) {
		t.Errorf("outcome: got ok=%v err=%q, want failed with %q", o.OK, o.Err, msg)
	}
}

// Unsupported: an item of a kind the provider lacks fails with
// ErrUnsupported; the rest goes on.
func (s *suite) unsupported(t *testing.T) {
	if s.h.Unsupported == (purge.Item{}) {
		t.Skip("the provider supports every kind the harness names")
	}
	e := s.env(t)
	items := []purge.Item{s.h.Item(0), s.h.Unsupported, s.h.Item(1)}
	res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
	checkShape(t, res, items)
	checkPartial(t, err, 1, 3)
	for i, o := range res.Outcomes {
		if i == 1 {
			if o.OK || !strings.Contains(o.Err, purge.ErrUnsupported.Error()) {
				t.Errorf("outcome %v: got ok=%v err=%q, want failed with %q", o.Item, o.OK, o.Err, purge.ErrUnsupported)
			}
		} else if !o.OK {
			t.Errorf("outcome %v: got failed (%s), want ok", o.Item, o.Err)
		}
	}
	for _, c := range e.b.Calls() {
		if slices.Contains(c, s.h.Key(s.h.Unsupported)) {
			t.Errorf("the unsupported item was sent: %v", c)
		}
	}
}

// Concurrent: one purger used by many goroutines (run it under -race).
func (s *suite) concurrent(t *testing.T) {
	e := s.env(t)
	const workers, each = 8, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items := s.items(w*each, each)
			res, err := e.p.Purge(context.Background(), purge.Request{Items: items})
			if err != nil {
				errs <- fmt.Errorf("worker %d: %w", w, err)
				return
			}
			if len(res.Outcomes) != each {
				errs <- fmt.Errorf("worker %d: got %d outcomes, want %d", w, len(res.Outcomes), each)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]int{}
	for _, c := range e.b.Calls() {
		for _, k := range c {
			seen[k]++
		}
	}
	for i := range workers * each {
		if k := s.h.Key(s.h.Item(i)); seen[k] != 1 {
			t.Errorf("item %q: sent %d times, want once", k, seen[k])
		}
	}
}
