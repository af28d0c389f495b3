package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/retry"
)

// Applier applies a batch of changes: *Pipeline is one.
type Applier interface {
	Apply(ctx context.Context, changes []event.Change) (*Result, error)
}

// WorkerOptions configure a Worker. A zero field means its default; Inbox
// and Applier have none.
type WorkerOptions struct {
	// Inbox is the inbox to drain. Required.
	Inbox *Inbox
	// Applier applies each batch: a *Pipeline, or one wrapped to observe
	// it. Required.
	Applier Applier
	// Logger gets a record per batch, and per entry dead-lettered.
	// Default slog.Default().
	Logger *slog.Logger

	// Window is the longest an event waits for others to be applied with
	// it, while events keep arriving (Gather). Default 500ms.
	Window time.Duration
	// Quiet is the pause in arrivals that ends the gathering (Gather).
	// Default Window/20 (25ms).
	Quiet time.Duration
	// BatchSize bounds the entries applied together; that many are applied
	// at once, without waiting for more (Gather's Fill). Default 1000.
	BatchSize int
	// BatchBytes bounds the bodies applied together (a batch always holds
	// at least one entry). Default 64 MiB.
	BatchBytes int
	// Backoff spaces the attempts of a failing entry: its Backoff(attempts)
	// after each failure. A zero field takes this package's default,
	// Initial 1s and Max 5m (the rest as the retry package's).
	Backoff retry.Policy
	// MaxAttempts is how many times an entry may fail: its last failure
	// moves it to the dead letters (Inbox.DeadLetters), out of the way,
	// until an operator replays or discards it. Default 10: with the
	// default Backoff, the tenth attempt comes about four minutes after the
	// first (at most nine).
	MaxAttempts int
	// MaxAge, if set, also moves an entry that fails when it is older than
	// this to the dead letters, whatever its attempts. Default 0: none.
	MaxAge time.Duration
	// Timeout bounds one batch's Apply, which goes on after Run's context
	// ends so a batch is finished on shutdown. Default 5m.
	Timeout time.Duration
	// Grace bounds how long the batch in hand goes on after Run's context
	// ends: past it the batch is cancelled, its unfinished changes fail
	// and stay in the inbox for the next start. Default Timeout.
	Grace time.Duration
	// Now tells the time, and After waits on it. Default time.Now and
	// time.After.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// Worker drains an Inbox: it applies an event that finds the inbox idle at
// once and gathers events that keep arriving (Gather), applies the due
// entries in batches, deletes the entries whose changes all succeeded, and
// keeps the others with a growing, jittered backoff, until they fail
// MaxAttempts times and become dead letters. Nothing leaves the inbox until
// it has been applied, dead-lettered, or deleted by an operator. Run one
// Worker per Inbox.
type Worker struct {
	opts   WorkerOptions
	gather Gather
}

// NewWorker returns a Worker, after applying optFns to a copy of opts.
func NewWorker(opts WorkerOptions, optFns ...func(*WorkerOptions)) (*Worker, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	switch {
	case opts.Inbox == nil:
		return nil, errors.New("pipeline: WorkerOptions.Inbox is required")
	case opts.Applier == nil:
		return nil, errors.New("pipeline: WorkerOptions.Applier is required")
	}
	for _, f := range []struct {
		name string
		bad  bool
	}{
		{"Window", opts.Window < 0}, {"Quiet", opts.Quiet < 0}, {"BatchSize", opts.BatchSize < 0},
		{"BatchBytes", opts.BatchBytes < 0}, {"MaxAttempts", opts.MaxAttempts < 0}, {"MaxAge", opts.MaxAge < 0}, {"Timeout", opts.Timeout < 0},
		{"Grace", opts.Grace < 0},
	} {
		if f.bad {
			return nil, fmt.Errorf("pipeline: WorkerOptions.%s is negative", f.name)
		}
	}
	opts.Window = cmp.Or(opts.Window, 500*time.Millisecond)
	opts.Quiet = cmp.Or(opts.Quiet, opts.Window/20)
	opts.BatchSize = cmp.Or(opts.BatchSize, 1000)
	opts.BatchBytes = cmp.Or(opts.BatchBytes, 64<<20)
	opts.Backoff.Initial = cmp.Or(opts.Backoff.Initial, time.Second)
	opts.Backoff.Max = cmp.Or(opts.Backoff.Max, 5*time.Minute)
	opts.MaxAttempts = cmp.Or(opts.MaxAttempts, 10)
	opts.Timeout = cmp.Or(opts.Timeout, 5*time.Minute)
	opts.Grace = cmp.Or(opts.Grace, opts.Timeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Worker{opts: opts, gather: Gather{Window: opts.Window, Quiet: opts.Quiet, Fill: opts.BatchSize}}, nil
}

// Run drains the inbox until ctx ends, starting with what it already holds
// (a restart picks up where the last process stopped). New events are
// applied when Gather says, failed ones when their backoff ends. When ctx
// ends it finishes the batch in hand and returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	wake := w.opts.After(0) // at once: drain what is there
	retryAt := w.opts.Now() // when a failed entry falls due; zero: none
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.opts.Inbox.Added():
		case <-wake:
		}
		now := w.opts.Now()
		a := w.opts.Inbox.arrived()
		due := w.gather.Due(a.n, a.prev, a.first, a.last)
		if (a.n == 0 || due.After(now)) && (retryAt.IsZero() || retryAt.After(now)) {
			// Not yet: wake when the gathering ends or a retry falls due,
			// or at the next arrival.
			at := retryAt
			if a.n > 0 && (at.IsZero() || due.Before(at)) {
				at = due
			}
			wake = nil
			if !at.IsZero() {
				wake = w.opts.After(at.Sub(now))
			}
			continue
		}
		next, err := w.drain(ctx)
		if err != nil {
			w.opts.Logger.Error("inbox worker", "err", err)
			next = w.opts.Now().Add(w.opts.Backoff.Backoff(1))
		}
		retryAt, wake = next, nil
		if !next.IsZero() {
			wake = w.opts.After(next.Sub(w.opts.Now()))
		}
	}
}

