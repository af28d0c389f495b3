package plan_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/plan"
)

// A change offload cannot record, or whose sequencer could pin its key, is
// invalid: it fails alone, with the reason, before anything is purged or
// recorded for it, and the changes beside it, to the same key too, are
// planned as if it were not there. Only a crafted event carries these: S3
// keys are at most 1,024 bytes of UTF-8 and S3's sequencers are about 20
// hex digits.
func TestInvalidChanges(t *testing.T) {
	held := map[plan.Object]ledger.Record{
		{Bucket: "my-site", Key: "held.html"}: {Bucket: "my-site", Key: "held.html", ETag: "e1", Sequencer: "0055AED6DCD90281E5", Time: t0},
	}
	withSeq := func(key, seq string) event.Change { return put(key, "e2", seq) }
	withBucket := func(bucket string) event.Change {
		c := put("a.html", "e2", "01")
		c.Bucket = bucket
		return c
	}
	tests := []struct {
		name   string
		change event.Change
		detail string // "" for a valid change
	}{
		{"a key of 1,024 bytes", put(strings.Repeat("k", 1024), "e", "01"), ""},
		{"a key of 1,025 bytes", put(strings.Repeat("k", 1025), "e", "01"), "key of 1025 bytes"},
		{"a key of 40,000 bytes", put(strings.Repeat("k", 40000), "e", "01"), "key of 40000 bytes"},
		// 400 characters, 1,200 bytes: S3 counts bytes.
		{"a key of 1,200 bytes in 400 characters", put(strings.Repeat("日", 400), "e", "01"), "key of 1200 bytes"},
		{"a key that is not UTF-8", put("a\xffb.html", "e", "01"), "not valid UTF-8"},
		{"a removed key of 1,025 bytes", rm(strings.Repeat("k", 1025), "01"), "key of 1025 bytes"},
		{"a sequencer of 32 hex digits", withSeq("held.html", strings.Repeat("F", 32)), ""},
		{"a sequencer of 40 hex digits", withSeq("held.html", strings.Repeat("F", 40)), "sequencer of 40 digits"},
		{"a sequencer that is not hex", withSeq("held.html", "ZZZZZZZZZZZZZZZZZZ"), "is not hexadecimal"},
		{"a sequencer with 0x", withSeq("held.html", "0x0055AED6DCD90281E6"), "is not hexadecimal"},
		{"a sequencer with a space", withSeq("held.html", "0055AED6 DCD90281E6"), "is not hexadecimal"},
		{"a bucket name with a slash", withBucket("my-site/x"), "bucket name"},
		{"a bucket name of 256 bytes", withBucket(strings.Repeat("b", 256)), "bucket name of 256 bytes"},
		{"no key", put("", "e", "01"), "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := plan.Config{Sites: []plan.Site{{Name: "www", Bucket: "*", PurgeNew: true, Targets: []string{"cf"}}}, Targets: cfg.Targets[:1]}
			// A real change to the same key comes in the same batch.
			realChange := put(tt.change.Key, "e3", "0055AED6DCD90281E6")
			realChange.Bucket = tt.change.Bucket
			p := plan.Make(c, []event.Change{tt.change, realChange}, held)
			d := p.Changes[0]
			if tt.detail == "" {
				if d.Reason == plan.ReasonInvalid {
					t.Fatalf("got invalid (%s), want a valid change", d.Detail)
				}
				return
			}
			if d.Decision != plan.Skip || d.Reason != plan.ReasonInvalid || !strings.Contains(d.Detail, tt.detail) {
				t.Fatalf("got %s/%s %q, want skip/invalid saying %q", d.Decision, d.Reason, d.Detail, tt.detail)
			}
			for _, b := range p.Purges {
				if slices.Contains(b.Changes, 0) {
					t.Errorf("batch %s purges for the invalid change: %v", b.Target, b.Changes)
				}
			}
			for _, cm := range p.Commits {
				if slices.Contains(cm.Changes, 0) || cm.Record.Sequencer == tt.change.Sequencer && cm.Record.ETag == tt.change.ETag {
					t.Errorf("commit %+v records the invalid change", cm)
				}
			}
			// The real change beside it is decided alone, and is valid or
			// invalid by its own key and bucket.
			r := p.Changes[1]
			if ledger.CheckKey(realChange.Bucket, realChange.Key) == nil && len(realChange.Key) <= 1024 && r.Decision != plan.Purge {
				t.Errorf("the real change beside it: got %s/%s %q, want a purge", r.Decision, r.Reason, r.Detail)
			}
		})
	}
}

// A key's changes are ordered the same whatever the order they come in,
// also when some have a sequencer and some do not (a webhook without
// them, and S3's own, for one key): every order of the same three changes
// picks the same change to decide. Changes with a sequencer keep its
// order; one without goes before the first of those whose time is later
// than its own.
func TestMixedSequencersTotalOrder(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	change := func(seq string, s int, etag string) event.Change {
		c := put("mixed.html", etag, seq)
		c.Time = at(s)
		return c
	}
	tests := []struct {
		name    string
		changes []event.Change
		winner  string // the ETag of the deciding change
	}{
		// a < c by sequencer; b's time is before a's: b, a, c.
		{"sequencers against times", []event.Change{change("01", 3, "a"), change("", 2, "b"), change("02", 1, "c")}, "c"},
		// b is later than both: a, c, b.
		{"without one, last in time", []event.Change{change("01", 1, "a"), change("", 9, "b"), change("02", 2, "c")}, "b"},
		// Equal times: c, with a sequencer, first; a and b, at its time
		// and without one, are the same change, duplicates.
		{"equal times", []event.Change{change("", 5, "a"), change("", 5, "b"), change("01", 5, "c")}, "c"},
		// Without sequencers, by content: a first, and b and c, at its
		// time, duplicates of it.
		{"equal times, no sequencers", []event.Change{change("", 5, "b"), change("", 5, "a"), change("", 5, "c")}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			winners := map[string][]int{}
			for n, perm := range permutations(len(tt.changes)) {
				in := make([]event.Change, len(perm))
				for i, j := range perm {
					in[i] = tt.changes[j]
				}
				p := plan.Make(cfg, in, nil)
				if len(p.Commits) != 1 {
					t.Fatalf("order %v: got %d commits, want 1", perm, len(p.Commits))
				}
				w := p.Commits[0].Record.ETag
				winners[w] = append(winners[w], n)
			}
			if len(winners) != 1 || len(winners[tt.winner]) == 0 {
				t.Errorf("got deciding changes %v (by the orders that chose them), want %q for every order", winners, tt.winner)
			}
		})
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}
