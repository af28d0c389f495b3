package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// The inbox's log (InboxOptions.Log). Add appends its entry to it and
// waits for a flush (fdatasync) that began after the write; up to maxSyncs
// flushes run at once, and each covers every Add written before it began,
// so a burst costs far fewer flushes than Adds. A mover copies what is
// durable into the inbox's bbolt bucket in the background, in id order
// and one transaction per round, and raises the bucket's sequence to the
// last id copied in that transaction. The sequence is the log's
// watermark: at open, the records above it are copied, the others were
// already. The worker reads the bucket only, so an entry is applied once
// it is copied, a few milliseconds after its 202.
//
// A record: length of the rest (4 bytes), its CRC-32C (4), then the id
// (8), the time received (8, Unix nanoseconds) and the body. A crash in
// the middle of an append leaves a torn record at the end, which fails
// its CRC: reading stops there, and nothing after it was acknowledged
// (the flush that acknowledged a later record covered it).
// Once everything logged is copied and the log has grown past
// logRewindBytes, it is emptied (and fsynced), so it never holds more than
// that beyond what waits to be copied.

const (
	logHeader      = 4 + 4 + 8 + 8
	logRewindBytes = 4 << 20
	maxMove        = 4096 // entries copied in one transaction
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type inboxLog struct {
	path string
	db   *bbolt.DB

	f    *os.File
	cond *sync.Cond // on Inbox.mu: a flush ended

	// Guarded by Inbox.mu:
	off     int64         // the end of what is written
	synced  int64         // every byte below is durable
	syncing int           // flushes in flight
	written []logged      // written, not known durable yet, in id order
	broken  error         // a write or flush failed: no more Adds
	pending []Entry       // durable, not copied yet, in id order
	moving  bool          // a mover runs
	err     error         // the mover's last failure, until it succeeds
	closed  bool          // Close was called
	stopped chan struct{} // closed when the running mover returns
}

// logged is a record written to the log, which ends at end.
type logged struct {
	e   Entry
	end int64
}

// openLog opens (or creates) the log at path and copies into db the
// records it holds above the bucket's sequence.
func openLog(path string, db *bbolt.DB, mu *sync.Mutex) (*inboxLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("inbox: open log: %w", err)
	}
	l := &inboxLog{path: path, db: db, f: f, cond: sync.NewCond(mu)}
	if err := l.recover(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func (l *inboxLog) recover() error {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return fmt.Errorf("inbox: read log: %w", err)
	}
	records := readLog(data)
	err = l.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(InboxBucket))
		if b == nil {
			return fmt.Errorf("bucket %q is missing", InboxBucket)
		}
		seq := b.Sequence()
		for _, e := range records {
			if e.ID <= seq {
				continue // copied before
			}
			if err := b.Put(key(e.ID), encodeEntry(e)); err != nil {
				return err
			}
			seq = e.ID
		}
		return b.SetSequence(seq)
	})
	if err != nil {
		return fmt.Errorf("inbox: copy the log %s into %s: %w", l.path, l.db.Path(), err)
	}
	return l.rewind()
}

// readLog returns the records of a log up to the first that is torn or
// not one.
func readLog(data []byte) []Entry {
	var out []Entry
	for len(data) >= 8 {
		n := int(binary.BigEndian.Uint32(data))
		if n < logHeader-8 || n > len(data)-8 || crc32.Checksum(data[8:8+n], castagnoli) != binary.BigEndian.Uint32(data[4:]) {
			break
		}
		r := data[8 : 8+n]
		out = append(out, Entry{
			ID:       binary.BigEndian.Uint64(r),
			Received: time.Unix(0, int64(binary.BigEndian.Uint64(r[8:]))),
			Body:     r[16:],
			Size:     n - 16,
		})
		data = data[8+n:]
	}
	return out
}

func appendRecord(buf []byte, e Entry) []byte {
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(16+len(e.Body)))
	buf = binary.BigEndian.AppendUint32(buf, 0) // the CRC, below
	buf = binary.BigEndian.AppendUint64(buf, e.ID)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Received.UnixNano()))
	buf = append(buf, e.Body...)
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(buf[start+8:], castagnoli))
	return buf
}

// rewind empties the log, durably. The caller holds Inbox.mu, or is
// alone.
func (l *inboxLog) rewind() error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("inbox: empty log %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("inbox: empty log %s: %w", l.path, err)
	}
	l.off, l.synced = 0, 0
	return nil
}

// maxSyncs bounds the flushes (fdatasync) in flight. A disk (a virtio
// one, an SSD) serves several at once, and each covers every record
// written before it began, so the Adds that wait share them; more in
// flight means fewer Adds to share each, and more CPU. With 16 senders
// here, 1 and 2 took the most Adds a second, 4 and 8 fewer.
const maxSyncs = 2

