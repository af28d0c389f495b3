//go:build !offload_lambda

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/offload-dev/offload/plan"
)

// offload plan on the embedded defaults prints every change with a
// decision and a reason, and changes nothing: no state file appears.
func TestPlanChangesNothing(t *testing.T) {
	events, err := filepath.Abs("../../event/testdata/sqs-mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errs := offload(t, "", "plan", "--events", events)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("not a plan: %v\n%s", err, out)
	}
	want := []string{"new", "duplicate", "test-event", "invalid", "invalid", "new"}
	if len(p.Changes) != len(want) {
		t.Fatalf("got %d changes, want %d", len(p.Changes), len(want))
	}
	for i, d := range p.Changes {
		if d.Reason != want[i] {
			t.Errorf("change %d: reason %q, want %q", i, d.Reason, want[i])
		}
	}
	if len(p.Purges) != 1 || p.Purges[0].Target != "dry-run" || len(p.Purges[0].URLs) != 2 {
		t.Errorf("purges: %+v", p.Purges)
	}
	if _, err := os.Stat(filepath.Join(dir, "offload.db")); err == nil {
		t.Error("offload plan created a state file")
	}
}

// offload plan reads every form of input as a stream: newline-delimited
// payloads with a bad line among them, an array of payloads, one
// document; it refuses input it cannot read at all.
func TestPlanReadsEvents(t *testing.T) {
	line := func(name string) string {
		var b bytes.Buffer
		if err := json.Compact(&b, readFixture(t, name)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	sns, put := line("sns.json"), line("s3-put.json")
	t.Chdir(t.TempDir()) // the defaults' state file is not made, but if it were
	tests := []struct {
		name     string
		stdin    string
		code     int
		reasons  []string // of the plan's changes
		detail   string   // of the invalid one
		stderr   string
		wantPlan bool
	}{
		// The SNS payload and the first record of the put are one event:
		// the planner orders copies by message id, whatever their place,
		// so the put's (it has none) is the one applied.
		{"one payload a line, the second cut short", sns + "\n" + put[:40] + "\n" + put + "\n", exitOK,
			[]string{"duplicate", "invalid", "new", "removed", "changed", "filtered"}, "line 2: not a JSON object", "", true},
		{"an array of payloads", "[" + sns + ",\n" + put + "]", exitOK,
			[]string{"duplicate", "new", "removed", "changed", "filtered"}, "", "", true},
		{"a document over lines, broken", "{\n\"Records\": [}\n", exitUsage, nil, "", "read events: standard input: not JSON: invalid character '}'", false},
		{"nothing", "\n", exitUsage, nil, "", "read events: standard input is empty", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := offload(t, tt.stdin, "plan", "--events", "-")
			if code != tt.code {
				t.Fatalf("got exit %d, want %d: %s", code, tt.code, errs)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("got standard error %q, want it to hold %q", errs, tt.stderr)
			}
			if !tt.wantPlan {
				if out != "" {
					t.Errorf("got output %q, want none", out)
				}
				return
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatalf("not a plan: %v\n%s", err, out)
			}
			var reasons []string
			for _, d := range p.Changes {
				reasons = append(reasons, d.Reason)
				if d.Reason == plan.ReasonInvalid && !strings.Contains(d.Detail, tt.detail) {
					t.Errorf("the invalid change: got detail %q, want it to hold %q", d.Detail, tt.detail)
				}
			}
			if !slices.Equal(reasons, tt.reasons) {
				t.Errorf("got reasons %v, want %v", reasons, tt.reasons)
			}
		})
	}
}

// The plan is one line of compact JSON, or indented with --pretty: the
// same JSON.
func TestPlanPretty(t *testing.T) {
	events, err := filepath.Abs("../../event/testdata/sqs-mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	_, compact, _ := offload(t, "", "plan", "--events", events)
	code, pretty, errs := offload(t, "", "plan", "--pretty", "--events", events)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Count(compact, "\n") != 1 || !strings.HasSuffix(compact, "}\n") {
		t.Errorf("got %q, want one line of JSON", compact)
	}
	if !strings.HasPrefix(pretty, "{\n  \"changes\": [\n    {\n") {
		t.Errorf("got %q..., want it indented by two spaces", pretty[:min(len(pretty), 40)])
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(pretty)); err != nil {
		t.Fatal(err)
	}
	if b.String() != strings.TrimSuffix(compact, "\n") {
		t.Errorf("--pretty compacted: got %s, want %s", b.String(), compact)
	}
}

func readFixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("../../event/testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
