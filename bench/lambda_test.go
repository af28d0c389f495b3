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
	r, err := measureLambda(options{}, lambdaParams{Rounds: 2, Warm: 2, Batch: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Two rounds: the second runs the in-memory offload and the floors in
	// another order.
	if len(r.Runs) != 2 {
		t.Fatalf("got %d rounds, want 2", len(r.Runs))
	}
	for i, run := range r.Runs {
		for name, s := range map[string]singles{"offload": run.Offload, "offload, in-memory ledger": run.OffloadMem,
			"Go floor": run.Floor, "Go hello-world": run.Hello, "Python": run.Python} {
			if s.Init <= 0 || s.FirstAnswer < s.Init || len(s.Warm) != 2 || s.PeakOne <= 0 || s.ColdFaults <= 0 {
				t.Errorf("round %d, %s: got %+v, want init, first response, 2 warm events, a peak and page faults", i+1, name, s)
			}
		}
	}
	run := r.Runs[0]
	if run.Batch.Took <= 0 || run.Batch.Peak <= 0 {
		t.Errorf("batch: got %+v, want it timed and its peak read", run.Batch)
	}
	// The 10 records' paths in one call (measureLambda checked the single
	// events' invalidations).
	if r.BatchInvalidations != 1 || run.Batch.Failed != 0 || run.Batch.Log.Purged != 10 {
		t.Errorf("got %d invalidations for the batch, %d messages failed, summary %+v; want 1, 0 and 10 purged",
			r.BatchInvalidations, run.Batch.Failed, run.Batch.Log)
	}
	// With the DynamoDB ledger: the warm-up event's PutItem and the
	// batch's 10, and two invalidations.
	d := r.Dynamo
	if d == nil || d.Failed != 0 || d.Log.Purged != 10 || d.Calls["PutItem"] != 11 {
		t.Errorf("DynamoDB batch: got %+v, want 10 purged and 11 PutItem calls", d)
	}
	if r.FloorBytes <= 0 || r.HelloBytes <= 0 || r.HelloBytes >= r.FloorBytes {
		t.Errorf("got Go floor %d bytes, hello-world %d; want both built, hello-world the smaller", r.FloorBytes, r.HelloBytes)
	}
	if r.Python == "" || r.Boto3 == "" {
		t.Errorf("got Python %q, boto3 %q; want both versions", r.Python, r.Boto3)
	}

	var b strings.Builder
	if err := writeReport(&b, report{Machine: machine(), Start: time.Now(), Sections: map[int]section{4: r}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"## 4. Lambda cold start and per-event cost\n",
		"| | offload, DynamoDB ledger | offload, in-memory ledger | Go floor (aws-lambda-go + SDK CloudFront client, one CreateInvalidation) | Go hello-world (aws-lambda-go, no call) | Python (boto3) | offload, in-memory ledger ÷ Go floor | Python ÷ offload, in-memory ledger |",
		"| cold: start → first response, one event | ",
		"| cold: page faults up to that response | ",
		"**What the floors show.** ",
		"| 10-record batch, in-memory ledger | median (range) |",
		"### The 10-record batch with the DynamoDB ledger",
		"11 × `PutItem`",
		"## 3. Pipeline throughput\n\n**Not measured in this run**",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
	// Nothing in it is a figure typed in from elsewhere (the blog's 1,085 ms
	// and 36 MB once were).
	for _, s := range []string{"(quoted)", "1,085", "36 MB"} {
		if strings.Contains(b.String(), s) {
			t.Errorf("report has %q:\n%s", s, b.String())
		}
	}
}
