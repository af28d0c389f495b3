package bolt

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/ledger"
)

// CheckpointBucket is the top-level bbolt bucket that holds checkpoints.
const CheckpointBucket = "checkpoints"

// Checkpoint returns the mark set for name, or "" (ledger.Checkpointer).
func (l *Ledger) Checkpoint(ctx context.Context, name string) (string, error) {
	if err := l.usable(ctx); err != nil {
		return "", fmt.Errorf("ledger/bolt: checkpoint %s: %w", name, err)
	}
	var v string
	err := l.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte(CheckpointBucket)); b != nil {
			v = string(b.Get([]byte(name)))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("ledger/bolt: checkpoint %s in %s: %w", name, l.db.Path(), err)
	}
	return v, nil
}

// SetCheckpoint sets the mark for name, durably; "" removes it.
func (l *Ledger) SetCheckpoint(ctx context.Context, name, value string) error {
	if err := l.usable(ctx); err != nil {
		return fmt.Errorf("ledger/bolt: set checkpoint %s: %w", name, err)
	}
	err := l.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(CheckpointBucket))
		if err != nil {
			return err
		}
		if value == "" {
			return b.Delete([]byte(name))
		}
		return b.Put([]byte(name), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("ledger/bolt: set checkpoint %s in %s: %w", name, l.db.Path(), err)
	}
	return nil
}

var _ ledger.Checkpointer = (*Ledger)(nil)
