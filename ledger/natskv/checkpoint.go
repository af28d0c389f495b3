package natskv

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/ledger"
)

// CheckpointPrefix starts the key-value key of every checkpoint, which
// is the prefix and the name in unpadded base64url. No record's key
// starts with it: base64url has no "=".
const CheckpointPrefix = "=checkpoint."

func checkpointKey(name string) (string, error) {
	if name == "" {
		return "", errors.New("a checkpoint needs a name")
	}
	k := CheckpointPrefix + b64.EncodeToString([]byte(name))
	if len(k) > MaxKeyLen {
		return "", fmt.Errorf("a checkpoint's key of %d characters; at most %d are sent", len(k), MaxKeyLen)
	}
	return k, nil
}

// Checkpoint returns the mark set for name, or "" (ledger.Checkpointer).
func (l *Ledger) Checkpoint(ctx context.Context, name string) (string, error) {
	what := fmt.Sprintf("ledger/natskv: checkpoint %s in %s", name, l.opts.KV.Bucket())
	if err := l.usable(ctx); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	k, err := checkpointKey(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	e, err := l.opts.KV.Get(ctx, k)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return string(e.Value()), nil
}

// SetCheckpoint sets the mark for name; "" removes it. The last write
// wins: one job sets one name.
func (l *Ledger) SetCheckpoint(ctx context.Context, name, value string) error {
	what := fmt.Sprintf("ledger/natskv: set checkpoint %s in %s", name, l.opts.KV.Bucket())
	if err := l.usable(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	k, err := checkpointKey(name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if value == "" {
		err = l.opts.KV.Delete(ctx, k)
	} else {
		_, err = l.opts.KV.Put(ctx, k, []byte(value))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

var _ ledger.Checkpointer = (*Ledger)(nil)
