package pipeline_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// A result's lists are JSON arrays even when it has nothing in them.
func TestResultJSONHasNoNull(t *testing.T) {
	for _, v := range []any{pipeline.Result{}, &pipeline.Result{}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "null") {
			t.Errorf("%T: got %s, want no null", v, b)
		}
		for _, want := range []string{`"changes":[]`, `"mirrors":[]`, `"purges":[]`, `"reasons":{}`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%T: got %s, want it to hold %s", v, b, want)
			}
		}
	}
}

// WriteJSON writes what json.Marshal does, compact and indented.
func TestResultWriteJSONIsMarshal(t *testing.T) {
	changes := event.Decode([]byte(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-11-20T10:00:00.5Z","s3":{"bucket":{"name":"b"},"object":{"key":"a%3Cb%3E.html","eTag":"\"x\"","size":3}}},{"eventSource":"aws:s3"}]}`))
	pl := plan.Make(plan.Config{Sites: []plan.Site{{Name: "www", Bucket: "b", PurgeNew: true, Mirrors: []string{"m"}, Targets: []string{"cf"}}},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront"}}}, changes, nil)
	full := &pipeline.Result{Stats: pl.Stats, Committed: 1, Receipts: 2}
	for _, d := range pl.Changes {
		full.Changes = append(full.Changes, pipeline.ChangeResult{Decision: d, Status: pipeline.StatusFailed, Error: "mirror m: upload a<b>.html: 503"})
	}
	for _, m := range pl.Mirrors {
		full.Mirrors = append(full.Mirrors, pipeline.MirrorResult{MirrorOp: m, Status: pipeline.StatusFailed, Error: "503"})
	}
	for _, b := range pl.Purges {
		full.Purges = append(full.Purges, pipeline.PurgeResult{Batch: b, Status: pipeline.StatusOK, Failed: map[string]int{"x": 1},
			Result: &purge.Result{Provider: "cloudfront", Calls: []purge.Call{{ID: "I1", Items: 1, Status: "InProgress", Estimated: 5 * time.Second, Attempts: 2}},
				Outcomes: []purge.Outcome{{Item: purge.Item{Kind: purge.KindPath, Value: "/a<b>.html"}, OK: true, ID: "I1"}}}})
	}
	full.Purges = append(full.Purges, pipeline.PurgeResult{Status: pipeline.StatusSkipped, Result: &purge.Result{}},
		// A target of URLs, one item refused (the provider's own message,
		// escaped as encoding/json escapes it), calls of every field.
		pipeline.PurgeResult{Batch: plan.Batch{Target: "ak", Provider: "akamai", URLs: []string{"https://a.example/x", "https://a.example/<y>&z"},
			Changes: []int{0, 1}, Requests: 1, Of: [][]int{{0}, {1}}}, Status: pipeline.StatusFailed, Error: "purge ak: 1 of 2 items failed",
			Result: &purge.Result{Provider: "akamai",
				Calls: []purge.Call{{SupportID: "S1", Items: 2, Attempts: 1, Err: "403 \"forbidden\""}, {Items: 0}, {ID: "P", SupportID: "S2", Status: "Done", Estimated: time.Millisecond}},
				Outcomes: []purge.Outcome{{Item: purge.Item{Kind: purge.KindURL, Value: "https://a.example/x"}, OK: true, ID: "P"},
					{Item: purge.Item{Kind: purge.KindURL, Value: "https://a.example/<y>&z"}, Err: "refused: \u00e9\n"}}}},
		// A purge that failed before it had a result.
		pipeline.PurgeResult{Batch: plan.Batch{Target: "fy", Provider: "fastly", URLs: []string{"https://f.example/a"}, Changes: []int{}, Requests: 1},
			Status: pipeline.StatusFailed, Error: "context deadline exceeded"})
	if len(full.Changes) != 2 || len(full.Mirrors) != 1 || len(full.Purges) != 4 {
		t.Fatalf("the result lacks entries: %+v", full)
	}
	for _, tt := range []struct {
		name string
		r    *pipeline.Result
	}{{"a result of every kind of entry", full}, {"a zero result", &pipeline.Result{}}, {"a purge of 3,000 URLs, written in pieces", bigPurge(3000)}} {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			var compact, pretty, indented bytes.Buffer
			if err := tt.r.WriteJSON(&compact, false); err != nil {
				t.Fatal(err)
			}
			if err := tt.r.WriteJSON(&pretty, true); err != nil {
				t.Fatal(err)
			}
			if got := compact.String(); got != string(want)+"\n" {
				t.Errorf("compact: got\n%s\nwant\n%s", got, want)
			}
			json.Indent(&indented, want, "", "  ")
			if got := pretty.String(); got != indented.String()+"\n" {
				t.Errorf("indented: got\n%s\nwant\n%s", got, indented.String())
			}
		})
	}
}

// The fields WriteJSON writes by hand are every field of Result and of
// what its purges hold: a new one fails here until WriteJSON writes it.
func TestResultFieldsKnown(t *testing.T) {
	tests := []struct {
		v    any
		want []string
	}{
		{pipeline.Result{}, []string{"Changes", "Mirrors", "Purges", "Stats", "Committed", "Receipts"}},
		{pipeline.PurgeResult{}, []string{"Batch", "Status", "Error", "Result", "Failed"}},
		{plan.Batch{}, []string{"Target", "Provider", "Paths", "URLs", "Changes", "Requests", "Of"}},
		{purge.Result{}, []string{"Provider", "Calls", "Outcomes"}},
		{purge.Call{}, []string{"ID", "SupportID", "Items", "Status", "Estimated", "Attempts", "Err"}},
		{purge.Outcome{}, []string{"Item", "OK", "ID", "Err"}},
		{purge.Item{}, []string{"Kind", "Value"}},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.v)
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got fields %v, want %v: write the new ones in pipeline/json.go", typ, got, tt.want)
		}
	}
}

// bigPurge is a result of one purge of n URLs, each with its outcome: more
// than WriteJSON holds before it writes.
func bigPurge(n int) *pipeline.Result {
	b := plan.Batch{Target: "edge", Provider: "varnish", Requests: n}
	res := &purge.Result{Provider: "varnish"}
	for i := range n {
		u := fmt.Sprintf("https://www.example.com/dir/file-%05d.html", i)
		b.URLs, b.Changes = append(b.URLs, u), append(b.Changes, i)
		res.Calls = append(res.Calls, purge.Call{ID: fmt.Sprint(i), Items: 1, Attempts: 1})
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: purge.Item{Kind: purge.KindURL, Value: u}, OK: i%7 != 0})
	}
	return &pipeline.Result{Purges: []pipeline.PurgeResult{{Batch: b, Status: pipeline.StatusOK, Result: res}}}
}
