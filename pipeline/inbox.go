package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// InboxBucket is the top-level bbolt bucket that holds the inbox, beside
// the ledger's bucket in the same file.
const InboxBucket = "inbox"

// ErrNotFound is returned, wrapped, for an inbox entry that does not exist.
var ErrNotFound = errors.New("no such inbox entry")

// Entry is one event body waiting in the inbox.
type Entry struct {
	ID       uint64    `json:"id"`
	Received time.Time `json:"received"`
	Attempts int       `json:"attempts"`              // failed attempts so far
	Next     time.Time `json:"next_attempt,omitzero"` // not retried before; zero: at once
	LastErr  string    `json:"last_error,omitempty"`  // why the last attempt failed
	Body     []byte    `json:"-"`                     // the event as it was received
	Size     int       `json:"size"`                  // len(Body)
}

// MessageID is the id the entry's changes carry (event.Change.MessageID).
func (e Entry) MessageID() string { return strconv.FormatUint(e.ID, 10) }

// InboxOptions configure an Inbox. A zero field means its default; DB has
// none.
type InboxOptions struct {
	// DB is the bbolt database the inbox is kept in, beside other buckets
	// (the ledger's); the caller keeps ownership of it. Required.
	DB *bbolt.DB
	// Now tells the time. Default time.Now.
	Now func() time.Time
}

// Inbox is a durable queue of received event bodies in a bbolt file. Add
// returns only after the entry is on disk (bbolt fsyncs every commit unless
// the database was opened with NoSync), so an event acknowledged to its
// sender survives a crash. It is safe for concurrent use.
type Inbox struct {
	db    *bbolt.DB
	now   func() time.Time
	depth atomic.Int64
	added chan struct{}
}

// NewInbox returns the inbox kept in opts.DB, after applying optFns to a
// copy of opts, creating its bucket if needed.
func NewInbox(opts InboxOptions, optFns ...func(*InboxOptions)) (*Inbox, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	db := opts.DB
	if db == nil {
		return nil, errors.New("pipeline: InboxOptions.DB is required")
	}
	in := &Inbox{db: db, now: opts.Now, added: make(chan struct{}, 1)}
	if in.now == nil {
		in.now = time.Now
	}
	var n int
	err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(InboxBucket))
		if err != nil {
			return err
		}
		n = b.Stats().KeyN
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: open in %s: %w", db.Path(), err)
	}
	in.depth.Store(int64(n))
	return in, nil
}

// Add stores body as a new entry and returns its id once it is durable.
// Ids increase monotonically. Concurrent Adds share one commit (and one
// fsync) through bbolt's Batch.
func (in *Inbox) Add(ctx context.Context, body []byte) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("inbox: add: %w", err)
	}
	e := Entry{Received: in.now(), Body: body}
	err := in.db.Batch(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(InboxBucket))
		if b == nil {
			return fmt.Errorf("bucket %q is missing", InboxBucket)
		}
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.ID = id
		return b.Put(key(id), encodeEntry(e))
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: add to %s: %w", in.db.Path(), err)
	}
	in.depth.Add(1)
	select {
	case in.added <- struct{}{}:
	default:
	}
	return e.ID, nil
}

// Added is signalled (without blocking Add) after entries are added: a
// worker waits on it. There is one signal for any number of Adds.
func (in *Inbox) Added() <-chan struct{} { return in.added }

// Depth returns how many entries the inbox holds.
func (in *Inbox) Depth() int { return int(in.depth.Load()) }

// Due returns, in id order, up to limit entries (and up to maxBytes of
// bodies, but always at least one entry) whose next attempt is at or
// before now, and the earliest next attempt among the entries not
// returned (zero if there are none).
func (in *Inbox) Due(ctx context.Context, now time.Time, limit, maxBytes int) ([]Entry, time.Time, error) {
	var out []Entry
	var next time.Time
	size := 0
	err := in.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(InboxBucket))
		if b == nil {
			return fmt.Errorf("bucket %q is missing", InboxBucket)
		}
		c := b.Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			h, err := decodeHeader(k, v)
			if err != nil {
				return err
			}
			if h.Next.After(now) {
				if next.IsZero() || h.Next.Before(next) {
					next = h.Next
				}
				continue
			}
			if len(out) > 0 && (len(out) >= limit || size+h.Size > maxBytes) {
				next = now // more is due at once
				break
			}
			e, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
			size += e.Size
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("inbox: read %s: %w", in.db.Path(), err)
	}
	return out, next, nil
}

// Outcome is what became of an entry in a worker's attempt.
type Outcome struct {
	ID   uint64
	Err  string    // "" done: the entry is deleted; else it failed
	Next time.Time // when it failed: not before
}

