package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// InboxBucket is the top-level bbolt bucket that holds the inbox, beside
// the ledger's bucket in the same file.
const InboxBucket = "inbox"

// DeadLetterBucket is the top-level bbolt bucket that holds the inbox's
// dead letters, keyed by the id they had in the inbox.
const DeadLetterBucket = "inbox-dead"

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
	// Log is the path of the inbox's write-ahead log, where Adds are made
	// durable before they are moved into DB in bulk. Default DB's path
	// with ".inbox-log" appended.
	Log string
}

// Inbox is a durable queue of received event bodies in a bbolt file. Add
// returns only after the entry is on disk, in the inbox's write-ahead log
// (fdatasynced unless the database was opened with NoSync), so an event
// acknowledged to its sender survives a crash; the log's entries are moved
// into the bbolt file in bulk, before anything reads the inbox, and when
// the inbox is opened. Close it before its database. Entries that failed
// too often are kept apart as dead letters (DeadLetterBucket) until
// replayed or discarded. It is safe for concurrent use.
type Inbox struct {
	db    *bbolt.DB
	now   func() time.Time
	depth atomic.Int64
	dead  atomic.Int64
	added chan struct{}

	mu      sync.Mutex
	queue   []*addition // Adds waiting for a commit, in order
	leading bool        // an Add is committing a group
	lastID  uint64      // the last id given
	// What the next group gathers by (gatherWait): the Adds the last
	// commit took and left queued, when it ended and how long it took;
	// and the leader waiting for them, which the Add that completes them
	// tells through gathered.
	expect          int
	lastEnd         time.Time
	lastTook        time.Duration
	maxGather, idle time.Duration // maxGather and gatherPause; tests set them
	waiting         bool
	gathered        chan struct{}
	arr             arrivals
	readID          uint64     // the worker has read every entry up to it
	replay          sync.Mutex // one Replay at a time

	// logMu orders the log's appends and its moves into the bucket;
	// pending are the entries in the log, in id order, not yet moved.
	logMu   sync.Mutex
	log     *inboxLog
	release func() // the log's claim (claimLog)
	pending []Entry
	appends int // groups appended to the log; tests count them
}

// NewInbox returns the inbox kept in opts.DB, after applying optFns to a
// copy of opts, creating its buckets if needed.
func NewInbox(opts InboxOptions, optFns ...func(*InboxOptions)) (*Inbox, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	db := opts.DB
	if db == nil {
		return nil, errors.New("pipeline: InboxOptions.DB is required")
	}
	in := &Inbox{db: db, now: opts.Now, added: make(chan struct{}, 1), maxGather: maxGather, idle: gatherPause,
		gathered: make(chan struct{}, 1)}
	if in.now == nil {
		in.now = time.Now
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists([]byte(InboxBucket)); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists([]byte(DeadLetterBucket))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: open in %s: %w", db.Path(), err)
	}
	var seq uint64
	err = db.View(func(tx *bbolt.Tx) error {
		b, _, err := buckets(tx)
		if err == nil {
			seq = b.Sequence()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: open in %s: %w", db.Path(), err)
	}
	logPath := opts.Log
	if logPath == "" {
		logPath = db.Path() + ".inbox-log"
	}
	if in.release, err = claimLog(logPath, db); err != nil {
		return nil, fmt.Errorf("inbox: open %s: %w", logPath, err)
	}
	// What the log holds beyond the bucket's sequence was answered, or may
	// have been: it goes to the bucket now, and the log starts over.
	in.log, in.pending, err = openInboxLog(logPath, seq, !db.NoSync)
	if err != nil {
		in.release()
		return nil, fmt.Errorf("inbox: open %s: %w", logPath, err)
	}
	if err := in.flush(); err != nil {
		in.log.f.Close()
		in.release()
		return nil, err
	}
	var n, dead int
	err = db.View(func(tx *bbolt.Tx) error {
		b, d, err := buckets(tx)
		if err != nil {
			return err
		}
		n, dead, in.lastID = b.Stats().KeyN, d.Stats().KeyN, b.Sequence()
		return nil
	})
	if err != nil {
		in.log.f.Close()
		in.release()
		return nil, fmt.Errorf("inbox: open in %s: %w", db.Path(), err)
	}
	in.depth.Store(int64(n))
	in.dead.Store(int64(dead))
	return in, nil
}

// addition is one Add waiting for its group's commit.
type addition struct {
	e    Entry
	err  error
	lead bool          // set before done is closed: commit the next group
	done chan struct{} // closed when committed, or when it is to lead
}

// Group commit bounds: one commit takes at most this many Adds, and this
// many bytes of bodies (but always one).
const (
	maxGroup      = 1024
	maxGroupBytes = 32 << 20
)

// appendFill is the inbox bucket's fill percent for Adds (bbolt's maximum).
const appendFill = 1.0

// maxGather bounds how long a group waits for the Adds it expects, and
// gatherPause is the time since the last commit past which it expects none
// (gatherWait).
const (
	maxGather   = time.Millisecond
	gatherPause = 10 * time.Millisecond
)

// Add stores body as a new entry and returns its id once it is durable.
// Ids increase monotonically. Concurrent Adds share one commit, its write
// to the log and its fdatasync: the Adds that arrive while a commit is on
// disk are committed together as soon as it ends, by one of them, so a
// lone Add waits for no one and a burst costs one commit per disk round
// trip. Under a burst the
// next group also waits, for at most a millisecond, for the senders the
// last commit answered (gatherWait). Once queued, an Add waits for its
// commit even if ctx ends: the entry may be on disk.
func (in *Inbox) Add(ctx context.Context, body []byte) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("inbox: add: %w", err)
	}
	e := Entry{Received: in.now(), Body: body, Size: len(body)}
	a := &addition{e: e, done: make(chan struct{})}
	in.mu.Lock()
	in.queue = append(in.queue, a)
	lead := !in.leading
	in.leading = true
	if in.waiting && len(in.queue) >= in.expect {
		in.waiting = false
		in.gathered <- struct{}{} // one send a wait: never blocks
	}
	in.mu.Unlock()
	if !lead {
		<-a.done
		if !a.lead {
			return a.e.ID, a.err
		}
	}
	// a leads: it is first in the queue, so in the group committed now.
	in.commitGroup()
	return a.e.ID, a.err
}

