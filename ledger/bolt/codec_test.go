package bolt

import (
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/ledger"
)

func TestCodec(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	cases := []ledger.Record{
		{},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 999999999, cet)},
		{Sequencer: "0055AED6DCD90281E5", ETag: "d41d8cd98f00b204e9800998ecf8427e", VersionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
			Time: time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC), Deleted: true, Purged: "0055AED6DCD90281E4"},
		{ETag: strings.Repeat("é", 300), Time: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for i, want := range cases {
		want.Bucket, want.Key = "b", "k"
		b := encode(want)
		got, err := decode("b", "k", b)
		if err != nil {
			t.Fatalf("case %d: decode: %v", i, err)
		}
		if !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
			t.Errorf("case %d: time: got %s, want %s in UTC", i, got.Time, want.Time)
		}
		got.Time, want.Time = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("case %d: got %+v, want %+v", i, got, want)
		}
		// Fields a later format appends are ignored.
		if got, err := decode("b", "k", append(b, 7, 'x')); err != nil || got.ETag != cases[i].ETag {
			t.Errorf("case %d with a field appended: got %+v, %v; want it read", i, got, err)
		}
		// Every cut is an error, never a panic or a wrong record.
		for n := range len(b) {
			if _, err := decode("b", "k", b[:n]); err == nil {
				t.Errorf("case %d cut to %d of %d bytes: got no error, want one", i, n, len(b))
			}
		}
	}
	if _, err := decode("b", "k", []byte{2, 0, 0, 0}); err == nil || !strings.Contains(err.Error(), "unknown format 2") {
		t.Errorf("format 2: got %v, want an unknown format error", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(ledger.Record{Sequencer: "01", ETag: "e", Time: time.Unix(1, 2)}))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decode("b", "k", b)
		if err != nil {
			return
		}
		// What decodes encodes and decodes back to itself.
		again, err := decode("b", "k", encode(r))
		if err != nil || again != r {
			t.Fatalf("re-encoded %+v: got %+v, %v", r, again, err)
		}
	})
}
