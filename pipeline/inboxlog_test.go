package pipeline

import (
	"slices"
	"testing"
	"time"
)

// logOf returns the records of entries ids, bodies "b<id>", as the log
// holds them.
func logOf(ids ...uint64) []byte {
	var group []*addition
	for _, id := range ids {
		group = append(group, &addition{e: Entry{ID: id, Received: time.Unix(0, int64(id)), Body: []byte{'b', byte('0' + id)}}})
	}
	return appendRecords(group)
}

// TestReadLogChain: the log holds the chain of good records from offset 0
// whose ids follow one another; of them, those above the bucket's
// sequence are new. A torn or corrupt record, or one left from an earlier
// round of the log, ends the chain.
func TestReadLogChain(t *testing.T) {
	chain := logOf(4, 5, 6)
	corrupt := slices.Clone(chain)
	corrupt[len(logOf(4))+logHeaderLen] ^= 1 // entry 5's body
	tests := []struct {
		name string
		data []byte
		seq  uint64
		want []uint64
	}{
		{"empty", nil, 0, nil},
		{"zeros", make([]byte, 100), 0, nil},
		{"all new", chain, 3, []uint64{4, 5, 6}},
		{"the first above a gap of lost ids", chain, 1, []uint64{4, 5, 6}},
		{"some in the bucket already", chain, 4, []uint64{5, 6}},
		{"all in the bucket already", chain, 6, nil},
		{"a torn last record", chain[:len(chain)-1], 3, []uint64{4, 5}},
		{"only a torn header", chain[:logHeaderLen-1], 3, nil},
		{"a corrupt record ends it", corrupt, 3, []uint64{4}},
		{"zeros after it", append(slices.Clone(chain), make([]byte, 64)...), 3, []uint64{4, 5, 6}},
		// The log started over at 7 over records 1..3 of an earlier round,
		// which the bucket's sequence (6) already covers.
		{"an earlier round after it", append(logOf(7, 8), logOf(1, 2, 3)[len(logOf(1, 2)):]...), 6, []uint64{7, 8}},
		{"an earlier round that was not overwritten", logOf(1, 2, 3), 6, nil},
		{"ids out of sequence", append(logOf(4, 5), logOf(7)...), 3, []uint64{4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			for _, e := range readLogChain(tt.data, tt.seq) {
				got = append(got, e.ID)
				if want := []byte{'b', byte('0' + e.ID)}; string(e.Body) != string(want) || e.Size != len(want) || !e.Received.Equal(time.Unix(0, int64(e.ID))) {
					t.Errorf("entry %d: got body %q size %d received %v, want %q, %d, %v", e.ID, e.Body, e.Size, e.Received, want, len(want), time.Unix(0, int64(e.ID)))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got ids %v, want %v", got, tt.want)
			}
		})
	}
}
