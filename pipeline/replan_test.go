package pipeline_test

import (
	"context"
	"sync"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// racing is a ledger another writer commits to just before this batch's
// first Commit: another replica, planning from the same old record.
type racing struct {
	*ledger.Memory
	once  sync.Once
	other []ledger.Record
}

func (r *racing) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	r.once.Do(func() { _, _ = r.Memory.Commit(ctx, r.other) })
	return r.Memory.Commit(ctx, recs)
}

// Two replicas hold different events for one object. The ledger holds put
// 04 (ETag X). This one purges put 05 (ETag Y); the other skips put 06
// (ETag X again) as unchanged against 04 and records it first. The purge of
// 05 may have run before 06 was written, so the CDN may hold Y: losing the
// commit, this replica plans 05 again and purges after 06.
func TestReplanAfterLosingTheCommit(t *testing.T) {
	tests := []struct {
		name       string
		other      ledger.Record // what the other replica records first
		wantPurges int
		want       ledger.Record
	}{
		{"other skipped an unchanged put",
			ledger.Record{Bucket: "my-site", Key: "k.html", Sequencer: "06", ETag: "X", Time: t0, Purged: "04"}, 2,
			ledger.Record{Bucket: "my-site", Key: "k.html", Sequencer: "06", ETag: "X", Time: t0, Purged: "06"}},
		{"other purged a newer change",
			ledger.Record{Bucket: "my-site", Key: "k.html", Sequencer: "06", ETag: "Z", Time: t0, Purged: "06"}, 1,
			ledger.Record{Bucket: "my-site", Key: "k.html", Sequencer: "06", ETag: "Z", Time: t0, Purged: "06"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			mem := ledger.NewMemory()
			if _, err := mem.Commit(ctx, []ledger.Record{{Bucket: "my-site", Key: "k.html", Sequencer: "04", ETag: "X", Time: t0, Purged: "04"}}); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			purges := 0
			pg := purgerFunc(func() {
				mu.Lock()
				purges++
				mu.Unlock()
			})
			p := newPipeline(t, pipeline.Options{Plan: plan.Config{
				Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"edge"}}},
				Targets: []plan.Target{{Name: "edge", Provider: "varnish", BaseURL: "http://www.example.com"}},
			}, Ledger: &racing{Memory: mem, other: []ledger.Record{tt.other}}, Purgers: map[string]purge.Purger{"edge": pg}})

			res, err := p.Apply(ctx, []event.Change{put("k.html", "Y", "05", "m1")})
			if err != nil {
				t.Fatal(err)
			}
			if res.Failed() != 0 {
				t.Errorf("failed changes: got %d, want 0", res.Failed())
			}
			if purges != tt.wantPurges {
				t.Errorf("purges: got %d, want %d", purges, tt.wantPurges)
			}
			got, _ := mem.Get(ctx, "my-site", []string{"k.html"})
			if d := sameRecord(got["k.html"], tt.want); d != "" {
				t.Errorf("ledger: %s", d)
			}
		})
	}
}

func sameRecord(got, want ledger.Record) string {
	if got.Sequencer != want.Sequencer || got.ETag != want.ETag || got.Purged != want.Purged {
		return "got seq " + got.Sequencer + " etag " + got.ETag + " purged " + got.Purged +
			", want seq " + want.Sequencer + " etag " + want.ETag + " purged " + want.Purged
	}
	return ""
}