// commitGroup commits the Adds at the head of the queue in one append to
// the log, tells them, and hands the lead to the
// next Add waiting, if any: a leader commits one group, so no Add waits on
// more than two.
func (in *Inbox) commitGroup() {
	in.gather()
	start := time.Now()
	in.mu.Lock()
	n, size := 0, 0
	for n < len(in.queue) && n < maxGroup && (n == 0 || size+in.queue[n].e.Size <= maxGroupBytes) {
		size += in.queue[n].e.Size
		in.lastID++
		in.queue[n].e.ID = in.lastID
		n++
	}
	group := in.queue[:n:n]
	in.queue = in.queue[n:]
	in.mu.Unlock()

	err := in.appendGroup(group)
	if err != nil {
		err = fmt.Errorf("inbox: add to %s: %w", in.log.path, err)
	} else {
		in.depth.Add(int64(len(group)))
	}

	in.mu.Lock()
	if err == nil {
		in.arr.add(len(group), in.now(), group[len(group)-1].e.ID, in.readID)
	}
	in.expect, in.lastEnd = len(group)+len(in.queue), time.Now()
	in.lastTook = in.lastEnd.Sub(start)
	if len(in.queue) > 0 {
		in.queue[0].lead = true
		close(in.queue[0].done)
	} else {
		in.leading = false
	}
	in.mu.Unlock()
	for i, a := range group {
		if err != nil {
			a.e.ID, a.err = 0, err
		}
		if i > 0 { // the first is the leader, which is not waiting
			close(a.done)
		}
	}
	if err == nil {
		in.signal()
	}
}

// appendGroup writes group to the log, durably, and counts its entries
// pending; past logFlushAt, it moves the log into the bucket.
func (in *Inbox) appendGroup(group []*addition) error {
	in.logMu.Lock()
	defer in.logMu.Unlock()
	if in.log.broken {
		if err := in.flushLocked(); err != nil {
			return err
		}
	}
	buf := appendRecords(group)
	if err := in.log.append(buf); err != nil {
		return err
	}
	in.appends++
	for _, a := range group {
		in.pending = append(in.pending, a.e)
	}
	if in.log.off >= logFlushAt {
		// The Adds are durable in the log whatever becomes of this; a
		// failed move is tried again by the next reader.
		_ = in.flushLocked()
	}
	return nil
}

