package pipeline

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"time"
)

// inboxLog is the bolt inbox's write-ahead log: a group of Adds is one
// write and one fdatasync here, where a bbolt commit is two fdatasyncs
// (its pages, then its meta page) and more pages written. The entries are
// moved into the bbolt bucket in bulk later (Inbox.flush), after which the
// log starts over at offset 0.
//
// A record is its body's length (4 bytes), a CRC-32C of what follows it
// (4), the entry's id (8) and received time (8, Unix nanoseconds), then the
// body. What the log holds is the chain of records from offset 0 whose ids
// follow one another; the first bad or out-of-sequence record ends it. A
// record left from an earlier round of the log has an id the bucket's
// sequence already covers (the log starts over only after its entries are
// committed to bbolt, with the sequence), so it can neither be taken for a
// new entry nor continue the chain: ids only grow.
type inboxLog struct {
	f    *os.File
	path string
	off  int64 // where the next record goes
	size int64 // the file's size: rewriting below it changes no metadata
	sync bool  // fdatasync each append (off when the bbolt file is NoSync)
	// broken after a failed write: what reached the file is unknown, so
	// the log is moved to the bucket and starts over before the next append.
	broken bool
}

const (
	logHeaderLen = 4 + 4 + 8 + 8
	// logPrealloc is written (zeros) ahead when the log is opened, so an
	// append overwrites allocated blocks and its fdatasync writes the data
	// alone, not the file's size too. logFlushAt: past it, the leader moves
	// the log into the bucket at once rather than waiting for a reader.
	logPrealloc = 4 << 20
	logFlushAt  = 4 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// openInboxLog opens (or creates) the log at path and returns it with the
// entries its chain holds whose ids are above seq, in id order.
func openInboxLog(path string, seq uint64, sync bool) (*inboxLog, []Entry, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	l := &inboxLog{f: f, path: path, sync: sync}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	l.size = int64(len(data))
	return l, readLogChain(data, seq), nil
}

// readLogChain returns the entries of data's chain with ids above seq.
func readLogChain(data []byte, seq uint64) []Entry {
	var out []Entry
	var prev uint64
	for off := 0; len(data)-off >= logHeaderLen; {
		h := data[off : off+logHeaderLen]
		n := int(binary.BigEndian.Uint32(h[0:4]))
		if n > len(data)-off-logHeaderLen {
			break
		}
		rec := data[off+8 : off+logHeaderLen+n]
		id := binary.BigEndian.Uint64(rec[0:8])
		if crc32.Checksum(rec, castagnoli) != binary.BigEndian.Uint32(h[4:8]) || id == 0 || (off > 0 && id != prev+1) {
			break
		}
		if id > seq {
			out = append(out, Entry{ID: id, Received: time.Unix(0, int64(binary.BigEndian.Uint64(rec[8:16]))),
				Body: rec[16:], Size: n})
		}
		prev, off = id, off+logHeaderLen+n
	}
	return out
}

// appendRecords encodes group as records into one new buffer, and points
// each entry's Body at its copy there: the caller's slices are not kept.
func appendRecords(group []*addition) []byte {
	n := 0
	for _, a := range group {
		n += logHeaderLen + len(a.e.Body)
	}
	buf := make([]byte, 0, n)
	for _, a := range group {
		start := len(buf)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(a.e.Body)))
		buf = append(buf, 0, 0, 0, 0) // the CRC, below
		buf = binary.BigEndian.AppendUint64(buf, a.e.ID)
		buf = binary.BigEndian.AppendUint64(buf, uint64(a.e.Received.UnixNano()))
		buf = append(buf, a.e.Body...)
		binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(buf[start+8:], castagnoli))
		a.e.Body = buf[start+logHeaderLen:]
	}
	return buf
}

// append writes buf at the end of the chain and makes it durable.
func (l *inboxLog) append(buf []byte) error {
	if l.broken {
		return errors.New("the log is broken since a failed write")
	}
	if end := l.off + int64(len(buf)); end > l.size {
		// Beyond the preallocated zeros: this fdatasync carries the new size.
		l.size = end
	}
	if _, err := l.f.WriteAt(buf, l.off); err != nil {
		l.broken = true
		return err
	}
	if l.sync {
		if err := fdatasync(l.f); err != nil {
			l.broken = true
			return err
		}
	}
	l.off += int64(len(buf))
	return nil
}

// restart starts the chain over at offset 0, once what it held is in the
// bucket, after making sure the file is allocated to logPrealloc.
func (l *inboxLog) restart() error {
	if l.size < logPrealloc {
		zeros := make([]byte, 64<<10)
		for off := l.size; off < logPrealloc; off += int64(len(zeros)) {
			if _, err := l.f.WriteAt(zeros[:min(int64(len(zeros)), logPrealloc-off)], off); err != nil {
				return err
			}
		}
		if err := fdatasync(l.f); err != nil {
			return err
		}
		l.size = logPrealloc
	}
	l.off, l.broken = 0, false
	return nil
}
