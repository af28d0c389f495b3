package pipeline_test

import (
	"bytes"
	"encoding/json"
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
	full.Purges = append(full.Purges, pipeline.PurgeResult{Status: pipeline.StatusSkipped, Result: &purge.Result{}})
	if len(full.Changes) != 2 || len(full.Mirrors) != 1 || len(full.Purges) != 2 {
		t.Fatalf("the result lacks entries: %+v", full)
	}
	for _, tt := range []struct {
		name string
		r    *pipeline.Result
	}{{"a result of every kind of entry", full}, {"a zero result", &pipeline.Result{}}} {
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

// The fields WriteJSON writes by hand are every field of Result: a new one
// fails here until WriteJSON writes it.
func TestResultFieldsKnown(t *testing.T) {
	typ := reflect.TypeOf(pipeline.Result{})
	var got []string
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	if want := []string{"Changes", "Mirrors", "Purges", "Stats", "Committed", "Receipts"}; !slices.Equal(got, want) {
		t.Errorf("pipeline.Result: got fields %v, want %v: write the new ones in pipeline/json.go", got, want)
	}
}
