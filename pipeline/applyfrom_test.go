package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// itemPurger purges every item but those containing bad, which fail one by
// one; a request with an item containing down fails as a whole.
type itemPurger struct{ bad, down string }

func (p itemPurger) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "test", Calls: []purge.Call{{ID: req.ID, Items: len(req.Items), Attempts: 1}}}
	for _, it := range req.Items {
		if p.down != "" && strings.Contains(it.Value, p.down) {
			return nil, errors.New("503 from the provider")
		}
	}
	failed := 0
	for _, it := range req.Items {
		ok := p.bad == "" || !strings.Contains(it.Value, p.bad)
		o := purge.Outcome{Item: it, OK: ok}
		if !ok {
			o.Err, failed = "refused", failed+1
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	if failed > 0 {
		return res, errors.New("some items failed")
	}
	return res, nil
}

// bodySource is an S3 client whose every object is a few bytes.
type bodySource struct{}

func (bodySource) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader("body of " + aws.ToString(in.Key)))}, nil
}

// racingLedger records, before its first Commit, a newer change to key
// than the batch has: another writer's, so that the batch's record of it
// comes back stale and the pipeline plans it again.
type racingLedger struct {
	ledger.Ledger
	key   string
	done  atomic.Bool
	stale atomic.Int32 // records of key refused as stale
}

func (l *racingLedger) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	if !l.done.Swap(true) {
		newer := ledger.Record{Bucket: "my-site", Key: l.key, Sequencer: "0F", ETag: "other", Time: t0, Purged: "0F"}
		if _, err := l.Ledger.Commit(ctx, []ledger.Record{newer}); err != nil {
			return nil, err
		}
	}
	errs, err := l.Ledger.Commit(ctx, recs)
	for i, e := range errs {
		if recs[i].Key == l.key && errors.Is(e, ledger.ErrStale) {
			l.stale.Add(1)
		}
	}
	return errs, err
}