// Settle records a batch's outcomes in one transaction: done entries are
// deleted; failed ones count an attempt and wait until their Next.
func (in *Inbox) Settle(ctx context.Context, outcomes []Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	deleted := 0
	err := in.db.Update(func(tx *bbolt.Tx) error {
		deleted = 0
		b := tx.Bucket([]byte(InboxBucket))
		if b == nil {
			return fmt.Errorf("bucket %q is missing", InboxBucket)
		}
		for _, o := range outcomes {
			k := key(o.ID)
			v := b.Get(k)
			if v == nil {
				continue
			}
			if o.Err == "" {
				if err := b.Delete(k); err != nil {
					return err
				}
				deleted++
				continue
			}
			e, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			e.Attempts++
			e.Next, e.LastErr = o.Next, o.Err
			if err := b.Put(k, encodeEntry(e)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("inbox: settle %d entries in %s: %w", len(outcomes), in.db.Path(), err)
	}
	in.depth.Add(-int64(deleted))
	return nil
}

// Delete removes one entry, whatever its state: an operator's decision to
// drop an event that can never be processed.
func (in *Inbox) Delete(ctx context.Context, id uint64) error {
	found := false
	err := in.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(InboxBucket))
		if b == nil {
			return fmt.Errorf("bucket %q is missing", InboxBucket)
		}
		k := key(id)
		found = b.Get(k) != nil
		if !found {
			return nil
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("inbox: delete %d from %s: %w", id, in.db.Path(), err)
	}
	if !found {
		return fmt.Errorf("inbox: delete %d: %w", id, ErrNotFound)
	}
	in.depth.Add(-1)
	return nil
}

// InboxStats describe the inbox at one moment.
type InboxStats struct {
	Depth     int       `json:"depth"`
	Oldest    time.Time `json:"oldest,omitzero"` // when the oldest entry was received
	OldestAge float64   `json:"oldest_age_seconds"`
	// Failing counts the entries whose last attempt failed; Failures lists
	// the first of them (by id), without bodies.
	Failing  int     `json:"failing"`
	Failures []Entry `json:"failures"`

	// Driver is the queue's kind: "bolt" or "nats".
	Driver string `json:"driver"`
	// Pending counts the entries waiting for their first attempt (for
	// JetStream, the consumer's messages not yet delivered); InFlight those
	// handed to a worker and not yet settled; Redelivered those that were
	// attempted and wait for another attempt or are on it; DeadLettered the
	// dead letters. See Queue.
	Pending      int `json:"pending"`
	InFlight     int `json:"in_flight"`
	Redelivered  int `json:"redelivered"`
	DeadLettered int `json:"dead_lettered"`
}

// Stats returns the depth, the oldest entry's age and up to maxFailures of
// the failing entries.
func (in *Inbox) Stats(ctx context.Context, maxFailures int) (InboxStats, error) {
	st := InboxStats{Failures: []Entry{}}
	now := in.now()
	err := in.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(InboxBucket))
		if b == nil {
			return fmt.Errorf("bucket %q is missing", InboxBucket)
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if st.Depth%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			h, err := decodeHeader(k, v)
			if err != nil {
				return err
			}
			st.Depth++
			if st.Oldest.IsZero() || h.Received.Before(st.Oldest) {
				st.Oldest = h.Received
			}
			if h.Attempts > 0 {
				st.Failing++
				if len(st.Failures) < maxFailures {
					st.Failures = append(st.Failures, h)
				}
			}
		}
		return nil
	})
	if err != nil {
		return InboxStats{}, fmt.Errorf("inbox: read %s: %w", in.db.Path(), err)
	}
	if !st.Oldest.IsZero() {
		st.OldestAge = max(0, now.Sub(st.Oldest).Seconds())
	}
	st.Driver, st.Pending, st.Redelivered = "bolt", st.Depth-st.Failing, st.Failing
	return st, nil
}

// The stored form: a version byte, received and next (Unix nanoseconds),
// attempts, the last error's length and bytes, then the body.
const (
	entryVersion = 1
	headerLen    = 1 + 8 + 8 + 4 + 4
)

func key(id uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, id)
}

func encodeEntry(e Entry) []byte {
	buf := make([]byte, 0, headerLen+len(e.LastErr)+len(e.Body))
	buf = append(buf, entryVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Received.UnixNano()))
	var next int64
	if !e.Next.IsZero() {
		next = e.Next.UnixNano()
	}
	buf = binary.BigEndian.AppendUint64(buf, uint64(next))
	buf = binary.BigEndian.AppendUint32(buf, uint32(e.Attempts))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(e.LastErr)))
	buf = append(buf, e.LastErr...)
	return append(buf, e.Body...)
}

// decodeHeader reads everything but the body, which stays in bbolt's
// memory map: cheap enough to scan a large inbox.
func decodeHeader(k, v []byte) (Entry, error) {
	if len(k) != 8 || len(v) < headerLen || v[0] != entryVersion {
		return Entry{}, fmt.Errorf("entry %x: unreadable (%d bytes)", k, len(v))
	}
	e := Entry{ID: binary.BigEndian.Uint64(k)}
	e.Received = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9])))
	if n := int64(binary.BigEndian.Uint64(v[9:17])); n != 0 {
		e.Next = time.Unix(0, n)
	}
	e.Attempts = int(binary.BigEndian.Uint32(v[17:21]))
	errLen := int(binary.BigEndian.Uint32(v[21:25]))
	if len(v) < headerLen+errLen {
		return Entry{}, fmt.Errorf("entry %d: unreadable (%d bytes)", e.ID, len(v))
	}
	e.LastErr = string(v[headerLen : headerLen+errLen])
	e.Size = len(v) - headerLen - errLen
	return e, nil
}

// decodeEntry reads a whole entry, copying the body out of bbolt's memory.
func decodeEntry(k, v []byte) (Entry, error) {
	e, err := decodeHeader(k, v)
	if err != nil {
		return Entry{}, err
	}
	e.Body = append([]byte(nil), v[len(v)-e.Size:]...)
	return e, nil
}
