package plan_test

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
	"github.com/offload-dev/offload/internal/eventgen"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/plan"
)

// A plan's lists are JSON arrays even when it has nothing in them: what
// `offload plan` printed as "mirrors": null for a plan without mirrors.
func TestPlanJSONHasNoNull(t *testing.T) {
	cfg := plan.Config{Sites: []plan.Site{{Name: "www", Bucket: "my-site", Targets: []string{"cf"}}},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront"}}}
	tests := []struct {
		name string
		v    any
	}{
		{"a zero plan", plan.Plan{}},
		{"a pointer to a zero plan", &plan.Plan{}},
		{"a test event: nothing to mirror or purge", plan.Make(cfg, []event.Change{{Kind: event.KindTest}}, nil)},
		{"no changes at all", plan.Make(cfg, nil, nil)},
		{"zero stats", plan.Stats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "null") {
				t.Errorf("got %s, want no null", b)
			}
			if _, ok := tt.v.(plan.Stats); ok {
				return
			}
			for _, want := range []string{`"changes":[`, `"mirrors":[`, `"purges":[`, `"commits":[`, `"reasons":{`} {
				if !strings.Contains(string(b), want) {
					t.Errorf("got %s, want it to hold %s", b, want)
				}
			}
		})
	}
}

// The indented form `offload plan` prints is the same JSON.
func TestPlanJSONIndented(t *testing.T) {
	got := string(plan.Make(plan.Config{}, nil, nil).JSON())
	if !strings.Contains(got, `"mirrors": []`) || strings.Contains(got, "null") {
		t.Errorf("got %s, want \"mirrors\": [] and no null", got)
	}
}

// WriteJSON writes what json.Marshal does, compact and indented, for plans
// with every kind of entry.
func TestWriteJSONIsMarshal(t *testing.T) {
	sqs := eventgen.SQS(300, eventgen.Options{Redeliver: 7, Index: 5})
	changes := append(event.Decode(sqs), event.Decode([]byte(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-11-20T10:00:00.5Z","s3":{"bucket":{"name":"my-site"},"object":{"key":"a%3Cb%3E%26%E2%80%A8.html","eTag":"\"x\""}}}]}`))...)
	changes = append(changes, event.Decode([]byte(`{"x":1}`))...)
	changes = append(changes, event.Change{Kind: event.KindTest, Bucket: "my-site"}, event.Change{Kind: event.KindOther, Bucket: "my-site", Key: "k", EventName: "ObjectTagging:Put"})
	held := map[plan.Object]ledger.Record{{Bucket: "my-site", Key: "assets/dir03/file 000003.js"}: {Bucket: "my-site", Key: "assets/dir03/file 000003.js", ETag: fmt.Sprintf("%032x", 3), Sequencer: "0065A1000000000003"}}
	cfg := benchConfig
	cfg.Sites = append([]plan.Site{{Name: "mirrored", Bucket: "my-site", Prefix: "docs/", PurgeNew: true, Mirrors: []string{"m"}, Targets: []string{"cf"}}}, cfg.Sites...)
	tests := []struct {
		name string
		p    *plan.Plan
	}{
		{"a plan of every kind of entry", plan.Make(cfg, changes, held)},
		{"every field set, by hand", &plan.Plan{
			Changes: []plan.Decision{{Change: event.Change{Bucket: "b\u2028", Key: "<a>&\"\\\x01\xff.html", Kind: event.KindRemove, ETag: "e", Size: -3, VersionID: "v",
				Sequencer: "s", Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600)), EventName: "n", MessageID: "m", Record: 7, Err: "bad"},
				Decision: plan.Skip, Reason: plan.ReasonInvalid, Detail: "d", Sites: []string{"a", "b<"}, Done: []string{"ak", "cf<"}}, {Sites: []string{}, Done: []string{}}},
			Commits: []plan.Commit{{Record: ledger.Record{Bucket: "b", Key: "k", Sequencer: "s", ETag: "e", VersionID: "v", Time: time.Unix(5, 6), Deleted: true, Purged: "p"}, Changes: []int{1, 2}},
				{Record: ledger.Record{Bucket: "b", Key: "k"}}},
		}},
		{"an empty plan", plan.Make(cfg, nil, nil)},
		{"a zero plan", &plan.Plan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "a plan of every kind of entry" && (len(tt.p.Mirrors) == 0 || len(tt.p.Commits) == 0 || !strings.Contains(string(want), `\u003c`)) {
				t.Fatalf("the plan lacks mirrors, commits or escapes: %s", want)
			}
			var compact, pretty bytes.Buffer
			if err := tt.p.WriteJSON(&compact, false); err != nil {
				t.Fatal(err)
			}
			if err := tt.p.WriteJSON(&pretty, true); err != nil {
				t.Fatal(err)
			}
			if got := compact.String(); got != string(want)+"\n" {
				t.Errorf("compact: got\n%s\nwant\n%s", got, want)
			}
			var indented bytes.Buffer
			json.Indent(&indented, want, "", "  ")
			if got := pretty.String(); got != indented.String()+"\n" {
				t.Errorf("indented: got\n%s\nwant\n%s", got, indented.String())
			}
		})
	}
}

// The fields WriteJSON writes by hand are every field of the types: a new
// one fails here until appendDecision, appendBatch or appendCommit writes it.
func TestJSONFieldsKnown(t *testing.T) {
	tests := []struct {
		v    any
		want []string
	}{
		{plan.Decision{}, []string{"Change", "Decision", "Reason", "Detail", "Sites", "Done"}},
		{event.Change{}, []string{"Bucket", "Key", "Kind", "ETag", "Size", "VersionID", "Sequencer", "Time", "EventName", "MessageID", "Record", "Err"}},
		{plan.Commit{}, []string{"Record", "Changes"}},
		{plan.Batch{}, []string{"Target", "Provider", "Paths", "URLs", "Changes", "Requests", "Of"}},
		{ledger.Record{}, []string{"Bucket", "Key", "Sequencer", "ETag", "VersionID", "Time", "Deleted", "Purged"}},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.v)
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got fields %v, want %v: write the new ones in plan/json.go", typ, got, tt.want)
		}
	}
}
