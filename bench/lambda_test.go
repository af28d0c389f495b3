package main

import (
	"strings"
	"testing"
	"time"
)

// TestLambdaSmoke runs measurement 4 at a tiny size: one round, two warm
// events, a batch of 10 records, with moto and the real bootstrap.
func TestLambdaSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap binary, and moto")
	}
	r, err := measureLambda(options{}, lambdaParams{Rounds: 1, Warm: 2, Batch: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Runs) != 1 {
		t.Fatalf("got %d rounds, want 1", len(r.Runs))
	}
	run := r.Runs[0]
	if run.Init <= 0 || run.FirstAnswer < run.Init || len(run.Warm) != 2 || run.Batch <= 0 {
		t.Errorf("got %+v, want init, first response, 2 warm events and a batch timed", run)
	}
	if run.PeakOne <= 0 || run.PeakBatch <= 0 {
		t.Errorf("got peaks %d and %d bytes, want both read", run.PeakOne, run.PeakBatch)
	}
	// The 10 records' paths in one call (measureLambda checked the single
	// events' invalidations).
	if r.BatchInvalidations != 1 || run.BatchFailed != 0 || run.BatchLog.Purged != 10 {
		t.Errorf("got %d invalidations for the batch, %d messages failed, summary %+v; want 1, 0 and 10 purged",
			r.BatchInvalidations, run.BatchFailed, run.BatchLog)
	}

	var b strings.Builder
	if err := writeReport(&b, report{Machine: machine(), Start: time.Now(), Sections: map[int]section{4: r}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"## 4. Lambda cold start and per-event cost\n",
		"| cold: start → first response, one event | ",
		"| 1,085 ms (quoted) | ",
		"| 36 MB (quoted) | ",
		"| 10-record batch, warm, round trip | ",
		"## 3. Pipeline throughput\n\n**Not measured in this run**",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}
