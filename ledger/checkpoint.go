package ledger

import (
	"context"
	"fmt"
)

// Checkpointer is implemented by ledgers that keep named progress marks
// beside their records, so that a long job which commits as it goes (offload
// backfill, page by page) resumes after a crash where it last committed,
// and the mark lives and dies with the records it speaks for. Memory,
// ledger/bolt, ledger/dynamo and ledger/natskv implement it.
//
// Checkpoint returns the value set for name, or "" if none is. SetCheckpoint
// sets it; an empty value removes it. A mark is set after the records it
// covers were committed, so a crash between the two redoes work, never
// skips it. Implementations are safe for concurrent use and honour ctx.
type Checkpointer interface {
	Checkpoint(ctx context.Context, name string) (string, error)
	SetCheckpoint(ctx context.Context, name, value string) error
}

// Checkpoint returns the mark set for name, or "".
func (m *Memory) Checkpoint(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("ledger: memory: checkpoint %s: %w", name, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return "", fmt.Errorf("ledger: memory: checkpoint %s: %w", name, ErrClosed)
	}
	return m.marks[name], nil
}

// SetCheckpoint sets the mark for name; "" removes it.
func (m *Memory) SetCheckpoint(ctx context.Context, name, value string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ledger: memory: set checkpoint %s: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("ledger: memory: set checkpoint %s: %w", name, ErrClosed)
	}
	if value == "" {
		delete(m.marks, name)
		return nil
	}
	if m.marks == nil {
		m.marks = map[string]string{}
	}
	m.marks[name] = value
	return nil
}

var _ Checkpointer = (*Memory)(nil)
