package pipeline

import (
	"context"
	"fmt"
)

// The bolt Inbox keeps a failing entry, retried with backoff, until it
// succeeds or an operator deletes it: it has no dead letters yet. These
// make it a Queue.

// DeadLetters returns none.
func (in *Inbox) DeadLetters(ctx context.Context, limit int) ([]Entry, error) {
	return []Entry{}, nil
}

// Replay finds no dead letter: ErrNotFound.
func (in *Inbox) Replay(ctx context.Context, id uint64) (uint64, error) {
	return 0, fmt.Errorf("inbox: replay dead letter %d: %w", id, ErrNotFound)
}

// Discard finds no dead letter: ErrNotFound.
func (in *Inbox) Discard(ctx context.Context, id uint64) error {
	return fmt.Errorf("inbox: discard dead letter %d: %w", id, ErrNotFound)
}

var _ Queue = (*Inbox)(nil)