// flush moves the log's entries into the bucket, with the sequence, in one
// bbolt commit, and starts the log over: what reads the bucket calls it
// first.
func (in *Inbox) flush() error {
	in.logMu.Lock()
	defer in.logMu.Unlock()
	return in.flushLocked()
}

func (in *Inbox) flushLocked() error {
	if len(in.pending) > 0 {
		err := in.db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte(InboxBucket))
			if b == nil {
				return fmt.Errorf("bucket %q is missing", InboxBucket)
			}
			// Ids only grow, so every Put appends: full pages, not the
			// half full ones a split leaves by default.
			b.FillPercent = appendFill
			for _, e := range in.pending {
				if err := b.Put(key(e.ID), encodeEntry(e)); err != nil {
					return err
				}
			}
			return b.SetSequence(max(b.Sequence(), in.pending[len(in.pending)-1].ID))
		})
		if err != nil {
			return fmt.Errorf("inbox: move %d entries from %s to %s: %w", len(in.pending), in.log.path, in.db.Path(), err)
		}
		clear(in.pending)
		in.pending = in.pending[:0]
	}
	if in.log.off == 0 && !in.log.broken && in.log.size >= logPrealloc {
		return nil
	}
	if err := in.log.restart(); err != nil {
		return fmt.Errorf("inbox: restart %s: %w", in.log.path, err)
	}
	return nil
}

// Close moves what the log holds into the bucket and closes the log. The
// database stays open.
func (in *Inbox) Close() error {
	in.logMu.Lock()
	defer in.logMu.Unlock()
	err := in.flushLocked()
	if cerr := in.log.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("inbox: close %s: %w", in.log.path, cerr)
	}
	in.release()
	return err
}

// openLogs are the inbox logs open in this process, by absolute path, with
// the database of the inbox that has each: two inboxes appending to one log
// would overwrite each other's records. (Another process cannot open the
// database while this one has it: bbolt locks the file.)
var openLogs = struct {
	sync.Mutex
	m map[string]*bbolt.DB
}{m: map[string]*bbolt.DB{}}

// claimLog reserves path for an inbox of db until release is called. A log
// whose inbox's database has been closed without the inbox (a crash, as
// tests make one) is taken over.
func claimLog(path string, db *bbolt.DB) (release func(), err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	openLogs.Lock()
	defer openLogs.Unlock()
	if held, ok := openLogs.m[abs]; ok && held.View(func(*bbolt.Tx) error { return nil }) == nil {
		return nil, errors.New("another inbox of this process has it open: close that inbox first")
	}
	openLogs.m[abs] = db
	return func() {
		openLogs.Lock()
		defer openLogs.Unlock()
		if openLogs.m[abs] == db {
			delete(openLogs.m, abs)
		}
	}, nil
}

// gather waits, as a group's leader, until the Adds gatherWait expects are
// queued or its wait ends.
func (in *Inbox) gather() {
	in.mu.Lock()
	wait := in.gatherWait(time.Now())
	in.waiting = wait > 0
	in.mu.Unlock()
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	select {
	case <-in.gathered:
	case <-t.C:
	}
	t.Stop()
	in.mu.Lock()
	if in.waiting {
		in.waiting = false
	} else {
		select { // the Add that completed the group told us as the wait ended
		case <-in.gathered:
		default:
		}
	}
	in.mu.Unlock()
}

// gatherWait returns how long the next group is to wait at now, with in.mu
// held: until as many Adds are queued as the last commit took and left
// queued, for at most that commit's time (and maxGather). Under a burst
// each sender sends its next event once its last is stored: without the
// wait, those a commit answered come back while the next is on disk, and
// the senders split into groups that take turns, each commit storing a
// part of them. A lone Add (the last commit took one), or the first after
// a pause (gatherPause since the last commit), waits for no one.
func (in *Inbox) gatherWait(now time.Time) time.Duration {
	if len(in.queue) >= in.expect || now.Sub(in.lastEnd) > in.idle {
		return 0
	}
	return min(in.lastTook, in.maxGather)
}

func (in *Inbox) signal() {
	select {
	case in.added <- struct{}{}:
	default:
	}
}

// arrivals are the entries added since the worker last read them: what it
// gathers by (Gather).
type arrivals struct {
	n                 int
	prev, first, last time.Time // prev: the last added before them
	lastID            uint64
}

