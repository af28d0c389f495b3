package pipeline_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/ledger/bolt"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/retry"
)

// flakyPurger fails its first failures calls as a provider outage does,
// then purges; it records what it purged. Block, if set, is waited on by
// every call, after started is signalled.
type flakyPurger struct {
	mu       sync.Mutex
	failures int
	calls    int
	purged   []string
	started  chan struct{}
	block    chan struct{}
}

func (f *flakyPurger) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	if f.started != nil {
		select {
		case f.started <- struct{}{}:
		default:
		}
	}
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failures {
		return nil, retry.Retryable(errors.New("HTTP 503 Service Unavailable"))
	}
	res := &purge.Result{Provider: "test"}
	for _, it := range req.Items {
		f.purged = append(f.purged, it.Value)
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true})
	}
	return res, nil
}

func (f *flakyPurger) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.purged)
}

type rig struct {
	inbox  *pipeline.Inbox
	worker *pipeline.Worker
	ledger *bolt.Ledger
	clock  *fakeclock.Clock
}

// newRig builds a real pipeline on a bolt ledger, with the inbox in the
// same file, purging through p; optFns change the worker's options.
func newRig(t *testing.T, p purge.Purger, optFns ...func(*pipeline.WorkerOptions)) *rig {
	t.Helper()
	l, err := bolt.New(bolt.Options{Path: filepath.Join(t.TempDir(), "offload.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	clock := fakeclock.New()
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: l.DB(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	pl := newPipeline(t, pipeline.Options{
		Plan: plan.Config{
			Sites:   []plan.Site{{Name: "www", Bucket: "site", Index: "index.html", PurgeNew: true, Targets: []string{"edge"}}},
			Targets: []plan.Target{{Name: "edge", Provider: "varnish", BaseURL: "http://www.example.com"}},
		},
		Ledger:  l,
		Purgers: map[string]purge.Purger{"edge": p},
	})
	w, err := pipeline.NewWorker(pipeline.WorkerOptions{
		Inbox: in, Applier: pl, Now: clock.Now, After: clock.After, Window: 10 * time.Millisecond,
		Backoff: retry.Policy{Initial: time.Second, Max: 2 * time.Second},
	}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{inbox: in, worker: w, ledger: l, clock: clock}
}

func (r *rig) add(t *testing.T, body []byte) uint64 {
	t.Helper()
	id, err := r.inbox.Add(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (r *rig) stats(t *testing.T) pipeline.InboxStats {
	t.Helper()
	st, err := r.inbox.Stats(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestWorkerBacksOffThroughOutageThenPurges(t *testing.T) {
	ctx := context.Background()
	p := &flakyPurger{failures: 3}
	r := newRig(t, p)
	r.add(t, webhook("site", "a.html", "e1", "01"))
	r.add(t, webhook("site", "docs/a b.html", "e2", "02"))
	r.add(t, webhook("site", "ü.html", "e3", "03"))

	for attempt := 1; attempt <= 3; attempt++ {
		n, next, err := r.worker.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("attempt %d: took %d entries, want 3", attempt, n)
		}
		st := r.stats(t)
		if st.Depth != 3 || st.Failing != 3 {
			t.Fatalf("attempt %d: depth %d, failing %d; want 3 and 3", attempt, st.Depth, st.Failing)
		}
		for _, f := range st.Failures {
			if f.Attempts != attempt || !strings.Contains(f.LastErr, "503") {
				t.Errorf("attempt %d: entry %d has %d attempts, error %q; want %d and the 503", attempt, f.ID, f.Attempts, f.LastErr, attempt)
			}
		}
		// Backoff: at least Initial/2, at most Initial·2^(attempt-1) capped at Max.
		wait := next.Sub(r.clock.Now())
		ceiling := min(time.Second<<(attempt-1), 2*time.Second)
		if wait < 500*time.Millisecond || wait > ceiling {
			t.Errorf("attempt %d: retry in %v, want within [500ms, %v]", attempt, wait, ceiling)
		}
		// Not due before its time.
		if n, _, err := r.worker.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("attempt %d: before the backoff ran out, took %d entries (err %v); want 0", attempt, n, err)
		}
		r.clock.Advance(2 * time.Second)
	}
	if got := p.got(); len(got) != 0 {
		t.Fatalf("purged %v during the outage", got)
	}

	n, next, err := r.worker.RunOnce(ctx)
	if err != nil || n != 3 || !next.IsZero() {
		t.Fatalf("after recovery: took %d, next %v, err %v; want 3, zero, nil", n, next, err)
	}
	if st := r.stats(t); st.Depth != 0 {
		t.Fatalf("depth %d after recovery, want 0", st.Depth)
	}
	got := p.got()
	slices.Sort(got)
	want := []string{"http://www.example.com/%C3%BC.html", "http://www.example.com/a.html", "http://www.example.com/docs/a%20b.html"}
	if !slices.Equal(got, want) {
		t.Errorf("purged %v, want %v", got, want)
	}
	recs, err := r.ledger.Get(ctx, "site", []string{"a.html", "docs/a b.html", "ü.html"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Errorf("ledger holds %d records, want 3", len(recs))
	}
}

func TestWorkerInvalidEntryDoesNotBlockOthers(t *testing.T) {
	ctx := context.Background()
	p := &flakyPurger{}
	r := newRig(t, p)
	notJSON := r.add(t, []byte("this is not JSON"))
	notEvent := r.add(t, []byte(`{"hello":"world"}`))
	r.add(t, webhook("site", "one.html", "e1", "01"))

	for round := 1; round <= 9; round++ {
		if round == 6 {
			r.add(t, webhook("site", "two.html", "e2", "02"))
		}
		if _, _, err := r.worker.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		st := r.stats(t)
		if st.Depth != 2 || st.Failing != 2 || st.DeadLettered != 0 {
			t.Fatalf("round %d: depth %d, failing %d, dead %d; want the 2 invalid entries only, not dead yet", round, st.Depth, st.Failing, st.DeadLettered)
		}
		for _, f := range st.Failures {
			if f.ID != notJSON && f.ID != notEvent {
				t.Fatalf("round %d: entry %d is failing", round, f.ID)
			}
			if f.Attempts != round || !strings.Contains(f.LastErr, "invalid record") {
				t.Errorf("round %d: entry %d: %d attempts, error %q; want %d and an invalid record", round, f.ID, f.Attempts, f.LastErr, round)
			}
			// The backoff stops growing at Max.
			if wait := f.Next.Sub(r.clock.Now()); wait > 2*time.Second {
				t.Errorf("round %d: entry %d waits %v, more than the 2s max", round, f.ID, wait)
			}
		}
		r.clock.Advance(2 * time.Second)
	}
	got := p.got()
	slices.Sort(got)
	if want := []string{"http://www.example.com/one.html", "http://www.example.com/two.html"}; !slices.Equal(got, want) {
		t.Errorf("purged %v, want %v", got, want)
	}

	// The tenth failure (MaxAttempts' default) sets them aside.
	if _, next, err := r.worker.RunOnce(ctx); err != nil || !next.IsZero() {
		t.Fatalf("round 10: next %v, err %v; want nothing left to retry", next, err)
	}
	st := r.stats(t)
	if st.Depth != 0 || st.Failing != 0 || st.DeadLettered != 2 {
		t.Fatalf("after round 10: depth %d, failing %d, dead %d; want 0, 0, 2", st.Depth, st.Failing, st.DeadLettered)
	}
	dead, err := r.inbox.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 || dead[0].ID != notJSON || dead[1].ID != notEvent {
		t.Fatalf("dead letters %+v: want entries %d and %d, oldest first", dead, notJSON, notEvent)
	}
	for _, d := range dead {
		if d.Attempts != 10 || !strings.Contains(d.LastErr, "invalid record") || !d.Next.IsZero() {
			t.Errorf("dead letter %d: %d attempts, error %q, next %v; want 10, the invalid record, none", d.ID, d.Attempts, d.LastErr, d.Next)
		}
	}
	if d := dead[0]; d.Size != len("this is not JSON") {
		t.Errorf("dead letter %d: size %d, want %d", d.ID, d.Size, len("this is not JSON"))
	}
}

func TestWorkerDeadLetters(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		maxAge      time.Duration
		step        time.Duration // the clock moves this far between attempts
		wantDeadAt  int           // the attempt whose failure dead-letters the entry
	}{
		{"after max attempts", 3, 0, 2 * time.Second, 3},
		{"one attempt", 1, 0, 2 * time.Second, 1},
		{"older than max age", 100, time.Hour, 25 * time.Minute, 4},                  // received at 0; fails at 0, 25m, 50m, 75m
		{"max attempts before max age", 2, time.Hour, 25 * time.Minute, 2},           // attempts win
		{"past max age at the second failure", 100, time.Minute, 2 * time.Minute, 2}, // fails at 0, then at 2m
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t, &flakyPurger{failures: 1000}, func(o *pipeline.WorkerOptions) {
				o.MaxAttempts, o.MaxAge = tt.maxAttempts, tt.maxAge
				o.Backoff = retry.Policy{Initial: time.Second, Max: time.Second}
			})
			id := r.add(t, webhook("site", "a.html", "e1", "01"))
			for attempt := 1; attempt <= tt.wantDeadAt; attempt++ {
				if n, _, err := r.worker.RunOnce(ctx); err != nil || n != 1 {
					t.Fatalf("attempt %d: took %d, err %v; want 1 entry", attempt, n, err)
				}
				st := r.stats(t)
				wantDepth, wantDead := 1, 0
				if attempt == tt.wantDeadAt {
					wantDepth, wantDead = 0, 1
				}
				if st.Depth != wantDepth || st.DeadLettered != wantDead {
					t.Fatalf("after attempt %d: depth %d, dead %d; want %d and %d", attempt, st.Depth, st.DeadLettered, wantDepth, wantDead)
				}
				r.clock.Advance(tt.step)
			}
			dead, err := r.inbox.DeadLetters(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(dead) != 1 || dead[0].ID != id || dead[0].Attempts != tt.wantDeadAt || !strings.Contains(dead[0].LastErr, "503") {
				t.Fatalf("dead letters %+v: want entry %d after %d attempts, with the 503", dead, id, tt.wantDeadAt)
			}
			// Set aside, it is not attempted again.
			if n, _, err := r.worker.RunOnce(ctx); err != nil || n != 0 {
				t.Errorf("after dead-lettering: took %d (err %v), want 0", n, err)
			}
		})
	}
}

type applierFunc func(ctx context.Context, changes []event.Change) (*pipeline.Result, error)

func (f applierFunc) Apply(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
	return f(ctx, changes)
}

func TestWorkerBatchErrorKeepsEveryEntry(t *testing.T) {
	ctx := context.Background()
	broken := applierFunc(func(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
		if len(changes) != 2 || changes[0].MessageID == changes[1].MessageID || changes[1].Record != 1 {
			t.Errorf("changes %+v: want 2, from 2 messages, numbered in the batch", changes)
		}
		return nil, errors.New("pipeline: read ledger: disk on fire")
	})
	r := newRig(t, &flakyPurger{}, func(o *pipeline.WorkerOptions) { o.Applier = broken })
	r.add(t, webhook("site", "a.html", "e1", "01"))
	r.add(t, webhook("site", "b.html", "e2", "02"))
	if _, _, err := r.worker.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	st := r.stats(t)
	if st.Depth != 2 || st.Failing != 2 || !strings.Contains(st.Failures[0].LastErr, "disk on fire") {
		t.Errorf("stats %+v: want both entries kept, failing with the batch's error", st)
	}
}

func TestWorkerRunDrainsOnStartAndFinishesBatchOnShutdown(t *testing.T) {
	p := &flakyPurger{started: make(chan struct{}, 1), block: make(chan struct{})}
	r := newRig(t, p, func(o *pipeline.WorkerOptions) { o.Now, o.After = time.Now, time.After }) // Run waits on real timers
	// Entries left by a previous process.
	for i, key := range []string{"a.html", "b.html", "c.html"} {
		r.add(t, webhook("site", key, "e", "0"+string(rune('1'+i))))
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.worker.Run(ctx) }()
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start on the entries already in the inbox")
	}
	cancel() // shutdown while the batch is in the purger
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) before its batch finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(p.block)
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its batch")
	}
	if d := r.inbox.Depth(); d != 0 {
		t.Errorf("depth %d after the batch finished on shutdown, want 0", d)
	}
	if got := p.got(); len(got) != 3 {
		t.Errorf("purged %v, want 3 URLs", got)
	}

	// A running worker picks up new events after its window.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- r.worker.Run(ctx) }()
	r.add(t, webhook("site", "d.html", "e", "04"))
	deadline := time.Now().Add(10 * time.Second)
	for r.inbox.Depth() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := r.inbox.Depth(); d != 0 {
		t.Fatalf("depth %d 10s after an Add, want 0", d)
	}
	if got := p.got(); !slices.Contains(got, "http://www.example.com/d.html") {
		t.Errorf("purged %v, want d.html among them", got)
	}
	cancel()
	<-done
}

// hungPurger is a provider that never answers: each call waits until its
// context ends.
type hungPurger struct{ started chan struct{} }

func (h *hungPurger) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	select {
	case h.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// On shutdown the batch in hand gets Grace, not its whole Timeout: a hung
// purge is cut off, and its entries stay in the inbox for the next start.
func TestWorkerGraceCutsHungBatchOnShutdown(t *testing.T) {
	p := &hungPurger{started: make(chan struct{}, 1)}
	const grace = 300 * time.Millisecond
	r := newRig(t, p, func(o *pipeline.WorkerOptions) { o.Now, o.Grace = time.Now, grace })
	for i, key := range []string{"a.html", "b.html"} {
		r.add(t, webhook("site", key, "e", "0"+string(rune('1'+i))))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.worker.Run(ctx) }()
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start on the entries in the inbox")
	}
	cancel()
	stopped := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: got %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Run: no return 20s after shutdown, want one after its %v grace", grace)
	}
	if took := time.Since(stopped); took < grace {
		t.Errorf("Run returned %v after shutdown, want the batch to have its %v grace", took, grace)
	}
	if st := r.stats(t); st.Depth != 2 || st.Failing != 2 {
		t.Errorf("inbox: got depth %d, failing %d; want 2 and 2 (kept for the next start)", st.Depth, st.Failing)
	}
}
