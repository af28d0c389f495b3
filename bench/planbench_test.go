package main

import (
	"strings"
	"testing"
	"time"
)

// TestPlanSmoke runs measurement 7 at 100 records, one round: the built
// offload plan, plan.py and offload apply, every output checked.
func TestPlanSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds offload and runs python3")
	}
	r, err := measurePlan(options{}, planParams{Sizes: []int{100}, Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	runs := r.Runs[100]
	if len(runs) != 1 || r.Objects[100] != 95 {
		t.Fatalf("got %d rounds, %d objects; want 1, 95", len(runs), r.Objects[100])
	}
	for name, pr := range map[string]procRun{"offload": runs[0].Offload, "plan.py": runs[0].Python, "apply": runs[0].Apply} {
		if pr.Wall <= 0 || pr.PeakRSS <= 0 || pr.OutBytes <= 0 {
			t.Errorf("%s: got %+v, want wall time, peak RSS and output measured", name, pr)
		}
	}
	var b strings.Builder
	if err := writeReport(&b, report{Machine: machine(), Start: time.Now(), Sections: map[int]section{7: r}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"## 7. `offload plan` against a Python script", "| 100 | ", "| | | peak RSS | "} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}
