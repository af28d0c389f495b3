package ledger_test

import (
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/ledger"
)

func TestCompareSequencer(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"0", "", 0},
		{"9", "0A", -1},
		{"0A", "9", 1},
		{"0a", "0A", 0},
		{"00FF", "100", -1},
		{"100", "00ff", 1},
		{"FF", "00ff", 0},
		{"0055AED6DCD90281E5", "55AED6DCD90281E6", -1},
		{"FFFFFFFFFFFFFFFF", "10000000000000000", -1},
	}
	for _, c := range cases {
		if got := ledger.CompareSequencer(c.a, c.b); got != c.want {
			t.Errorf("CompareSequencer(%q, %q): got %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestPadSequencer(t *testing.T) {
	zeros := func(n int) string { return strings.Repeat("0", n) }
	cases := []struct{ in, want string }{
		{"", zeros(32)},
		{"ff", zeros(30) + "FF"},
		{"0055AED6DCD90281E5", zeros(14) + "0055AED6DCD90281E5"},
		{strings.Repeat("F", 32), strings.Repeat("F", 32)},
		// More than 32 digits, only because of leading zeros.
		{zeros(8) + "ff", zeros(30) + "FF"},
		{zeros(40) + "ff", zeros(30) + "FF"},
		{zeros(40), zeros(32)},
		// More than 32 significant digits: as it is.
		{"1" + zeros(32), "1" + zeros(32)},
	}
	for _, c := range cases {
		if got := ledger.PadSequencer(c.in); got != c.want {
			t.Errorf("PadSequencer(%q): got %q, want %q", c.in, got, c.want)
		}
	}
	// Padded, string order is number order.
	seqs := []string{"1", "9", "0A", "00FF", "100", "0055AED6DCD90281E5", zeros(36) + "55AED6DCD90281E6", "FFFFFFFFFFFFFFFF", "10000000000000000"}
	for _, a := range seqs {
		for _, b := range seqs {
			if got, want := strings.Compare(ledger.PadSequencer(a), ledger.PadSequencer(b)), ledger.CompareSequencer(a, b); got != want {
				t.Errorf("padded %q vs %q: got %d, want %d as CompareSequencer", a, b, got, want)
			}
		}
	}
}

func TestNewer(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name    string
		r, held ledger.Record
		want    bool
	}{
		{"higher sequencer, earlier time", ledger.Record{Sequencer: "0B", Time: t0}, ledger.Record{Sequencer: "0A", Time: t0.Add(time.Hour)}, true},
		{"lower sequencer, later time", ledger.Record{Sequencer: "09", Time: t0.Add(time.Hour)}, ledger.Record{Sequencer: "0A", Time: t0}, false},
		{"equal sequencer", ledger.Record{Sequencer: "0A", Time: t0.Add(time.Hour)}, ledger.Record{Sequencer: "a", Time: t0}, false},
		{"no sequencer, later", ledger.Record{Time: t0.Add(time.Nanosecond)}, ledger.Record{Time: t0}, true},
		{"no sequencer, equal", ledger.Record{Time: t0}, ledger.Record{Time: t0}, false},
		{"held has none", ledger.Record{Sequencer: "01", Time: t0.Add(time.Second)}, ledger.Record{Time: t0}, true},
		{"r has none", ledger.Record{Time: t0.Add(-time.Second)}, ledger.Record{Sequencer: "01", Time: t0}, false},
		{"same sequencer, later purge", ledger.Record{Sequencer: "07", Purged: "07"}, ledger.Record{Sequencer: "7", Purged: "05"}, true},
		{"same sequencer, same purge", ledger.Record{Sequencer: "07", Purged: "07"}, ledger.Record{Sequencer: "07", Purged: "7"}, false},
		{"same sequencer, no purge", ledger.Record{Sequencer: "07"}, ledger.Record{Sequencer: "07", Purged: "05"}, false},
		{"lower sequencer, later purge", ledger.Record{Sequencer: "06", Purged: "09"}, ledger.Record{Sequencer: "07"}, false},
		{"same time, later purge", ledger.Record{Time: t0, Purged: "02"}, ledger.Record{Time: t0, Purged: "01"}, true},
		{"later time, no purge", ledger.Record{Time: t0.Add(time.Second)}, ledger.Record{Time: t0, Purged: "01"}, true},
	}
	for _, c := range cases {
		if got := ledger.Newer(c.r, c.held); got != c.want {
			t.Errorf("%s: Newer: got %t, want %t", c.name, got, c.want)
		}
	}
}
