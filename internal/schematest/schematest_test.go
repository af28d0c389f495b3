package schematest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/schematest"
)

func load(t *testing.T) *schematest.Schemas {
	t.Helper()
	s, err := schematest.Load("../../docs")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	change = `{"bucket":"b","key":"a b.html","kind":"put","etag":"e","sequencer":"0A","time":"2026-11-20T10:00:00Z","record":0,"decision":"purge","reason":"new","sites":["www"]}`
	stats  = `{"changes":1,"purge":1,"skip":0,"reasons":{"new":1},"requests":{"cf":1},"items":{"cf":1},"billed_paths":1}`
	batch  = `{"target":"cf","provider":"cloudfront","paths":["/a%20b.html"],"changes":[0],"requests":1}`
	commit = `{"record":{"bucket":"b","key":"a b.html","sequencer":"0A","time":"2026-11-20T10:00:00Z","purged":"0A"},"changes":[0]}`
)

func plan(changes, mirrors, purges string) string {
	return `{"changes":` + changes + `,"mirrors":` + mirrors + `,"purges":` + purges + `,"commits":[` + commit + `],"stats":` + stats + `}`
}

// The schemas accept what offload prints and refuse what docs/json.md
// rules out: a field it does not describe, a missing required field, a
// null list, a value outside an enumeration.
func TestValidate(t *testing.T) {
	s := load(t)
	okResult := `{"changes":[` + strings.Replace(change, `"record":0`, `"record":0,"status":"ok"`, 1) + `],"mirrors":[],` +
		`"purges":[` + strings.Replace(batch, `"requests":1`, `"requests":1,"status":"ok","result":{"provider":"cloudfront","calls":[{"id":"I1","items":1,"attempts":1}],"outcomes":[{"item":{"kind":"path","value":"/a%20b.html"},"ok":true}]}`, 1) + `],` +
		`"stats":` + stats + `,"committed":1}`
	tests := []struct {
		name, root, doc, wantErr string
	}{
		{"a plan", "plan", plan("["+change+"]", "[]", "["+batch+"]"), ""},
		{"a result", "result", okResult, ""},
		{"a field the doc does not describe", "plan", plan("["+strings.Replace(change, `"record":0`, `"record":0,"colour":"red"`, 1)+"]", "[]", "[]"), "colour"},
		{"an unknown top-level field", "plan", strings.Replace(plan("[]", "[]", "[]"), `{"changes"`, `{"extra":1,"changes"`, 1), "extra"},
		{"a required field missing", "plan", plan("["+strings.Replace(change, `"reason":"new",`, "", 1)+"]", "[]", "[]"), "reason"},
		{"a null list", "plan", plan("[]", "null", "[]"), "null at .mirrors"},
		{"a null nested list", "plan", plan("["+strings.Replace(change, `["www"]`, "null", 1)+"]", "[]", "[]"), "null at .changes[0].sites"},
		{"a reason outside the enumeration", "plan", plan("["+strings.Replace(change, `"new"`, `"fresh"`, 1)+"]", "[]", "[]"), "/changes/0/reason': value must be one of"},
		{"a batch with neither paths nor urls", "plan", plan("[]", "[]", "["+strings.Replace(batch, `"paths":["/a%20b.html"],`, "", 1)+"]"), "oneOf"},
		{"a time that is not a date-time", "plan", plan("["+strings.Replace(change, "2026-11-20T10:00:00Z", "yesterday", 1)+"]", "[]", "[]"), "date-time"},
		{"a plan is not a result", "result", plan("[]", "[]", "[]"), "committed"},
		{"a failed change without its error", "result", strings.Replace(okResult, `"status":"ok"`, `"status":"failed"`, 1), "error"},
		{"a field of the result unknown to the doc", "result", strings.Replace(okResult, `"attempts":1`, `"attempts":1,"retries":0`, 1), "retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(tt.root, []byte(tt.doc))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("got no error, want one naming %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("got %v, want an error naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	s := load(t)
	for _, tt := range []struct {
		root string
		want []string
	}{
		{"plan", []string{"changes", "changes[].bucket", "changes[].reason", "commits[].record.purged", "stats.reasons"}},
		{"result", []string{"changes[].status", "changes[].kind", "purges[].result.calls[].support_id", "purges[].result.outcomes[].item.kind", "committed"}},
	} {
		got, err := s.Paths(tt.root)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: got %q, want it to hold %s", tt.root, got, w)
			}
		}
		if slices.Contains(got, "stats.reasons.new") {
			t.Errorf("%s: got the keys of a map as fields", tt.root)
		}
	}
}

func TestDocPaths(t *testing.T) {
	got, err := schematest.DocPaths([]byte(`{"changes":[{"bucket":"b"},{"sites":["x"]}],"stats":{"reasons":{"new":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"changes", "changes[].bucket", "changes[].sites", "stats", "stats.reasons", "stats.reasons.new"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
