package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/offload-dev/offload/ledger"
)

// formatV1 is the first byte of every value this version writes.
const formatV1 = 1

const flagDeleted = 1 << 0

// encode writes a record's value (its bucket and key are its address):
//
//	version byte (1)
//	flags byte (bit 0: deleted)
//	time: seconds since 1970 (signed varint), nanoseconds (uvarint)
//	sequencer, etag, version id, purged: each a uvarint length and the bytes
//
// A later format may append fields; this decoder ignores what follows.
func encode(r ledger.Record) []byte {
	n := 2 + 2*binary.MaxVarintLen64 + 4*binary.MaxVarintLen32 +
		len(r.Sequencer) + len(r.ETag) + len(r.VersionID) + len(r.Purged)
	b := make([]byte, 0, n)
	var flags byte
	if r.Deleted {
		flags |= flagDeleted
	}
	b = append(b, formatV1, flags)
	b = binary.AppendVarint(b, r.Time.Unix())
	b = binary.AppendUvarint(b, uint64(r.Time.Nanosecond()))
	for _, s := range [...]string{r.Sequencer, r.ETag, r.VersionID, r.Purged} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errShort = errors.New("value is cut short")

// decode reads a value written by encode. The time comes back in UTC.
func decode(bucket, key string, b []byte) (ledger.Record, error) {
	r := ledger.Record{Bucket: bucket, Key: key}
	if len(b) < 2 {
		return r, fmt.Errorf("decode %s/%s: %w", bucket, key, errShort)
	}
	if b[0] != formatV1 {
		return r, fmt.Errorf("decode %s/%s: unknown format %d (written by a newer offload?)", bucket, key, b[0])
	}
	r.Deleted = b[1]&flagDeleted != 0
	b = b[2:]
	sec, n := binary.Varint(b)
	if n <= 0 {
		return r, fmt.Errorf("decode %s/%s: time: %w", bucket, key, errShort)
	}
	b = b[n:]
	nsec, n := binary.Uvarint(b)
	if n <= 0 || nsec >= 1e9 {
		return r, fmt.Errorf("decode %s/%s: time: bad nanoseconds", bucket, key)
	}
	b = b[n:]
	r.Time = time.Unix(sec, int64(nsec)).UTC()
	for _, f := range [...]*string{&r.Sequencer, &r.ETag, &r.VersionID, &r.Purged} {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return r, fmt.Errorf("decode %s/%s: %w", bucket, key, errShort)
		}
		if l > 0 {
			*f = string(b[n : n+int(l)])
		}
		b = b[n+int(l):]
	}
	return r, nil
}
