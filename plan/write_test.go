package plan_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/eventgen"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// writeConfig has what the planner does per object and per target: two
// sites over one bucket (one under a prefix, with a mirror, purge_new off),
// a site for another bucket, CloudFront collapsing directories, Akamai's
// body limit, Fastly's one URL a request, and a target no site uses.
var writeConfig = plan.Config{
	Sites: []plan.Site{
		{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: []string{"cf", "ak", "fy"}},
		{Name: "docs", Bucket: "my-site", Prefix: "docs/", Index: "index.html", Mirrors: []string{"m"}, Targets: []string{"ak", "log"}},
		{Name: "other", Bucket: "other", PurgeNew: true, Targets: []string{"log"}},
	},
	Targets: []plan.Target{
		{Name: "cf", Provider: "cloudfront", Collapse: 40, Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 3000}, Wildcards: 15}},
		{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com/", Limits: purge.Limits{BodyBytes: 50000}},
		{Name: "fy", Provider: "fastly", BaseURL: "https://www.example.com", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindURL: 1}}},
		{Name: "log", Provider: "log", BaseURL: "https://docs.example.com"},
		{Name: "unused", Provider: "log", BaseURL: "https://unused.example.com"},
	},
}

// writeInput is n generated records (redeliveries, index documents) and a
// few of every other kind: another bucket, a test event, an event offload
// does not act on, an invalid record, a key no site serves, a remove, a
// copy, a time not in UTC, and changes older than the ledger's.
func writeInput(n int) ([]event.Change, map[plan.Object]ledger.Record, map[plan.Object]ledger.Receipt) {
	changes := event.Decode(eventgen.SQS(n, eventgen.Options{Redeliver: 20, Index: 25, Lean: true}))
	changes = append(changes, event.Decode(eventgen.SQS(50, eventgen.Options{Bucket: "other", Redeliver: 3}))...)
	t := eventgen.Start
	zone := time.FixedZone("X", 3600)
	changes = append(changes,
		event.Change{Kind: event.KindTest, Bucket: "my-site", EventName: "s3:TestEvent"},
		event.Change{Kind: event.KindOther, Bucket: "my-site", Key: "a.html", EventName: "ObjectRestore:Post", Time: t},
		event.Change{Kind: event.KindInvalid, MessageID: "m-bad", Err: "Records[0].s3 is missing"},
		event.Change{Kind: event.KindPut, Bucket: "nobody", Key: "x.html", ETag: "e", Sequencer: "01", Time: t},
		event.Change{Kind: event.KindPut, Bucket: "my-site", Key: "bad.html", ETag: "e", Sequencer: "not hex", Time: t},
		event.Change{Kind: event.KindRemove, Bucket: "my-site", Key: "docs/p000001/index.html", Sequencer: "0065A1FFFFFFFFFFFF", Time: t.In(zone)},
		event.Change{Kind: event.KindCopy, Bucket: "my-site", Key: "assets/dir02/file 000002.js", ETag: fmt.Sprintf("%032x", 2), Sequencer: "0065A1FFFFFFFFFFFF", Time: t},
		event.Change{Kind: event.KindPut, Bucket: "my-site", Key: "docs/a b.html", ETag: "e1", Sequencer: "03", Time: t, MessageID: "m-x"},
		event.Change{Kind: event.KindPut, Bucket: "my-site", Key: "docs/a b.html", ETag: "e1", Sequencer: "02", Time: t, MessageID: "m-y"},
	)
	key := func(i int) plan.Object {
		k, _ := eventgen.Options{Index: 25}.Object(i)
		return plan.Object{Bucket: "my-site", Key: k}
	}
	rec := func(o plan.Object, etag, seq string) ledger.Record {
		return ledger.Record{Bucket: o.Bucket, Key: o.Key, ETag: etag, Sequencer: seq, Time: t}
	}
	held := map[plan.Object]ledger.Record{
		key(3): rec(key(3), fmt.Sprintf("%032x", 3), "0065A1000000000000"),                                     // unchanged
		key(4): rec(key(4), "old", "0065A1000000000000"),                                                       // changed
		key(5): rec(key(5), "newer", "0065A1FFFFFFFFFFFF"),                                                     // stale
		key(6): {Bucket: "my-site", Key: key(6).Key, Deleted: true, Sequencer: "01"},                           // re-created
		key(7): {Bucket: "my-site", Key: key(7).Key, ETag: "x", Sequencer: "0065A1FFFFFFFFFFFF", Purged: "01"}, // arrived late
		{Bucket: "my-site", Key: "docs/a b.html"}: rec(plan.Object{Bucket: "my-site", Key: "docs/a b.html"}, "e0", "04"),
	}
	receipts := map[plan.Object]ledger.Receipt{key(8): {Bucket: "my-site", Key: key(8).Key, Targets: []string{"ak", "cf"},
		Change: plan.ChangeID(event.Change{Kind: event.KindPut, Sequencer: "0065A1000000000008", ETag: fmt.Sprintf("%032x", 8)})}}
	return changes, held, receipts
}