// applyFromSetup returns a pipeline, its own ledger and mirror, and a batch
// that goes through every path of apply: new, changed, duplicate and late
// changes, a remove whose mirror fails, records found invalid and a test
// event, objects served by two sites and three targets, an item one target
// refuses and a call another fails as a whole, a receipt from an earlier
// delivery and one recorded now, and a commit that loses a race to
// another writer and is planned again.
func applyFromSetup(t *testing.T) (*pipeline.Pipeline, *racingLedger, []event.Change) {
	t.Helper()
	ctx := context.Background()
	mem := ledger.NewMemory()
	again := put("docs/again.html", "e-again", "05", "m-again")
	if _, err := mem.Commit(ctx, []ledger.Record{
		{Bucket: "my-site", Key: "old.html", Sequencer: "01", ETag: "e-old", Time: t0, Purged: "01"},
		{Bucket: "my-site", Key: "same.html", Sequencer: "01", ETag: "e-same", Time: t0, Purged: "01"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.AddReceipts(ctx, []ledger.Receipt{{Bucket: "my-site", Key: again.Key, Change: plan.ChangeID(again), Targets: []string{"a"}}}); err != nil {
		t.Fatal(err)
	}
	racing := &racingLedger{Ledger: mem, key: "race.html"}
	cf := purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 2}}
	p := newPipeline(t, pipeline.Options{
		Plan: plan.Config{
			Sites: []plan.Site{
				{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Mirrors: []string{"m"}, Targets: []string{"a", "b"}},
				{Name: "docs", Bucket: "my-site", Prefix: "docs/", PurgeNew: true, Targets: []string{"c"}},
			},
			Targets: []plan.Target{
				{Name: "a", Provider: "varnish", BaseURL: "http://a.example"},
				{Name: "b", Provider: "cloudfront", Limits: cf},
				{Name: "c", Provider: "cloudfront", Limits: cf},
			},
		},
		Ledger: racing,
		Purgers: map[string]purge.Purger{
			"a": itemPurger{bad: "bad.html"},
			"b": itemPurger{},
			"c": itemPurger{down: "down.html"},
		},
		Mirrors: map[string]mirror.Mirror{"m": &failingMirror{fail: map[string]bool{"gone.html": true}}},
		Source:  bodySource{},
	})
	batch := []event.Change{
		put("new.html", "e1", "02", "m1"),
		put("old.html", "e2", "02", "m2"),
		put("same.html", "e-same", "02", "m3"),
		put("dup.html", "e4", "03", "m4"),
		put("dup.html", "e4", "03", "m5"),
		put("late.html", "e6b", "07", "m6"),
		put("late.html", "e6a", "06", "m7"),
		{Bucket: "my-site", Key: "gone.html", Kind: event.KindRemove, Sequencer: "04", Time: t0, MessageID: "m8"},
		put("bad.html", "e9", "04", "m9"),
		put("docs/down.html", "e10", "04", "m10"),
		put("docs/beside.html", "e11", "04", "m11"),
		put("docs/index.html", "e12", "04", "m12"),
		again,
		put("race.html", "e13", "04", "m13"),
		{Bucket: "other-bucket", Key: "x.html", Kind: event.KindPut, ETag: "e14", Sequencer: "04", Time: t0, MessageID: "m14"},
		{Kind: event.KindInvalid, Err: "record 3: not JSON", MessageID: "m15"},
		{Kind: event.KindTest, Bucket: "my-site", EventName: "s3:TestEvent", MessageID: "m16"},
		put("", "e17", "04", "m17"),
	}
	return p, racing, batch
}

// ApplyFrom, which `offload apply` runs, writes what ApplyPlan's Result
// writes for the same batch against the same ledger, byte for byte, and
// counts the same failures, through every path of apply.
func TestApplyFromIsApplyPlan(t *testing.T) {
	ctx := context.Background()
	for _, indent := range []bool{false, true} {
		pa, racing, batch := applyFromSetup(t)
		pl, err := pa.MakePlan(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		res := pa.ApplyPlan(ctx, pl)
		var want bytes.Buffer
		if err := res.WriteJSON(&want, indent); err != nil {
			t.Fatal(err)
		}
		// The batch is a test of every path only if they were taken.
		reasons := map[string]bool{}
		doneBefore := false
		for _, c := range res.Changes {
			reasons[c.Reason] = true
			doneBefore = doneBefore || slices.Equal(c.Done, []string{"a"})
		}
		for _, r := range []string{plan.ReasonNew, plan.ReasonChanged, plan.ReasonUnchanged, plan.ReasonDuplicate,
			plan.ReasonRemoved, plan.ReasonInvalid, plan.ReasonFiltered, plan.ReasonTest, plan.ReasonStale} {
			if !reasons[r] {
				t.Errorf("no change with reason %s: the batch no longer tests every path", r)
			}
		}
		if racing.stale.Load() == 0 {
			t.Error("the racing writer's record did not make the batch's stale: the replan is not tested")
		}
		if res.Failed() < 4 || res.Receipts == 0 || res.Committed == 0 || len(res.Mirrors) == 0 || !doneBefore {
			t.Errorf("the batch no longer tests every path: %d failed, %d receipts, %d committed, %d mirrors, done at a before: %v",
				res.Failed(), res.Receipts, res.Committed, len(res.Mirrors), doneBefore)
		}

		pb, _, batch := applyFromSetup(t)
		var b plan.Builder
		for _, c := range batch {
			b.Add(c)
		}
		var got bytes.Buffer
		failed, err := pb.ApplyFrom(ctx, &b, &got, indent)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("indent %v: ApplyFrom wrote\n%s\nApplyPlan's Result writes\n%s", indent, got.String(), want.String())
		}
		if failed != res.Failed() {
			t.Errorf("ApplyFrom: %d failed, ApplyPlan's Result %d", failed, res.Failed())
		}
		if b.Len() != 0 {
			t.Errorf("after ApplyFrom: Builder holds %d changes, want 0", b.Len())
		}
	}
}