// drain applies due batches until none is due and returns when the next
// entry falls due (zero: the inbox is empty). What is left of a burst
// after a full batch is gathered again (Gather), so that a burst is
// applied in full batches, not a full one and a remnant.
func (w *Worker) drain(ctx context.Context) (time.Time, error) {
	for {
		if ctx.Err() != nil {
			return time.Time{}, nil
		}
		n, next, err := w.RunOnce(ctx)
		now := w.opts.Now()
		if err != nil || n == 0 || next.IsZero() || next.After(now) {
			return next, err
		}
		if a := w.opts.Inbox.arrived(); a.n > 0 {
			if due := w.gather.Due(a.n, a.prev, a.first, a.last); due.After(now) {
				return due, nil
			}
		}
	}
}

// RunOnce applies one batch of the entries due now and settles them. It
// returns how many entries it took and when the next entry not taken falls
// due (zero if none is left). The batch runs to its end even if ctx ends
// meanwhile, within Timeout, and for at most Grace after ctx ends.
func (w *Worker) RunOnce(ctx context.Context) (int, time.Time, error) {
	now := w.opts.Now()
	entries, next, seen, err := w.opts.Inbox.due(ctx, now, w.opts.BatchSize, w.opts.BatchBytes)
	if err != nil {
		return 0, next, err
	}
	w.opts.Inbox.read(seen)
	if len(entries) == 0 {
		return 0, next, nil
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.opts.Grace, cancel) })
	defer stop()

	start := time.Now()
	b := ApplyBatch(actx, w.opts.Applier, entries)
	res, err := b.Result, b.Err

	outcomes := make([]Outcome, len(entries))
	done, dead := 0, 0
	var firstErr string
	now = w.opts.Now()
	for i, e := range entries {
		outcomes[i] = Outcome{ID: e.ID}
		msg, bad := b.Failed[e.ID]
		if !bad {
			done++
			continue
		}
		o := &outcomes[i]
		o.Err = msg
		if e.Attempts+1 >= w.opts.MaxAttempts || (w.opts.MaxAge > 0 && now.Sub(e.Received) >= w.opts.MaxAge) {
			o.Dead = true
			dead++
			w.opts.Logger.Error("inbox entry failed too often: moved to the dead letters; replay it with POST /v1/inbox/dead/{id}/replay once fixed",
				"entry", e.ID, "attempts", e.Attempts+1, "received", e.Received, "err", msg)
			continue
		}
		if firstErr == "" {
			firstErr = msg
		}
		o.Next = now.Add(w.opts.Backoff.Backoff(e.Attempts + 1))
		if next.IsZero() || o.Next.Before(next) {
			next = o.Next
		}
	}
	if failed := len(entries) - done - dead; failed > 0 {
		w.opts.Logger.Warn("inbox entries failed; they will be retried", "failed", failed, "of", len(entries),
			"next_retry", next.Sub(now).Round(time.Millisecond), "first_error", firstErr)
	}
	if err := w.opts.Inbox.Settle(actx, outcomes); err != nil {
		// The entries stay as they were and are applied again: a purge
		// may repeat, no event is lost.
		return len(entries), next, fmt.Errorf("pipeline: worker: %w", err)
	}
	attrs := []any{"entries", len(entries), "changes", b.Changes, "done", done, "failed", len(entries) - done - dead,
		"dead_lettered", dead, "took", time.Since(start).Round(time.Millisecond), "depth", w.opts.Inbox.Depth()}
	if res != nil {
		attrs = append(attrs, "purge", res.Stats.Purge, "skip", res.Stats.Skip)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	w.opts.Logger.Info("inbox batch applied", attrs...)
	return len(entries), next, nil
}

// Gather is the rule a worker gathers events by before it applies them
// together: an event that finds the inbox idle (nothing arrived for Quiet)
// is applied at once, since waiting would only delay it; events that keep
// arriving are gathered, so that a burst becomes few plans, ledger commits
// and purge requests, until Fill of them are there (a full batch: the
// planner splits it by each provider's request limits), none has arrived
// for Quiet, or the first has waited Window. Events that arrived while a batch was being
// applied are gathered the same way. Both workers use it: this package's
// for the bolt Inbox, and pipeline/natsinbox's.
type Gather struct {
	Window time.Duration
	Quiet  time.Duration
	Fill   int
}

// Due returns when n gathered events are to be applied: the first of them
// arrived at first, the last at last, and the event before them at prev
// (zero: none). At or before now means at once. It means nothing for n 0.
func (g Gather) Due(n int, prev, first, last time.Time) time.Time {
	if n >= g.Fill || prev.IsZero() || first.Sub(prev) >= g.Quiet {
		return first
	}
	due := first.Add(g.Window)
	if q := last.Add(g.Quiet); q.Before(due) {
		due = q
	}
	return due
}
