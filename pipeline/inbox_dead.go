package pipeline

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// The bolt Inbox's dead letters: entries the Worker set aside after they
// failed WorkerOptions.MaxAttempts times (or failed past MaxAge), kept in
// DeadLetterBucket of the same file, with their bodies, attempts and last
// error, until an operator replays or discards them. A dead letter's id is
// the id it had in the inbox: ids are never reused, so it names one event
// in the logs, the API and the dashboard.

// DeadLetters returns up to limit dead letters, oldest (lowest id) first,
// without their bodies.
func (in *Inbox) DeadLetters(ctx context.Context, limit int) ([]Entry, error) {
	out := []Entry{}
	err := in.db.View(func(tx *bbolt.Tx) error {
		_, d, err := buckets(tx)
		if err != nil {
			return err
		}
		c := d.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			e, err := decodeHeader(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: read dead letters in %s: %w", in.db.Path(), err)
	}
	return out, nil
}

// Replay adds dead letter id's body to the inbox as a new entry, received
// now and with no attempts, and then removes the dead letter; it returns
// the new entry's id. A crash between the two leaves both: the event is
// applied once more, which the ledger makes a duplicate.
func (in *Inbox) Replay(ctx context.Context, id uint64) (uint64, error) {
	in.replay.Lock()
	defer in.replay.Unlock()
	var body []byte
	err := in.db.View(func(tx *bbolt.Tx) error {
		_, d, err := buckets(tx)
		if err != nil {
			return err
		}
		k := key(id)
		v := d.Get(k)
		if v == nil {
			return ErrNotFound
		}
		e, err := decodeEntry(k, v)
		body = e.Body
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: replay dead letter %d in %s: %w", id, in.db.Path(), err)
	}
	newID, err := in.Add(ctx, body)
	if err != nil {
		return 0, fmt.Errorf("inbox: replay dead letter %d: %w", id, err)
	}
	if err := in.discard(id); err != nil && !errors.Is(err, ErrNotFound) {
		return newID, fmt.Errorf("inbox: replayed dead letter %d as %d, but it stays a dead letter: %w", id, newID, err)
	}
	return newID, nil
}

// Discard removes dead letter id for good.
func (in *Inbox) Discard(ctx context.Context, id uint64) error {
	in.replay.Lock()
	defer in.replay.Unlock()
	if err := in.discard(id); err != nil {
		return fmt.Errorf("inbox: discard dead letter %d in %s: %w", id, in.db.Path(), err)
	}
	return nil
}

func (in *Inbox) discard(id uint64) error {
	err := in.db.Update(func(tx *bbolt.Tx) error {
		_, d, err := buckets(tx)
		if err != nil {
			return err
		}
		k := key(id)
		if d.Get(k) == nil {
			return ErrNotFound
		}
		return d.Delete(k)
	})
	if err == nil {
		in.dead.Add(-1)
	}
	return err
}

var _ Queue = (*Inbox)(nil)
