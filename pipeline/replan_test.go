package pipeline_test

import (
	"context"
	"errors"
	"slices"
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

// failCall purges as recorder does, but fails call number fail as a whole.
type failCall struct {
	recorder
	fail, calls int
}

func (f *failCall) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	f.recorder.mu.Lock()
	f.calls++
	n := f.calls
	f.recorder.mu.Unlock()
	if n == f.fail {
		return nil, errors.New("refused once")
	}
	return f.recorder.Purge(ctx, req)
}

// A change purged at both targets loses its commit, and its replan fails
// at one of them (b). Its receipt is the replan's, for the target the
// replan purged it at: the first purges, which may have run before the
// other writer's put, must not count, or the change's redelivery would
// purge b for it no more.
func TestReceiptAfterAFailedReplan(t *testing.T) {
	ctx := context.Background()
	mem := ledger.NewMemory()
	if _, err := mem.Commit(ctx, []ledger.Record{{Bucket: "my-site", Key: "k.html", Sequencer: "04", ETag: "X", Time: t0, Purged: "04"}}); err != nil {
		t.Fatal(err)
	}
	a, b := &recorder{}, &failCall{fail: 2}
	p := newPipeline(t, pipeline.Options{Plan: plan.Config{
		Sites: []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"a", "b"}}},
		Targets: []plan.Target{
			{Name: "a", Provider: "varnish", BaseURL: "http://a.example.com"},
			{Name: "b", Provider: "varnish", BaseURL: "http://b.example.com"},
		},
	}, Ledger: &racing{Memory: mem, other: []ledger.Record{{Bucket: "my-site", Key: "k.html", Sequencer: "06", ETag: "X", Time: t0, Purged: "04"}}},
		Purgers: map[string]purge.Purger{"a": a, "b": b},
		// One purge at a time at each target. The targets purge at once,
		// and a failure at one does not stop the other's purge.
		Concurrency: 1})

	// k.html second, so that the replan's decision 0 is not its.
	late := put("k.html", "Y", "05", "m1")
	res, err := p.Apply(ctx, []event.Change{put("other.html", "Z", "01", "m0"), late})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FailedMessages(); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("first delivery: got failed messages %v, want [m1]", got)
	}
	rcs, err := mem.Receipts(ctx, "my-site", []string{"k.html"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rcs["k.html"].Targets; !slices.Equal(got, []string{"a"}) {
		t.Errorf("receipt of k.html: got targets %v, want [a]", got)
	}
	if res.Receipts != 1 {
		t.Errorf("receipts recorded: got %d, want 1", res.Receipts)
	}

	beforeA, beforeB := len(a.sent()), len(b.sent())
	if res, err = p.Apply(ctx, []event.Change{late}); err != nil || res.Failed() != 0 {
		t.Fatalf("second delivery: got %v, %d failed, want none", err, res.Failed())
	}
	if got := a.sent()[beforeA:]; len(got) != 0 {
		t.Errorf("second delivery: got %q purged at a, want nothing", got)
	}
	if got, want := b.sent()[beforeB:], []string{"http://b.example.com/k.html"}; !slices.Equal(got, want) {
		t.Errorf("second delivery: got %q purged at b, want %q", got, want)
	}
}
