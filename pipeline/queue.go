package pipeline

import (
	"context"

	"github.com/offload-dev/offload/event"
)

// Queue is a durable inbox as `offload serve`, its API and its dashboard
// use it: the bolt Inbox in one process, or the JetStream inbox
// (pipeline/natsinbox) shared by several replicas. Add returns only once
// the body is durable, so an event answered 2xx is never lost. Ids are
// positive and name an entry until it is settled. Implementations are safe
// for concurrent use.
type Queue interface {
	Add(ctx context.Context, body []byte) (uint64, error)
	// Stats describes the queue now, with up to maxFailures of the entries
	// whose last attempt failed.
	Stats(ctx context.Context, maxFailures int) (InboxStats, error)
	// Delete drops one entry that waits to be applied: an operator's
	// decision. An id not there is ErrNotFound.
	Delete(ctx context.Context, id uint64) error
	DeadLetters
}

// DeadLetters is where a Queue keeps the entries that failed a bounded
// number of times, out of the way of the others, until an operator replays
// or discards them.
type DeadLetters interface {
	// DeadLetters returns up to limit dead letters, oldest first, without
	// their bodies.
	DeadLetters(ctx context.Context, limit int) ([]Entry, error)
	// Replay puts dead letter id back in the queue, as a new entry whose id
	// it returns, and removes the dead letter. An id not there is
	// ErrNotFound.
	Replay(ctx context.Context, id uint64) (uint64, error)
	// Discard removes dead letter id for good. An id not there is
	// ErrNotFound.
	Discard(ctx context.Context, id uint64) error
}

// Batch is what became of entries applied together.
type Batch struct {
	// Result is the pipeline's; empty when the entries held no change, and
	// nil when the batch failed as a whole (Err).
	Result *Result
	// Err is a failure of the whole batch, such as an unreadable ledger:
	// every entry failed with it.
	Err error
	// Changes counts the changes decoded from the entries.
	Changes int
	// Failed maps the id of each entry that failed to why; an entry not
	// there is done.
	Failed map[uint64]string
}

// ApplyBatch decodes every entry's body, applies all their changes as one
// plan and charges each failure to the entry its change came in: what a
// worker settles, whatever its queue.
func ApplyBatch(ctx context.Context, a Applier, entries []Entry) Batch {
	var changes []event.Change
	for _, e := range entries {
		for _, c := range event.DecodeMessage(e.MessageID(), e.Body) {
			c.Record = len(changes)
			changes = append(changes, c)
		}
	}
	b := Batch{Result: &Result{}, Changes: len(changes), Failed: map[uint64]string{}}
	if len(changes) > 0 {
		b.Result, b.Err = a.Apply(ctx, changes)
	}
	if b.Err != nil {
		for _, e := range entries {
			b.Failed[e.ID] = b.Err.Error()
		}
		return b
	}
	failed := map[string]string{} // message id -> first error
	for _, id := range b.Result.FailedMessages() {
		failed[id] = ""
	}
	for _, c := range b.Result.Changes {
		if msg, ok := failed[c.MessageID]; ok && msg == "" && c.Status == StatusFailed {
			failed[c.MessageID] = c.Error
		}
	}
	for _, e := range entries {
		msg, bad := failed[e.MessageID()]
		if !bad {
			continue
		}
		if msg == "" {
			msg = "failed, no reason given"
		}
		b.Failed[e.ID] = msg
	}
	return b
}
