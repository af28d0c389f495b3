//go:build !offload_lambda

package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/varnishtest"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
)

// s3Event is one S3 event notification, as S3 sends it, for a put.
func s3Event(key, etag, seq string) string {
	b, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1", EventName: "ObjectCreated:Put",
		EventTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		S3: events.S3Entity{Bucket: events.S3Bucket{Name: "my-site"},
			Object: events.S3Object{Key: key, ETag: etag, Sequencer: seq, Size: 10}},
	}}})
	return string(b)
}

func apply(t *testing.T, cfg, eventsFile string) (int, pipeline.Result, string) {
	t.Helper()
	code, out, errs := offload(t, "", "apply", "--config", cfg, "--events", eventsFile)
	var res pipeline.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("apply: exit %d, not a result: %v\n%s\n%s", code, err, out, errs)
	}
	return code, res, errs
}

// The poison-key batch: 20 good changes and one whose key is 40,000 bytes
// (only a crafted webhook sends one; bbolt holds keys of 32,768 at most).
// The first delivery commits the 20 and fails only the poison one, which
// nothing is purged for; delivered again, the 20 are duplicates.
func TestApplyPoisonKeyCommitsTheRest(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {path: %s}
sites: [{name: www, bucket: my-site, targets: [dry]}]
targets: [{name: dry, provider: log, base_url: "https://www.example.com"}]
`, filepath.Join(dir, "offload.db")))
	var lines []string
	for i := range 20 {
		lines = append(lines, s3Event(fmt.Sprintf("good/%02d.html", i), "e1", "0055AED6DCD90281E5"))
		if i == 9 {
			lines = append(lines, s3Event(strings.Repeat("k", 40000), "e1", "0055AED6DCD90281E5"))
		}
	}
	eventsFile := writeFile(t, "events.jsonl", strings.Join(lines, "\n"))

	code, res, errs := apply(t, cfg, eventsFile)
	if code != exitFailed || !strings.Contains(errs, "1 of 21 changes failed") {
		t.Errorf("first delivery: got exit %d, stderr %q; want exit 1, 1 of 21 failed", code, errs)
	}
	if res.Committed != 20 {
		t.Errorf("first delivery: got %d committed, want 20", res.Committed)
	}
	for i, c := range res.Changes {
		poison := len(c.Key) == 40000
		switch {
		case poison && (c.Reason != plan.ReasonInvalid || c.Status != pipeline.StatusFailed || !strings.Contains(c.Error, "key of 40000 bytes")):
			t.Errorf("the poison change: got %s/%s %s %q, want invalid, failed, saying its size", c.Decision.Decision, c.Reason, c.Status, c.Error)
		case !poison && c.Status != pipeline.StatusOK:
			t.Errorf("change %d (%s): got %s %q, want ok", i, c.Key, c.Status, c.Error)
		}
	}
	if len(res.Purges) != 1 || len(res.Purges[0].URLs) != 20 || slices.ContainsFunc(res.Purges[0].URLs, func(u string) bool { return strings.Contains(u, "kkkk") }) {
		t.Errorf("purges: got %d batches, want one of the 20 good URLs only", len(res.Purges))
	}

	code, res, _ = apply(t, cfg, eventsFile)
	if code != exitFailed || res.Committed != 0 || len(res.Purges) != 0 {
		t.Errorf("second delivery: got exit %d, %d committed, %d purges; want exit 1 (the poison change), nothing committed or purged", code, res.Committed, len(res.Purges))
	}
	for _, c := range res.Changes {
		if len(c.Key) != 40000 && c.Reason != plan.ReasonDuplicate {
			t.Errorf("second delivery, %s: got %s, want duplicate", c.Key, c.Reason)
		}
	}
}

// A crafted sequencer within bounds still pins its key; an operator sees
// the record with `offload ledger show` and resets it with `offload ledger
// reset`, and the next real change is purged.
func TestLedgerShowAndReset(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {path: %s}
sites: [{name: www, bucket: my-site, targets: [dry]}]
targets: [{name: dry, provider: log, base_url: "https://www.example.com"}]
`, filepath.Join(dir, "offload.db")))
	const key = "docs/a b.html"
	crafted := writeFile(t, "crafted.json", s3Event("docs/a+b.html", "bad", strings.Repeat("F", 32)))
	real := writeFile(t, "real.json", s3Event("docs/a+b.html", "e2", "0055AED6DCD90281E5"))

	if code, res, errs := apply(t, cfg, crafted); code != exitOK || res.Committed != 1 {
		t.Fatalf("the crafted event: exit %d, %d committed: %s", code, res.Committed, errs)
	}
	if _, res, _ := apply(t, cfg, real); res.Changes[0].Reason != plan.ReasonStale {
		t.Fatalf("the real change: got %s, want stale (the key is pinned)", res.Changes[0].Reason)
	}

	code, out, errs := offload(t, "", "ledger", "show", "--config", cfg, "--site", "www", key)
	var e ledger.Entry
	if code != exitOK || json.Unmarshal([]byte(out), &e) != nil || e.Record == nil || e.Record.ETag != "bad" {
		t.Fatalf("ledger show: got exit %d, %s %s; want the crafted record", code, out, errs)
	}
	code, out, errs = offload(t, "", "ledger", "reset", "--config", cfg, "--bucket", "my-site", key)
	if code != exitOK || json.Unmarshal([]byte(out), &e) != nil || e.Record == nil || e.Record.Sequencer != strings.Repeat("F", 32) {
		t.Fatalf("ledger reset: got exit %d, %s %s; want what it held", code, out, errs)
	}
	code, out, errs = offload(t, "", "ledger", "show", "--config", cfg, "--site", "www", key)
	if code != exitFailed || out != "" || !strings.Contains(errs, "holds nothing for my-site/docs/a b.html") {
		t.Errorf("ledger show after the reset: got exit %d, stdout %q, stderr %q; want exit 1 saying it holds nothing", code, out, errs)
	}
	if _, res, _ := apply(t, cfg, real); res.Changes[0].Decision.Decision != plan.Purge || res.Committed != 1 {
		t.Errorf("the real change after the reset: got %s/%s, %d committed; want it purged and committed", res.Changes[0].Decision.Decision, res.Changes[0].Reason, res.Committed)
	}

	// Mistakes: exit 2, with what was wrong.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ledger", "show", "--config", cfg, "--site", "www"}, "the object's KEY is required"},
		{[]string{"ledger", "reset", "--config", cfg, key}, "--site or --bucket is required"},
		{[]string{"ledger", "show", "--config", cfg, "--site", "www", "--bucket", "b", key}, "want one of them"},
		{[]string{"ledger", "show", "--config", cfg, "--site", "www", "a", "b"}, `unexpected argument "b"`},
		{[]string{"ledger", "show", "--config", cfg, "--site", "nope", key}, `no site "nope"`},
		{[]string{"ledger", "reset", "--config", cfg, "--bucket", "my/site", key}, "bucket name"},
	} {
		t.Run(strings.Join(tt.args[4:], " "), func(t *testing.T) {
			code, out, errs := offload(t, "", tt.args...)
			if code != exitUsage || out != "" || !strings.Contains(errs, tt.want) {
				t.Errorf("got exit %d, stdout %q, stderr %q; want exit 2 saying %q", code, out, errs, tt.want)
			}
		})
	}
}

// A partial failure across two targets, end to end through `offload
// apply`: CloudFront (moto) purges; Varnish, behind a proxy that refuses
// its first PURGE (400, not retried), does not. The same events applied
// again purge at Varnish only, and the ledger ends committed. moto makes an
// invalidation for every call, so its count is what was sent.
func TestApplyRepurgesOnlyTheFailedTarget(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	dist := moto.CreateDistribution(t)
	origin := varnishtest.NewOrigin(t)
	origin.Set("www.example.com", "/docs/a%20b.html", "v1")
	v := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})
	proxy := awstest.NewFaultProxy(v.URL)
	defer proxy.Close()
	proxy.Inject(awstest.Fault{Op: "PURGE /docs/a b.html", Times: 1, Status: 400, Code: "Refused", Message: "refused once"})

	dir := t.TempDir()
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {path: %s}
sites: [{name: www, bucket: my-site, targets: [cf, edge]}]
targets:
  - {name: cf, provider: cloudfront, distribution_id: %s}
  - {name: edge, provider: varnish, endpoints: [%s], base_url: "http://www.example.com"}
`, filepath.Join(dir, "offload.db"), dist, proxy.URL))
	read := func() string {
		t.Helper()
		body, cache, err := v.Get("www.example.com", "/docs/a%20b.html")
		if err != nil {
			t.Fatal(err)
		}
		return body + " " + cache
	}
	read()
	if got := read(); got != "v1 HIT" {
		t.Fatalf("cached: got %q, want v1 HIT", got)
	}
	origin.Set("www.example.com", "/docs/a%20b.html", "v2")
	eventsFile := writeFile(t, "events.json", s3Event("docs/a+b.html", "e2", "0055AED6DCD90281E5"))

	code, res, errs := apply(t, cfg, eventsFile)
	if code != exitFailed || res.Committed != 0 || res.Receipts != 1 {
		t.Fatalf("first delivery: got exit %d, %d committed, %d receipts (%s); want exit 1, none committed, 1 receipt", code, res.Committed, res.Receipts, errs)
	}
	if got := read(); got != "v1 HIT" {
		t.Fatalf("after the refused purge: Varnish serves %q, want still v1 HIT", got)
	}
	code, res, errs = apply(t, cfg, eventsFile)
	if code != exitOK || res.Committed != 1 || !slices.Equal(res.Changes[0].Done, []string{"cf"}) {
		t.Fatalf("second delivery: got exit %d, %d committed, done %v (%s); want exit 0, committed, done [cf]", code, res.Committed, res.Changes[0].Done, errs)
	}
	if len(res.Purges) != 1 || res.Purges[0].Target != "edge" {
		t.Errorf("second delivery: got purges %+v, want one, at edge", res.Purges)
	}
	if got := read(); got != "v2 MISS" {
		t.Errorf("after the second delivery: Varnish serves %q, want v2 MISS", got)
	}
	if invs := moto.Invalidations(t, dist); len(invs) != 1 {
		t.Errorf("CloudFront: got %d invalidations, want 1", len(invs))
	}
	if n := proxy.Served("PURGE /docs/a b.html"); n != 1 {
		t.Errorf("Varnish: got %d PURGEs refused, want 1", n)
	}
	code, out, _ := offload(t, "", "ledger", "show", "--config", cfg, "--site", "www", "docs/a b.html")
	var e ledger.Entry
	if code != exitOK || json.Unmarshal([]byte(out), &e) != nil || e.Record == nil || e.Record.Purged != "0055AED6DCD90281E5" || e.Receipt != nil {
		t.Errorf("ledger: got exit %d, %s; want the record purged up to the change, and no receipt", code, out)
	}
}
