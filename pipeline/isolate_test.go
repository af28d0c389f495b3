package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger/bolt"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// recorder is a purger that succeeds and keeps every item it was sent.
type recorder struct {
	mu    sync.Mutex
	items []string
}

func (r *recorder) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &purge.Result{Provider: "test"}
	for _, it := range req.Items {
		r.items = append(r.items, it.Value)
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true})
	}
	return res, nil
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items)
}

// One record the ledger cannot hold (a 40,000-byte key, which only a
// crafted webhook sends; bbolt holds keys of up to 32,768 bytes) fails
// alone, before anything is purged for it: the 20 good changes beside it
// are purged and committed on the first delivery, and are duplicates on
// the next.
func TestPoisonKeyFailsAlone(t *testing.T) {
	l, err := bolt.New(bolt.Options{Path: filepath.Join(t.TempDir(), "offload.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cf := &recorder{}
	p := newPipeline(t, pipeline.Options{Plan: cfConfig("cf"), Ledger: l, Purgers: map[string]purge.Purger{"cf": cf}})

	var batch []event.Change
	for i := range 20 {
		batch = append(batch, put(fmt.Sprintf("good/%02d.html", i), "e1", "0A", fmt.Sprint("m", i)))
	}
	poison := put(strings.Repeat("k", 40000), "e1", "0A", "poison")
	batch = slices.Insert(batch, 10, poison)

	ctx := context.Background()
	res, err := p.Apply(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FailedMessages(); !slices.Equal(got, []string{"poison"}) {
		t.Errorf("failed messages: got %v, want only [poison]", got)
	}
	if res.Committed != 20 {
		t.Errorf("committed: got %d, want 20", res.Committed)
	}
	bad := res.Changes[10]
	if bad.Reason != plan.ReasonInvalid || bad.Status != pipeline.StatusFailed || !strings.Contains(bad.Error, "40000 bytes") {
		t.Errorf("the poison change: got %s/%s, status %s, error %.80q; want skip/invalid, failed, saying its key is 40000 bytes",
			bad.Decision.Decision, bad.Reason, bad.Status, bad.Error)
	}
	sent := cf.sent()
	if len(sent) != 20 || slices.ContainsFunc(sent, func(s string) bool { return strings.Contains(s, "kkkk") }) {
		t.Errorf("purged %d paths (the poison key's among them: %v); want the 20 good ones only",
			len(sent), slices.ContainsFunc(sent, func(s string) bool { return strings.Contains(s, "kkkk") }))
	}

	// Delivered again (SQS redelivers the whole batch when it cannot tell
	// the messages apart): the good ones are duplicates, nothing is purged.
	res, err = p.Apply(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range res.Changes {
		if i != 10 && c.Reason != plan.ReasonDuplicate {
			t.Errorf("redelivered change %d (%s): got %s/%s, want duplicate", i, c.Key, c.Decision.Decision, c.Reason)
		}
	}
	if n := len(cf.sent()); n != 20 {
		t.Errorf("after the redelivery: got %d paths purged in all, want still 20", n)
	}
}
