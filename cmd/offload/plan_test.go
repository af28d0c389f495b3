package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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
