package pipeline_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscloudfront "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/varnishtest"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/dynamo"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/cloudfront"
	"github.com/offload-dev/offload/purge/varnish"
	"github.com/offload-dev/offload/retry"
)

func TestMain(m *testing.M) { os.Exit(awstest.RunMain(m)) }

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func put(key, etag, seq, msg string) event.Change {
	return event.Change{Bucket: "my-site", Key: key, Kind: event.KindPut, ETag: etag, Sequencer: seq, Time: t0, MessageID: msg}
}

// fastRetry is a retry policy that records its waits instead of sleeping.
func newPipeline(t testing.TB, opts pipeline.Options) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fastRetry() retry.Policy {
	return retry.Policy{MaxAttempts: 3, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}
}

func cfConfig(target string) plan.Config {
	return plan.Config{
		Sites:   []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: []string{target}}},
		Targets: []plan.Target{{Name: target, Provider: "cloudfront", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 3000}}}},
	}
}

// Real components end to end: a DynamoDB ledger and a CloudFront target in
// moto, through the real SDK clients.
func TestApplyCloudFrontWithDynamoLedger(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(moto.Config())
	if err := dynamo.CreateTable(ctx, ddb, "offload", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	l, err := dynamo.New(dynamo.Options{Client: ddb, Table: "offload"})
	if err != nil {
		t.Fatal(err)
	}
	dist := moto.CreateDistribution(t)
	cf, err := cloudfront.New(cloudfront.Options{Client: awscloudfront.NewFromConfig(moto.Config()), DistributionID: dist, Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, pipeline.Options{Plan: cfConfig("cf"), Ledger: l, Purgers: map[string]purge.Purger{"cf": cf}})

	batch := []event.Change{
		put("index.html", "e1", "01", "m1"),
		put("docs/a b.html", "e1", "01", "m2"),
		put("docs/a b.html", "e1", "01", "m3"), // a duplicate delivery
		{Kind: event.KindInvalid, Err: "record 0: s3.object.key is missing", MessageID: "m4"},
	}
	res, err := p.Apply(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FailedMessages(); !slices.Equal(got, []string{"m4"}) {
		t.Fatalf("failed messages: got %v, want only the invalid record's m4", got)
	}
	if res.Committed != 2 {
		t.Fatalf("committed: got %d, want 2", res.Committed)
	}
	invs := moto.Invalidations(t, dist)
	if len(invs) != 1 {
		t.Fatalf("invalidations: got %d, want 1", len(invs))
	}
	got := slices.Sorted(slices.Values(invs[0]))
	if want := []string{"/", "/docs/a%20b.html", "/index.html"}; !slices.Equal(got, want) {
		t.Fatalf("paths: got %q, want %q", got, want)
	}

	// Delivered again: the ledger knows; nothing is purged.
	res, err = p.Apply(ctx, batch[:3])
	if err != nil {
		t.Fatal(err)
	}
	if n := len(moto.Invalidations(t, dist)); n != 1 || len(res.FailedMessages()) != 0 {
		t.Fatalf("after redelivery: %d invalidations, failed %v; want 1 and none", n, res.FailedMessages())
	}
	for _, c := range res.Changes {
		if c.Reason != plan.ReasonDuplicate {
			t.Fatalf("redelivered change: got %s/%s, want duplicate", c.Decision.Decision, c.Reason)
		}
	}
	// A new version is purged once more.
	res, _ = p.Apply(ctx, []event.Change{put("docs/a b.html", "e2", "02", "m5")})
	if n := len(moto.Invalidations(t, dist)); n != 2 || res.Changes[0].Reason != plan.ReasonChanged {
		t.Fatalf("a changed object: %d invalidations, reason %s", n, res.Changes[0].Reason)
	}
}

// CloudFront fails for a while, then recovers: every change is purged in
// the end, each in exactly one invalidation made at CloudFront, and nothing
// is recorded before its purge succeeded. The failures come before the
// request reaches CloudFront (refused, throttled) or after it made the
// invalidation (the answer lost: a 5xx or a closed connection); then only
// the CallerReference, the same on every retry and redelivery, keeps a
// second invalidation from being made. moto makes one for every call, so
// the requests go through awstest.CloudFront, which keeps CloudFront's
// promise, and the invalidations are counted at moto.
func TestFaultsThenRecovery(t *testing.T) {
	moto := awstest.SharedMoto(t)
	lost := func(n int, code string) awstest.Fault {
		return awstest.Fault{Times: n, Forward: true, Status: 500, Code: code, Message: "answer lost"}
	}
	tests := []struct {
		name     string
		faults   []awstest.Fault
		rounds   int // deliveries until every change is done
		repeated int // calls answered with the invalidation already made
	}{
		{"refused, then throttled", []awstest.Fault{
			{Times: 2, Status: 500, Code: "ServiceUnavailable", Message: "try later"},
			{Times: 3, Status: 400, Code: "Throttling", Message: "Rate exceeded"},
		}, 2, 0},
		// The first attempt makes the invalidation; the two retries and the
		// redelivery get it back.
		{"answer lost: connection closed", []awstest.Fault{{Times: 3, Forward: true, Drop: true}}, 2, 3},
		{"answer lost: 5xx", []awstest.Fault{lost(4, "InternalError")}, 2, 4},
		{"refused, lost, throttled, lost", []awstest.Fault{
			{Times: 1, Status: 503, Code: "ServiceUnavailable"},
			{Times: 1, Forward: true, Drop: true},
			{Times: 1, Status: 400, Code: "Throttling"},
			lost(1, "ServiceUnavailable"),
		}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist := moto.CreateDistribution(t)
			cfront := awstest.NewCloudFront(moto.URL)
			defer cfront.Close()
			proxy := awstest.NewFaultProxy(cfront.URL)
			defer proxy.Close()
			cf, err := cloudfront.New(cloudfront.Options{Client: awscloudfront.NewFromConfig(awstest.Config(proxy.URL)), DistributionID: dist, Retry: fastRetry()})
			if err != nil {
				t.Fatal(err)
			}
			l := ledger.NewMemory()
			p := newPipeline(t, pipeline.Options{Plan: cfConfig("cf"), Ledger: l, Purgers: map[string]purge.Purger{"cf": cf}})
			served := 0
			for _, f := range tt.faults {
				f.Op = "POST /2020-05-31/distribution/" + dist + "/invalidation"
				proxy.Inject(f)
				served += f.Times
			}

			var pending []event.Change
			for i := range 20 {
				pending = append(pending, put(fmt.Sprintf("p/%02d.html", i), "e1", "01", fmt.Sprint("m", i)))
			}
			ctx := context.Background()
			rounds := 0
			for len(pending) > 0 {
				if rounds++; rounds > 5 {
					t.Fatalf("still failing after 5 deliveries: %d changes", len(pending))
				}
				res, err := p.Apply(ctx, pending)
				if err != nil {
					t.Fatal(err)
				}
				failed := res.FailedMessages()
				// What failed is not recorded, so a redelivery purges it.
				recs, err := l.Get(ctx, "my-site", []string{"p/00.html"})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := recs["p/00.html"]; ok == slices.Contains(failed, "m0") {
					t.Fatalf("round %d: m0 failed %v, recorded %v; want recorded exactly when it did not fail", rounds, !ok, ok)
				}
				// SQS redelivers exactly the failed messages.
				var next []event.Change
				for _, c := range pending {
					if slices.Contains(failed, c.MessageID) {
						next = append(next, c)
					}
				}
				pending = next
			}
			if rounds != tt.rounds {
				t.Errorf("got %d deliveries, want %d", rounds, tt.rounds)
			}
			invs := moto.Invalidations(t, dist)
			seen := map[string]int{}
			for _, inv := range invs {
				for _, path := range inv {
					seen[path]++
				}
			}
			var wrong []string
			for i := range 20 {
				if path := fmt.Sprintf("/p/%02d.html", i); seen[path] != 1 {
					wrong = append(wrong, fmt.Sprintf("%s %d times", path, seen[path]))
				}
			}
			if len(wrong) > 0 {
				t.Errorf("got %s invalidated; want each once", strings.Join(wrong, ", "))
			}
			if len(invs) != 1 || cfront.Created() != 1 {
				t.Errorf("got %d invalidations at moto (%d made through the stand-in), want 1", len(invs), cfront.Created())
			}
			if got := cfront.Repeated(); got != tt.repeated {
				t.Errorf("got %d calls answered with the invalidation already made, want %d", got, tt.repeated)
			}
			if got := proxy.Served(""); got != served {
				t.Errorf("got %d faults served, want %d", got, served)
			}
		})
	}
}

// A deadline too near to start anything: nothing is purged, nothing is
// recorded, and every message is reported for redelivery.
func TestDeadlineLeavesWorkForRedelivery(t *testing.T) {
	calls := 0
	p := newPipeline(t, pipeline.Options{
		Plan:    cfConfig("cf"),
		Ledger:  ledger.NewMemory(),
		Purgers: map[string]purge.Purger{"cf": purgerFunc(func() { calls++ })},
		Reserve: time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res, err := p.Apply(ctx, []event.Change{put("a.html", "e", "01", "m1"), put("b.html", "e", "01", "m2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FailedMessages(); !slices.Equal(got, []string{"m1", "m2"}) || calls != 0 || res.Committed != 0 {
		t.Fatalf("got failed %v, %d purge calls, %d committed; want both failed, none sent or recorded", got, calls, res.Committed)
	}
	if !strings.Contains(res.Changes[0].Error, "deadline is near") {
		t.Fatalf("error: %q", res.Changes[0].Error)
	}
}

// A ledger commit longer than the reserve still lands when the deadline
// leaves time for it: a 10,000-record batch at DynamoDB takes seconds, and
// a commit cut at the reserve would have every change purged again.
func TestCommitUsesTheTimeLeft(t *testing.T) {
	slow := &slowLedger{Ledger: ledger.NewMemory(), delay: 300 * time.Millisecond}
	p := newPipeline(t, pipeline.Options{
		Plan:    cfConfig("cf"),
		Ledger:  slow,
		Purgers: map[string]purge.Purger{"cf": purgerFunc(func() {})},
		Reserve: 100 * time.Millisecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.Apply(ctx, []event.Change{put("a.html", "e", "01", "m1"), put("b.html", "e", "01", "m2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FailedMessages(); len(got) != 0 || res.Committed != 2 {
		t.Fatalf("got failed %v (%q), %d committed; want none failed, 2 committed", got, res.Changes[0].Error, res.Committed)
	}

	// With no time left but the reserve, the commit is cut at the reserve
	// and the changes are left for redelivery, not lost.
	slow.delay = time.Second
	ctx2, cancel2 := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel2()
	res, err = p.Apply(ctx2, []event.Change{put("c.html", "e", "01", "m3")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FailedMessages(); !slices.Equal(got, []string{"m3"}) || !strings.Contains(res.Changes[0].Error, "record in ledger") {
		t.Fatalf("got failed %v (%q); want m3 failed at the ledger", got, res.Changes[0].Error)
	}
}

// slowLedger takes delay to commit, or until its context ends.
type slowLedger struct {
	ledger.Ledger
	delay time.Duration
}

func (l *slowLedger) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	select {
	case <-time.After(l.delay):
		return l.Ledger.Commit(ctx, recs)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type purgerFunc func()

func (f purgerFunc) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	f()
	res := &purge.Result{Provider: "test"}
	for _, it := range req.Items {
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true})
	}
	return res, nil
}

// Mirror first, then purge: a changed object is streamed from S3 (moto) to
// NetStorage (its test server), then purged at a real Varnish, which serves
// the new bytes. A failed mirror stops the purge and the ledger record.
func TestMirrorThenPurgeThroughVarnish(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s3c := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("my-site")}); err != nil {
		t.Fatal(err)
	}
	putObject := func(key, body string) event.Change {
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return event.Change{Bucket: "my-site", Key: key, Kind: event.KindPut, ETag: strings.Trim(aws.ToString(out.ETag), `"`), Time: time.Now(), MessageID: key + body}
	}

	ns := akamaitest.NewNetStorage("123456", "uploader", "ns-secret-key")
	defer ns.Close()
	nsClient, err := netstorage.New(netstorage.Options{CPCode: "123456", Dir: "/site", KeyName: "uploader", Key: "ns-secret-key", APIURL: ns.URL, Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}

	origin := varnishtest.NewOrigin(t)
	v := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})
	vc, err := varnish.New(varnish.Options{Endpoints: []string{v.URL}, Host: "www.example.com", Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, pipeline.Options{
		Plan: plan.Config{
			Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Mirrors: []string{"ns"}, Targets: []string{"edge"}}},
			Targets: []plan.Target{{Name: "edge", Provider: "varnish", BaseURL: "http://www.example.com", Limits: vc.Limits()}},
		},
		Ledger:  ledger.NewMemory(),
		Purgers: map[string]purge.Purger{"edge": vc},
		Mirrors: map[string]mirror.Mirror{"ns": nsClient},
		Source:  s3c,
	})

	origin.Set("www.example.com", "/a%20b.html", "v1")
	read := func() string {
		body, cache, err := v.Get("www.example.com", "/a%20b.html")
		if err != nil {
			t.Fatal(err)
		}
		return body + " " + cache
	}
	read()
	if got := read(); got != "v1 HIT" {
		t.Fatalf("cached: got %q", got)
	}

	// The new version: NetStorage gets the bytes, Varnish drops its copy.
	c := putObject("a b.html", "version two")
	origin.Set("www.example.com", "/a%20b.html", "v2")
	res, err := p.Apply(ctx, []event.Change{c})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() != 0 || res.Committed != 1 {
		t.Fatalf("apply: %d failed, %d committed: %+v", res.Failed(), res.Committed, res.Changes)
	}
	f, ok := ns.File("/123456/site/a b.html")
	sum := md5.Sum([]byte("version two"))
	if !ok || f.Size != int64(len("version two")) || f.MD5 != hex.EncodeToString(sum[:]) {
		t.Fatalf("NetStorage holds %+v (ok %v)", f, ok)
	}
	if got := read(); got != "v2 MISS" {
		t.Fatalf("after the purge: got %q, want the new content", got)
	}

	// NetStorage down: no purge, no ledger record, the message fails.
	ns.Fail(500, 500, 500, 500)
	c = putObject("a b.html", "version three")
	origin.Set("www.example.com", "/a%20b.html", "v3")
	res, err = p.Apply(ctx, []event.Change{c})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FailedMessages(); len(got) != 1 || res.Committed != 0 || res.Purges[0].Status != pipeline.StatusSkipped {
		t.Fatalf("with NetStorage down: failed %v, committed %d, purge %s", got, res.Committed, res.Purges[0].Status)
	}
	if got := read(); got != "v2 HIT" {
		t.Fatalf("the CDN was purged though the mirror failed: %q", got)
	}
}

func TestConstructorsValidate(t *testing.T) {
	l := ledger.NewMemory()
	m := map[string]mirror.Mirror{"ns": nil}
	in := &pipeline.Inbox{}
	tests := []struct {
		name string
		new  func() error
		want string
	}{
		{"pipeline without ledger", func() error { _, err := pipeline.New(pipeline.Options{}); return err }, "pipeline: Options.Ledger is required"},
		{"mirrors without source", func() error { _, err := pipeline.New(pipeline.Options{Ledger: l, Mirrors: m}); return err }, "pipeline: Options.Source is required with Options.Mirrors"},
		{"negative reserve", func() error { _, err := pipeline.New(pipeline.Options{Ledger: l, Reserve: -time.Second}); return err }, "pipeline: Options.Reserve -1s is negative"},
		{"negative concurrency", func() error { _, err := pipeline.New(pipeline.Options{Ledger: l, Concurrency: -1}); return err }, "pipeline: Options.Concurrency -1 is negative"},
		{"worker without inbox", func() error { _, err := pipeline.NewWorker(pipeline.WorkerOptions{}); return err }, "pipeline: WorkerOptions.Inbox is required"},
		{"worker without applier", func() error { _, err := pipeline.NewWorker(pipeline.WorkerOptions{Inbox: in}); return err }, "pipeline: WorkerOptions.Applier is required"},
		{"negative window", func() error {
			_, err := pipeline.NewWorker(pipeline.WorkerOptions{Inbox: in, Applier: applierFunc(nil), Window: -1})
			return err
		}, "pipeline: WorkerOptions.Window is negative"},
		{"inbox without db", func() error { _, err := pipeline.NewInbox(pipeline.InboxOptions{}); return err }, "pipeline: InboxOptions.DB is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.new(); err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// Options returns the pipeline's own copy: what a caller does to the maps
// it gave New, or got from Options, changes nothing inside.
func TestOptionsAreCopied(t *testing.T) {
	purgers := map[string]purge.Purger{"cf": purgerFunc(func() {})}
	p := newPipeline(t, pipeline.Options{Ledger: ledger.NewMemory(), Purgers: purgers})
	purgers["other"] = purgerFunc(func() {})
	p.Options().Purgers["third"] = purgerFunc(func() {})
	got := p.Options()
	if len(got.Purgers) != 1 || got.Purgers["cf"] == nil {
		t.Errorf("Purgers: got %v, want only cf", got.Purgers)
	}
	if got.Concurrency != 4 || got.Reserve != 2*time.Second {
		t.Errorf("defaults: got Concurrency %d, Reserve %s, want 4, 2s", got.Concurrency, got.Reserve)
	}
}

// heldPurger holds every call until release is closed, as a target does
// that waits for its rate limit's tokens or hangs.
type heldPurger struct{ release chan struct{} }

func (h heldPurger) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	<-h.release
	return purgerFunc(func() {}).Purge(ctx, req)
}

// A target that holds its calls holds only its own: another target's
// batches are all purged meanwhile. Before, the targets shared the
// pipeline's Concurrency slots in plan order, and the held target's first
// four batches kept the other's from starting.
func TestTargetsDoNotWaitForEachOther(t *testing.T) {
	// n changes, two paths a call: n/2 batches a target, more than
	// Concurrency (4).
	const n, batches = 12, 6
	limits := purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 2}}
	cfg := plan.Config{
		Sites: []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"a-held", "b-free"}}},
		// "a-held" sorts first: its batches come first in the plan.
		Targets: []plan.Target{{Name: "a-held", Provider: "cloudfront", Limits: limits}, {Name: "b-free", Provider: "cloudfront", Limits: limits}},
	}
	held := heldPurger{release: make(chan struct{})}
	free := make(chan struct{}, n)
	p := newPipeline(t, pipeline.Options{Plan: cfg, Ledger: ledger.NewMemory(), Purgers: map[string]purge.Purger{
		"a-held": held,
		"b-free": purgerFunc(func() { free <- struct{}{} }),
	}})
	var changes []event.Change
	for i := range n {
		changes = append(changes, put(fmt.Sprintf("p/%02d.html", i), fmt.Sprintf("e%02d", i), fmt.Sprintf("%02X", i+1), fmt.Sprint("m", i)))
	}
	type applied struct {
		res *pipeline.Result
		err error
	}
	done := make(chan applied, 1)
	go func() {
		res, err := p.Apply(context.Background(), changes)
		done <- applied{res, err}
	}()

	// Not a timing: the deadline only turns a hang into a failure.
	deadline := time.After(30 * time.Second)
	for got := 0; got < batches; got++ {
		select {
		case <-free:
		case <-deadline:
			close(held.release)
			t.Fatalf("got %d of %d batches of b-free purged while a-held held its calls, want all", got, batches)
		}
	}
	close(held.release)
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	if f := a.res.Failed(); f != 0 {
		t.Fatalf("got %d failed changes, want none", f)
	}
	if got := len(a.res.Purges); got != 2*batches {
		t.Fatalf("got %d purge batches, want %d", got, 2*batches)
	}
	for _, pr := range a.res.Purges {
		if pr.Status != pipeline.StatusOK {
			t.Errorf("batch of %s: got status %s (%s), want ok", pr.Batch.Target, pr.Status, pr.Error)
		}
	}
}
