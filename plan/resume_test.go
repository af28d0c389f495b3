package plan_test

import (
	"slices"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/plan"
)

// A redelivered change that was purged at some targets before it failed at
// another is purged only at the others, and still committed as purged; a
// receipt for another change (an older one, or one a newer change in the
// batch supersedes) saves nothing.
func TestResume(t *testing.T) {
	held := map[plan.Object]ledger.Record{
		{Bucket: "my-site", Key: "a.html"}: {Bucket: "my-site", Key: "a.html", ETag: "e1", Sequencer: "05", Time: t0},
	}
	x := put("a.html", "e2", "06")
	receipt := func(c event.Change, targets ...string) map[plan.Object]ledger.Receipt {
		return map[plan.Object]ledger.Receipt{{Bucket: "my-site", Key: "a.html"}: {
			Bucket: "my-site", Key: "a.html", Change: plan.ChangeID(c), Targets: targets}}
	}
	spelt := x
	spelt.Sequencer = "0006"
	tests := []struct {
		name     string
		changes  []event.Change
		receipts map[plan.Object]ledger.Receipt
		done     []string // the deciding change's Done
		cf, ak   int      // items purged per target
	}{
		{"no receipt", []event.Change{x}, nil, nil, 1, 1},
		{"done at cf", []event.Change{x}, receipt(x, "cf"), []string{"cf"}, 0, 1},
		{"done at cf, the sequencer spelt otherwise", []event.Change{spelt}, receipt(x, "cf"), []string{"cf"}, 0, 1},
		{"done at both", []event.Change{x}, receipt(x, "ak", "cf"), []string{"ak", "cf"}, 0, 0},
		{"done at a target the site no longer has", []event.Change{x}, receipt(x, "gone"), nil, 1, 1},
		{"the receipt of an older change", []event.Change{x}, receipt(put("a.html", "e9", "04"), "cf"), nil, 1, 1},
		{"the receipt of another ETag", []event.Change{x}, receipt(put("a.html", "e9", "06"), "cf"), nil, 1, 1},
		{"a newer change supersedes it", []event.Change{x, put("a.html", "e3", "07")}, receipt(x, "cf"), nil, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan.Resume(cfg, tt.changes, held, tt.receipts)
			last := len(tt.changes) - 1
			d := p.Changes[last]
			if d.Decision != plan.Purge || !slices.Equal(d.Done, tt.done) {
				t.Fatalf("deciding change: got %s/%s done %v, want purge done %v", d.Decision, d.Reason, d.Done, tt.done)
			}
			if got := len(paths(p, "cf")); got != tt.cf {
				t.Errorf("cloudfront: got %d paths, want %d", got, tt.cf)
			}
			if got := len(paths(p, "ak")); got != tt.ak {
				t.Errorf("akamai: got %d URLs, want %d", got, tt.ak)
			}
			// Committed as purged up to it, once its own steps succeed.
			if len(p.Commits) != 1 || p.Commits[0].Record.Purged != tt.changes[last].Sequencer ||
				!slices.Contains(p.Commits[0].Changes, last) {
				t.Errorf("commits: got %+v, want one recording change %d, purged up to it", p.Commits, last)
			}
		})
	}
}
