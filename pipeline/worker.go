package pipeline

import (
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

// Worker drains an Inbox: it gathers events for a short window, applies the
// due entries in batches, deletes the entries whose changes all succeeded,
// and keeps the others with a growing, jittered backoff. Nothing leaves the
// inbox until it has been applied (or an operator deletes it). Set the
// fields before Run; run one Worker per Inbox.
type Worker struct {
	Inbox   *Inbox
	Applier Applier
	Logger  *slog.Logger

	// Window is how long to gather events after the first arrives before
	// applying them. Default 500ms.
	Window time.Duration
	// BatchSize bounds the entries applied together. Default 1000.
	BatchSize int
	// BatchBytes bounds the bodies applied together (a batch always holds
	// at least one entry). Default 64 MiB.
	BatchBytes int
	// Backoff spaces the attempts of a failing entry: its Backoff(attempts)
	// after each failure. Default Initial 1s, Max 5m: an entry that can
	// never succeed (an unreadable body) is retried every few minutes and
	// stays visible in the inbox's stats until an operator deletes it.
	Backoff retry.Policy
	// Timeout bounds one batch's Apply, which goes on after Run's context
	// ends so a batch is finished on shutdown. Default 5m.
	Timeout time.Duration
	// Now tells the time. Default time.Now.
	Now func() time.Time
}

func (w *Worker) defaults() {
	if w.Window <= 0 {
		w.Window = 500 * time.Millisecond
	}
	if w.BatchSize <= 0 {
		w.BatchSize = 1000
	}
	if w.BatchBytes <= 0 {
		w.BatchBytes = 64 << 20
	}
	if w.Backoff.Initial <= 0 {
		w.Backoff.Initial = time.Second
	}
	if w.Backoff.Max <= 0 {
		w.Backoff.Max = 5 * time.Minute
	}
	if w.Timeout <= 0 {
		w.Timeout = 5 * time.Minute
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Logger == nil {
		w.Logger = slog.Default()
	}
}

// Run drains the inbox until ctx ends, starting with what it already holds
// (a restart picks up where the last process stopped). When ctx ends it
// finishes the batch in hand and returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	if w.Inbox == nil || w.Applier == nil {
		return errors.New("pipeline: worker needs an Inbox and an Applier")
	}
	timer := time.NewTimer(0) // at once: drain what is there
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.Inbox.Added():
			// Gather for the window; more events may come with this one.
			if !sleep(ctx, w.Window) {
				return ctx.Err()
			}
		case <-timer.C:
		}
		next, err := w.drain(ctx)
		if err != nil {
			w.Logger.Error("inbox worker", "err", err)
			next = w.Now().Add(w.Backoff.Backoff(1))
		}
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(max(0, next.Sub(w.Now())))
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
		if err != nil || n == 0 || next.IsZero() || next.After(w.Now()) {
			return next, err
		}
	}
}

// RunOnce applies one batch of the entries due now and settles them. It
// returns how many entries it took and when the next entry not taken falls
// due (zero if none is left). The batch runs to its end even if ctx ends
// meanwhile, within Timeout.
func (w *Worker) RunOnce(ctx context.Context) (int, time.Time, error) {
	w.defaults()
	now := w.Now()
	entries, next, err := w.Inbox.Due(ctx, now, w.BatchSize, w.BatchBytes)
	if err != nil || len(entries) == 0 {
		return 0, next, err
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.Timeout)
	defer cancel()

	start := time.Now()
	b := ApplyBatch(actx, w.Applier, entries)
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
		wait := w.Backoff.Backoff(e.Attempts + 1)
		outcomes[i].Err, outcomes[i].Next = msg, w.Now().Add(wait)
		if n := outcomes[i].Next; next.IsZero() || n.Before(next) {
			next = n
		}
		if e.Attempts+1 >= StuckAttempts {
			w.Logger.Error("inbox entry keeps failing; it stays in the inbox until it succeeds or is deleted (DELETE /v1/inbox/{id})",
				"entry", e.ID, "attempts", e.Attempts+1, "received", e.Received, "retry_in", wait.Round(time.Millisecond), "err", msg)
		}
	}
	if done < len(entries) {
		w.Logger.Warn("inbox entries failed; they will be retried", "failed", len(entries)-done, "of", len(entries),
			"next_retry", next.Sub(w.Now()).Round(time.Millisecond), "first_error", firstErr)
	}
	if err := w.Inbox.Settle(actx, outcomes); err != nil {
		// The entries stay as they were and are applied again: a purge
		// may repeat, no event is lost.
		return len(entries), next, fmt.Errorf("pipeline: worker: %w", err)
	}
	attrs := []any{"entries", len(entries), "changes", b.Changes, "done", done,
		"failed", len(entries) - done, "took", time.Since(start).Round(time.Millisecond), "depth", w.Inbox.Depth()}
	if res != nil {
		attrs = append(attrs, "purge", res.Stats.Purge, "skip", res.Stats.Skip)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	w.Logger.Info("inbox batch applied", attrs...)
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
