package pipeline

import (
	"context"
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

// Replay moves dead letter id back into the inbox as a new entry, received
// now and with no attempts, in one transaction, and returns its id.
func (in *Inbox) Replay(ctx context.Context, id uint64) (uint64, error) {
	var newID uint64
	err := in.db.Update(func(tx *bbolt.Tx) error {
		b, d, err := buckets(tx)
		if err != nil {
			return err
		}
		k := key(id)
		v := d.Get(k)
		if v == nil {
			return ErrNotFound
		}
		e, err := decodeEntry(k, v)
		if err != nil {
			return err
		}
		if newID, err = b.NextSequence(); err != nil {
			return err
		}
		if err := b.Put(key(newID), encodeEntry(Entry{Received: in.now(), Body: e.Body})); err != nil {
			return err
		}
		return d.Delete(k)
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: replay dead letter %d in %s: %w", id, in.db.Path(), err)
	}
	in.dead.Add(-1)
	in.depth.Add(1)
	in.mu.Lock()
	in.arr.add(1, in.now(), newID)
	in.mu.Unlock()
	in.signal()
	return newID, nil
}

// Discard removes dead letter id for good.
func (in *Inbox) Discard(ctx context.Context, id uint64) error {
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
	if err != nil {
		return fmt.Errorf("inbox: discard dead letter %d in %s: %w", id, in.db.Path(), err)
	}
	in.dead.Add(-1)
	return nil
}

var _ Queue = (*Inbox)(nil)
