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

// StuckAttempts is the number of failed attempts after which each further
// failure of an entry is logged as an error: one that may never succeed.
const StuckAttempts = 10

// WorkerOptions configure a Worker. A zero field means its default; Inbox
// and Applier have none.
type WorkerOptions struct {
	// Inbox is the inbox to drain. Required.
	Inbox *Inbox
	// Applier applies each batch: a *Pipeline, or one wrapped to observe
	// it. Required.
	Applier Applier
	// Logger gets a record per batch, and per entry that keeps failing.
	// Default slog.Default().
	Logger *slog.Logger

	// Window is how long to gather events after the first arrives before
	// applying them. Default 500ms.
	Window time.Duration
	// BatchSize bounds the entries applied together. Default 1000.
	BatchSize int
	// BatchBytes bounds the bodies applied together (a batch always holds
	// at least one entry). Default 64 MiB.
	BatchBytes int
	// Backoff spaces the attempts of a failing entry: its Backoff(attempts)
	// after each failure. A zero field takes this package's default,
	// Initial 1s and Max 5m (the rest as the retry package's): an entry that
	// can never succeed (an unreadable body) is retried every few minutes
	// and stays visible in the inbox's stats until an operator deletes it.
	Backoff retry.Policy
	// Timeout bounds one batch's Apply, which goes on after Run's context
	// ends so a batch is finished on shutdown. Default 5m.
	Timeout time.Duration
	// Grace bounds how long the batch in hand goes on after Run's context
	// ends: past it the batch is cancelled, its unfinished changes fail
	// and stay in the inbox for the next start. Default Timeout.
	Grace time.Duration
	// Now tells the time. Default time.Now.
	Now func() time.Time
}

// Worker drains an Inbox: it gathers events for a short window, applies the
// due entries in batches, deletes the entries whose changes all succeeded,
// and keeps the others with a growing, jittered backoff. Nothing leaves the
// inbox until it has been applied (or an operator deletes it). Run one
// Worker per Inbox.
type Worker struct {
	opts WorkerOptions
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
		{"Window", opts.Window < 0}, {"BatchSize", opts.BatchSize < 0}, {"BatchBytes", opts.BatchBytes < 0}, {"Timeout", opts.Timeout < 0},
		{"Grace", opts.Grace < 0},
	} {
		if f.bad {
			return nil, fmt.Errorf("pipeline: WorkerOptions.%s is negative", f.name)
		}
	}
	opts.Window = cmp.Or(opts.Window, 500*time.Millisecond)
	opts.BatchSize = cmp.Or(opts.BatchSize, 1000)
	opts.BatchBytes = cmp.Or(opts.BatchBytes, 64<<20)
	opts.Backoff.Initial = cmp.Or(opts.Backoff.Initial, time.Second)
	opts.Backoff.Max = cmp.Or(opts.Backoff.Max, 5*time.Minute)
	opts.Timeout = cmp.Or(opts.Timeout, 5*time.Minute)
	opts.Grace = cmp.Or(opts.Grace, opts.Timeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Worker{opts: opts}, nil
}

// Run drains the inbox until ctx ends, starting with what it already holds
// (a restart picks up where the last process stopped). When ctx ends it
// finishes the batch in hand and returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0) // at once: drain what is there
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.opts.Inbox.Added():
			// Gather for the window; more events may come with this one.
			if !sleep(ctx, w.opts.Window) {
				return ctx.Err()
			}
		case <-timer.C:
		}
		next, err := w.drain(ctx)
		if err != nil {
			w.opts.Logger.Error("inbox worker", "err", err)
			next = w.opts.Now().Add(w.opts.Backoff.Backoff(1))
		}
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(max(0, next.Sub(w.opts.Now())))
		}
	}
}

// drain applies due batches until none is due and returns when the next
// entry falls due (zero: the inbox is empty).
func (w *Worker) drain(ctx context.Context) (time.Time, error) {
	for {
		if ctx.Err() != nil {
			return time.Time{}, nil
		}
		n, next, err := w.RunOnce(ctx)
		if err != nil || n == 0 || next.IsZero() || next.After(w.opts.Now()) {
			return next, err
		}
	}
}

// RunOnce applies one batch of the entries due now and settles them. It
// returns how many entries it took and when the next entry not taken falls
// due (zero if none is left). The batch runs to its end even if ctx ends
// meanwhile, within Timeout, and for at most Grace after ctx ends.
func (w *Worker) RunOnce(ctx context.Context) (int, time.Time, error) {
	now := w.opts.Now()
	entries, next, err := w.opts.Inbox.Due(ctx, now, w.opts.BatchSize, w.opts.BatchBytes)
	if err != nil || len(entries) == 0 {
		return 0, next, err
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.opts.Grace, cancel) })
	defer stop()

	start := time.Now()
	b := ApplyBatch(actx, w.opts.Applier, entries)
	res, err := b.Result, b.Err

	outcomes := make([]Outcome, len(entries))
	done := 0
	var firstErr string
	for i, e := range entries {
		outcomes[i] = Outcome{ID: e.ID}
		msg, bad := b.Failed[e.ID]
		if !bad {
			done++
			continue
		}
		if firstErr == "" {
			firstErr = msg
		}
		wait := w.opts.Backoff.Backoff(e.Attempts + 1)
		outcomes[i].Err, outcomes[i].Next = msg, w.opts.Now().Add(wait)
		if n := outcomes[i].Next; next.IsZero() || n.Before(next) {
			next = n
		}
		if e.Attempts+1 >= StuckAttempts {
			w.opts.Logger.Error("inbox entry keeps failing; it stays in the inbox until it succeeds or is deleted (DELETE /v1/inbox/{id})",
				"entry", e.ID, "attempts", e.Attempts+1, "received", e.Received, "retry_in", wait.Round(time.Millisecond), "err", msg)
		}
	}
	if done < len(entries) {
		w.opts.Logger.Warn("inbox entries failed; they will be retried", "failed", len(entries)-done, "of", len(entries),
			"next_retry", next.Sub(w.opts.Now()).Round(time.Millisecond), "first_error", firstErr)
	}
	if err := w.opts.Inbox.Settle(actx, outcomes); err != nil {
		// The entries stay as they were and are applied again: a purge
		// may repeat, no event is lost.
		return len(entries), next, fmt.Errorf("pipeline: worker: %w", err)
	}
	attrs := []any{"entries", len(entries), "changes", b.Changes, "done", done,
		"failed", len(entries) - done, "took", time.Since(start).Round(time.Millisecond), "depth", w.opts.Inbox.Depth()}
	if res != nil {
		attrs = append(attrs, "purge", res.Stats.Purge, "skip", res.Stats.Skip)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	w.opts.Logger.Info("inbox batch applied", attrs...)
	return len(entries), next, nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