// add logs e under a new id and returns once it is durable.
func (l *inboxLog) add(in *Inbox, e Entry) (uint64, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if l.closed {
		return 0, fmt.Errorf("inbox: add to %s: the inbox is closed", l.path)
	}
	if l.broken != nil {
		return 0, l.broken
	}
	in.lastID++
	e.ID = in.lastID
	rec := appendRecord(nil, e)
	if _, err := l.f.WriteAt(rec, l.off); err != nil {
		// What was written may be torn: nothing is written after it.
		l.broken = fmt.Errorf("inbox: add to %s: %w (restart to use it again)", l.path, err)
		return 0, l.broken
	}
	l.off += int64(len(rec))
	l.written = append(l.written, logged{e: e, end: l.off})
	if err := l.waitSynced(in, l.off); err != nil {
		return 0, err
	}
	return e.ID, nil
}

// waitSynced returns once every byte below end is durable: covered by a
// flush that began after it was written, its own if fewer than maxSyncs
// are in flight. The caller holds in.mu, which it lets go meanwhile.
func (l *inboxLog) waitSynced(in *Inbox, end int64) error {
	for l.synced < end {
		if l.broken != nil {
			return l.broken
		}
		if l.syncing >= maxSyncs {
			l.cond.Wait()
			continue
		}
		l.syncing++
		target := l.off
		in.mu.Unlock()
		err := datasync(l.f)
		in.mu.Lock()
		l.syncing--
		l.cond.Broadcast()
		if err != nil {
			// After a failed flush the kernel may drop the pages it could
			// not write and report the next flush clean: nothing written
			// since the last good one is known to be on disk.
			if l.broken == nil {
				l.broken = fmt.Errorf("inbox: add to %s: flush: %w (restart to use it again)", l.path, err)
			}
			return l.broken
		}
		if target > l.synced {
			l.synced = target
			l.promote(in)
		}
	}
	return nil
}

// promote hands the records now durable to the mover, in id order, so that
// the bucket's sequence never passes a record not yet copied. The caller
// holds in.mu.
func (l *inboxLog) promote(in *Inbox) {
	n := 0
	for n < len(l.written) && l.written[n].end <= l.synced {
		l.pending = append(l.pending, l.written[n].e)
		n++
	}
	if n == 0 {
		return
	}
	l.written = append(l.written[:0], l.written[n:]...)
	in.depth.Add(int64(n))
	if !l.moving && !l.closed { // closed: the next open copies them
		l.moving, l.stopped = true, make(chan struct{})
		go l.move(in)
	}
}

// move copies the pending entries into the bucket until none is left,
// then rewinds the log if it has grown, and returns. A failed copy is
// tried again a second later (the entries are safe in the log): Stats
// reports the failure meanwhile.
func (l *inboxLog) move(in *Inbox) {
	defer close(l.stopped)
	for {
		in.mu.Lock()
		batch := l.pending[:min(len(l.pending), maxMove)]
		if len(batch) == 0 || (l.closed && l.err != nil) {
			l.moving = false
			in.mu.Unlock()
			l.maybeRewind(in)
			return
		}
		in.mu.Unlock()

		last := batch[len(batch)-1].ID
		err := l.db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte(InboxBucket))
			if b == nil {
				return fmt.Errorf("bucket %q is missing", InboxBucket)
			}
			for _, e := range batch {
				if err := b.Put(key(e.ID), encodeEntry(e)); err != nil {
					return err
				}
			}
			return b.SetSequence(max(b.Sequence(), last))
		})

		in.mu.Lock()
		if err != nil {
			l.err = fmt.Errorf("inbox: copy from the log %s into %s: %w", l.path, l.db.Path(), err)
			closed := l.closed
			in.mu.Unlock()
			if !closed {
				time.Sleep(time.Second)
			}
			continue
		}
		l.err = nil
		l.pending = l.pending[len(batch):]
		in.arr.add(len(batch), in.now(), last, in.readID)
		in.mu.Unlock()
		in.signal()
	}
}

// maybeRewind empties the log once it has grown past logRewindBytes and
// everything in it is copied. Adds wait meanwhile: once per
// logRewindBytes.
func (l *inboxLog) maybeRewind(in *Inbox) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(l.pending) > 0 || len(l.written) > 0 || l.syncing > 0 || l.broken != nil || l.off < logRewindBytes {
		return
	}
	if err := l.rewind(); err != nil {
		l.broken = err
	}
}

// close waits for the Adds in hand and for the mover to copy what is
// pending (or to fail once more), and closes the file.
func (l *inboxLog) close(in *Inbox) error {
	in.mu.Lock()
	if l.closed {
		in.mu.Unlock()
		return nil
	}
	l.closed = true
	for l.syncing > 0 || (len(l.written) > 0 && l.broken == nil) {
		l.cond.Wait()
	}
	for l.moving {
		stopped := l.stopped
		in.mu.Unlock()
		<-stopped
		in.mu.Lock()
	}
	defer in.mu.Unlock()
	return errors.Join(l.err, l.f.Close())
}