// add counts n entries, the last lastID, added at t; those the worker has
// read already (read up to readID: it reads what is in the bucket, which
// a commit fills before the Adds count it) are not waiting.
func (a *arrivals) add(n int, t time.Time, lastID, readID uint64) {
	if lastID <= readID {
		// Read already, so not waiting; but they did arrive: the next
		// event follows them, and does not find the inbox idle.
		if a.n == 0 && t.After(a.prev) {
			a.prev = t
		}
		return
	}
	n = min(n, int(lastID-readID))
	if a.n == 0 {
		a.first = t
	}
	a.n += n
	a.last, a.lastID = t, lastID
}

// arrived returns the arrivals the worker has not read yet.
func (in *Inbox) arrived() arrivals {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.arr
}

// read tells the inbox the worker has read every entry up to id: arrivals
// up to there are no longer waiting. When some after id are, they are
// counted from the ids (an arrival's ids follow one another) and keep the
// first time of all: they are applied no later than the rule says.
func (in *Inbox) read(id uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.readID = max(in.readID, id)
	if in.arr.n == 0 {
		return
	}
	if in.arr.lastID > id {
		// The rest followed those read: still gathering, not idle.
		in.arr.n, in.arr.prev = min(in.arr.n, int(in.arr.lastID-id)), in.arr.first
		return
	}
	in.arr = arrivals{prev: in.arr.last}
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
	out, next, _, err := in.due(ctx, now, limit, maxBytes)
	return out, next, err
}

// due is Due, and it returns the last id it saw: every entry up to it was
// read, or is not due, or was settled.
func (in *Inbox) due(ctx context.Context, now time.Time, limit, maxBytes int) ([]Entry, time.Time, uint64, error) {
	if err := in.flush(); err != nil {
		return nil, time.Time{}, 0, err
	}
	var out []Entry
	var next time.Time
	var seen uint64
	size := 0
	err := in.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(InboxBucket))
		if b == nil {
			return fmt.Errorf("bucket %q is missing", InboxBucket)
		}
		seen = b.Sequence()
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
				seen = out[len(out)-1].ID
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
		return nil, time.Time{}, 0, fmt.Errorf("inbox: read %s: %w", in.db.Path(), err)
	}
	return out, next, seen, nil
}

// Outcome is what became of an entry in a worker's attempt.
type Outcome struct {
	ID   uint64
	Err  string    // "" done: the entry is deleted; else it failed
	Next time.Time // when it failed: not before
	// Dead, when it failed, moves it to the dead letters (with its
	// attempts and Err) instead of keeping it for another attempt.
	Dead bool
}

// Settle records a batch's outcomes in one transaction: done entries are
// deleted; failed ones count an attempt and wait until their Next, or
// become dead letters.
func (in *Inbox) Settle(ctx context.Context, outcomes []Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	if err := in.flush(); err != nil {
		return err
	}
	deleted, dead := 0, 0
	err := in.db.Update(func(tx *bbolt.Tx) error {
		deleted, dead = 0, 0
		b, d, err := buckets(tx)
		if err != nil {
			return err
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
			if !o.Dead {
				if err := b.Put(k, encodeEntry(e)); err != nil {
					return err
				}
				continue
			}
			e.Next = time.Time{}
			if err := d.Put(k, encodeEntry(e)); err != nil {
				return err
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			deleted++
			dead++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("inbox: settle %d entries in %s: %w", len(outcomes), in.db.Path(), err)
	}
	in.depth.Add(-int64(deleted))
	in.dead.Add(int64(dead))
	return nil
}

// buckets returns the inbox's bucket and its dead letters'.
func buckets(tx *bbolt.Tx) (inbox, dead *bbolt.Bucket, err error) {
	inbox, dead = tx.Bucket([]byte(InboxBucket)), tx.Bucket([]byte(DeadLetterBucket))
	switch {
	case inbox == nil:
		return nil, nil, fmt.Errorf("bucket %q is missing", InboxBucket)
	case dead == nil:
		return nil, nil, fmt.Errorf("bucket %q is missing", DeadLetterBucket)
	}
	return inbox, dead, nil
}

// Delete removes one entry, whatever its state: an operator's decision to
// drop an event that can never be processed.
func (in *Inbox) Delete(ctx context.Context, id uint64) error {
	if err := in.flush(); err != nil {
		return err
	}
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
	if err := in.flush(); err != nil {
		return InboxStats{}, err
	}
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
	st.DeadLettered = int(in.dead.Load())
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