// Builder.WriteJSON, which `offload plan` runs, writes what Make's plan
// writes, byte for byte, compact and indented, for changes of every kind
// and decision, some of them dropped again.
func TestBuilderWriteJSONIsMake(t *testing.T) {
	changes, held, receipts := writeInput(9000)
	tests := []struct {
		name     string
		add      int
		truncate int
	}{
		{"none", 0, 0},
		{"fewer than a chunk", 100, 100},
		{"all", len(changes), len(changes)},
		{"truncated across a chunk's end", len(changes), 4000},
		{"truncated to nothing", 5000, 0},
	}
	for _, tt := range tests {
		for _, indent := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/indent=%v", tt.name, indent), func(t *testing.T) {
				var b plan.Builder
				for _, c := range changes[:tt.add] {
					b.Add(c)
				}
				b.Truncate(tt.truncate)
				var got, want bytes.Buffer
				if err := b.WriteJSON(&got, writeConfig, held, receipts, indent); err != nil {
					t.Fatal(err)
				}
				if err := plan.Resume(writeConfig, changes[:tt.truncate], held, receipts).WriteJSON(&want, indent); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					i := 0
					for i < min(got.Len(), want.Len()) && got.Bytes()[i] == want.Bytes()[i] {
						i++
					}
					t.Fatalf("got %d bytes, want Make's %d; they differ at byte %d: got %.80q, want %.80q",
						got.Len(), want.Len(), i, got.Bytes()[i:], want.Bytes()[i:])
				}
				if b.Len() != 0 {
					t.Errorf("after WriteJSON: got Len %d, want 0", b.Len())
				}
			})
		}
	}
}

// The plan of 10,000 generated records (and the rest of writeInput) is the
// one offload wrote before plans were written from a Builder: the SHA-256
// of its compact JSON, recorded from commit f98de2d (Make, then WriteJSON).
func TestPlanOf10000Unchanged(t *testing.T) {
	const want = "f034276b788842e12b48b1ffffe306176459f86b2ea4763b2f3c55d6291cd993"
	changes, held, receipts := writeInput(10000)
	var b plan.Builder
	for _, c := range changes {
		b.Add(c)
	}
	var out bytes.Buffer
	if err := b.WriteJSON(&out, writeConfig, held, receipts, false); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(out.Bytes())
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("got a plan of %d bytes with SHA-256 %s, want %s", out.Len(), got, want)
	}
}

// A Compact is Make's plan: each decision, mirror, batch (with the changes
// each item is purged for) and commit, and the stats, for changes of every
// kind and decision. Its WriteJSON writes Make's plan also once Purges has
// made the batches with their URLs joined.
func TestCompactIsMake(t *testing.T) {
	changes, held, receipts := writeInput(9000)
	want := plan.Resume(writeConfig, changes, held, receipts)
	var b plan.Builder
	for _, c := range changes {
		b.Add(c)
	}
	c := b.Compact(writeConfig, held, receipts)
	if b.Len() != 0 {
		t.Errorf("after Compact: Builder Len %d, want 0", b.Len())
	}
	if c.Len() != len(want.Changes) {
		t.Fatalf("Len: got %d, want %d", c.Len(), len(want.Changes))
	}
	for i := range c.Len() {
		if got := c.Decision(i); !reflect.DeepEqual(got, want.Changes[i]) {
			t.Fatalf("Decision(%d):\ngot  %+v\nwant %+v", i, got, want.Changes[i])
		}
	}
	if !reflect.DeepEqual(c.Mirrors(), want.Mirrors) {
		t.Errorf("Mirrors: got %d, want %d, or they differ", len(c.Mirrors()), len(want.Mirrors))
	}
	if got := c.Purges(); !reflect.DeepEqual(got, want.Purges) {
		t.Errorf("Purges: got %d batches, want %d, or they differ", len(got), len(want.Purges))
	}
	if c.Commits() != len(want.Commits) {
		t.Fatalf("Commits: got %d, want %d", c.Commits(), len(want.Commits))
	}
	for k := range c.Commits() {
		if got := c.Commit(k); !reflect.DeepEqual(got, want.Commits[k]) {
			t.Fatalf("Commit(%d):\ngot  %+v\nwant %+v", k, got, want.Commits[k])
		}
	}
	if got := c.Stats(); !reflect.DeepEqual(got, want.Stats) {
		t.Errorf("Stats:\ngot  %+v\nwant %+v", got, want.Stats)
	}
	var got, wantJSON bytes.Buffer
	if err := c.WriteJSON(&got, false); err != nil {
		t.Fatal(err)
	}
	if err := want.WriteJSON(&wantJSON, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), wantJSON.Bytes()) {
		t.Errorf("WriteJSON after Purges: got %d bytes, want Make's %d, or they differ", got.Len(), wantJSON.Len())
	}
}
