package httpapi

import (
	"strings"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// held counts the bytes of every string a record's view shows: what the
// record's size must not undercount.
func held(v purgeView) int64 {
	n := len(v.ID) + len(v.Target) + len(v.Provider) + len(v.Source) + len(v.Error)
	for _, f := range v.Failures {
		n += len(f.Item.Kind) + len(f.Item.Value) + len(f.Error)
	}
	for _, c := range v.Calls {
		n += len(c.ID) + len(c.State) + len(c.Error)
	}
	return int64(n)
}

// The purges kept are accounted exactly and evicted, oldest first, past
// the byte budget, whatever the size of each purge's result.
func TestPurgeHistoryByteBudget(t *testing.T) {
	const budget = 1 << 20
	m := NewMonitor(MonitorOptions{MaxPurgeBytes: budget})
	big := strings.Repeat("x", 5000)
	url, refused, callID := "https://h/"+big, "refused: "+big, "call-"+big
	var ids []string
	for i := range 20 {
		res := &purge.Result{Provider: "akamai"}
		for j := range 1000 {
			res.Outcomes = append(res.Outcomes, purge.Outcome{Item: purge.Item{Kind: purge.KindURL, Value: url}, OK: j%2 == 0, Err: refused})
		}
		for range 2000 {
			res.Calls = append(res.Calls, purge.Call{ID: callID, Status: "InProgress", Items: 1, Attempts: 3})
		}
		r := m.recordPurge("ak", "akamai", 1000, res, nil)
		ids = append(ids, r.ID)

		v := r.view()
		if v.Failed != 500 || len(v.Failures) != keptFailures || len(v.Calls) != keptCalls {
			t.Fatalf("purge %d: got failed %d, %d failures and %d calls kept; want 500, %d, %d", i, v.Failed, len(v.Failures), len(v.Calls), keptFailures, keptCalls)
		}
		if got := held(v); r.size < got+int64(len(v.Calls))*keptCallErr {
			t.Fatalf("purge %d: accounted %d bytes, but it holds %d and its calls may yet hold %d of errors", i, r.size, got, len(v.Calls)*keptCallErr)
		}
		if r.size > 1<<20 {
			t.Fatalf("purge %d: accounted %d bytes, want at most 1 MiB", i, r.size)
		}
		if b := m.purges.Bytes(); b > budget {
			t.Fatalf("after purge %d: %d bytes kept, want at most %d", i, b, budget)
		}
	}
	if _, ok := m.purge(ids[len(ids)-1]); !ok {
		t.Error("the newest purge was evicted")
	}
	if _, ok := m.purge(ids[0]); ok {
		t.Error("the oldest purge is still kept, past the budget")
	}
	// The metrics count the whole purges, not what the records keep.
	if got, want := m.purgeItems[purgeKey{"akamai", "ak", "failed"}], int64(20*500); got != want {
		t.Errorf("got %d failed items counted, want %d", got, want)
	}
	if got, want := m.retries[targetKey{"akamai", "ak"}], int64(20*2000*2); got != want {
		t.Errorf("got %d retries counted, want %d", got, want)
	}
}

// The recent changes keep at most MaxChanges rows of bounded strings.
func TestChangeHistoryBounded(t *testing.T) {
	m := NewMonitor(MonitorOptions{MaxChanges: 10})
	huge := strings.Repeat("k", 100000)
	res := &pipeline.Result{}
	for range 30 {
		res.Changes = append(res.Changes, pipeline.ChangeResult{
			Decision: plan.Decision{Change: event.Change{Bucket: huge, Key: huge, Kind: event.KindInvalid}, Decision: "skip", Reason: "invalid"},
			Status:   "failed", Error: "record 0: s3.object.key " + huge,
		})
	}
	m.Observe(res, nil)
	rows := m.changes.newest(0)
	if len(rows) != 10 {
		t.Fatalf("got %d rows, want 10", len(rows))
	}
	for _, r := range rows {
		for _, s := range []string{r.Bucket, r.Key, r.Error} {
			if len(s) > keptString {
				t.Fatalf("got a %d-byte string kept, want at most %d", len(s), keptString)
			}
		}
	}
}
