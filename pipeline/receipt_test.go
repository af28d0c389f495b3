package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"
	awscloudfront "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/bolt"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
	"github.com/offload-dev/offload/purge/cloudfront"
	"github.com/offload-dev/offload/purge/purgetest"
)

// A partial failure across two targets re-purges only the one that
// failed. CloudFront (moto) purges the batch; Akamai (its test server,
// which checks signatures as Akamai does) refuses it the first time. The
// changes fail and are delivered again, as SQS or the inbox would: the
// second delivery purges at Akamai only, and commits. moto makes a new
// invalidation for every call (CloudFront itself would answer a repeated
// CallerReference with the first), so what it counts is what was sent.
func TestPartialFailureRepurgesOnlyTheFailedTarget(t *testing.T) {
	for _, store := range []string{"memory", "bolt"} {
		t.Run(store, func(t *testing.T) {
			moto := awstest.SharedMoto(t)
			dist := moto.CreateDistribution(t)
			cf, err := cloudfront.New(cloudfront.Options{Client: awscloudfront.NewFromConfig(moto.Config()), DistributionID: dist, Retry: fastRetry()})
			if err != nil {
				t.Fatal(err)
			}
			creds := akamaitest.Credentials{ClientToken: "akab-ct", ClientSecret: "c2VjcmV0", AccessToken: "akab-at"}
			fp := akamaitest.NewFastPurge(creds)
			defer fp.Close()
			fp.Backend = purgetest.NewBackend()
			fp.Backend.Fail(purgetest.Fault{Kind: purgetest.Invalid, Times: 1, Message: "refused once"})
			ak, err := akamai.New(akamai.Options{
				Config:     &edgegrid.Config{Host: strings.TrimPrefix(fp.URL, "https://"), ClientToken: creds.ClientToken, ClientSecret: creds.ClientSecret, AccessToken: creds.AccessToken},
				HTTPClient: fp.Client(), BaseURL: "https://www.example.com", Retry: fastRetry(),
			})
			if err != nil {
				t.Fatal(err)
			}
			var l ledger.Ledger = ledger.NewMemory()
			if store == "bolt" {
				if l, err = bolt.New(bolt.Options{Path: filepath.Join(t.TempDir(), "offload.db")}); err != nil {
					t.Fatal(err)
				}
			}
			defer l.Close()
			p := newPipeline(t, pipeline.Options{
				Plan: plan.Config{
					Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: []string{"cf", "ak"}}},
					Targets: []plan.Target{
						{Name: "cf", Provider: "cloudfront", Limits: cf.Limits()},
						{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com", Limits: ak.Limits()},
					},
				},
				Ledger:  l,
				Purgers: map[string]purge.Purger{"cf": cf, "ak": ak},
			})

			var batch []event.Change
			for i := range 5 {
				batch = append(batch, put(fmt.Sprintf("docs/%d.html", i), "e1", "0A", fmt.Sprint("m", i)))
			}
			ctx := context.Background()
			res, err := p.Apply(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.FailedMessages()); got != 5 || res.Committed != 0 {
				t.Fatalf("first delivery: got %d failed, %d committed; want all 5 failed at Akamai, none committed", got, res.Committed)
			}
			// The second delivery: the same changes.
			res, err = p.Apply(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.FailedMessages(); len(got) != 0 || res.Committed != 5 {
				t.Fatalf("second delivery: got failed %v, %d committed; want none failed, 5 committed", got, res.Committed)
			}
			for _, c := range res.Changes {
				if !slices.Equal(c.Done, []string{"cf"}) {
					t.Errorf("second delivery, %s: got done %v, want [cf]", c.Key, c.Done)
				}
			}

			// CloudFront once, Akamai twice: refused, then purged.
			seen := map[string]int{}
			invs := moto.Invalidations(t, dist)
			for _, inv := range invs {
				for _, path := range inv {
					seen[path]++
				}
			}
			for i := range 5 {
				if path := fmt.Sprintf("/docs/%d.html", i); seen[path] != 1 {
					t.Errorf("CloudFront: %s invalidated %d times, want once", path, seen[path])
				}
			}
			if len(invs) != 1 {
				t.Errorf("CloudFront: got %d invalidations, want 1", len(invs))
			}
			var statuses []int
			for _, r := range fp.Received() {
				statuses = append(statuses, r.Status)
			}
			if !slices.Equal(statuses, []int{400, 201}) {
				t.Errorf("Akamai: got calls answered %v, want [400 201]", statuses)
			}

			// Committed, and the receipts are gone with the commit.
			keys := make([]string, len(batch))
			for i, c := range batch {
				keys[i] = c.Key
			}
			recs, err := l.Get(ctx, "my-site", keys)
			if err != nil || len(recs) != 5 {
				t.Fatalf("ledger: got %d records (%v), want 5", len(recs), err)
			}
			for _, r := range recs {
				if r.Purged != "0A" {
					t.Errorf("ledger %s: purged up to %q, want 0A", r.Key, r.Purged)
				}
			}
			if rs, err := l.Receipts(ctx, "my-site", keys); err != nil || len(rs) != 0 {
				t.Errorf("receipts after the commit: got %v (%v), want none", rs, err)
			}
			// A third delivery is a duplicate: nothing purged anywhere.
			res, err = p.Apply(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if n, m := len(moto.Invalidations(t, dist)), len(fp.Received()); n != 1 || m != 2 || res.Changes[0].Reason != plan.ReasonDuplicate {
				t.Errorf("third delivery: got %d invalidations, %d Akamai calls, reason %s; want 1, 2, duplicate", n, m, res.Changes[0].Reason)
			}
		})
	}
}

// failingMirror fails its first Delete of each key in fail.
type failingMirror struct {
	mu   sync.Mutex
	fail map[string]bool
}

func (m *failingMirror) Put(context.Context, mirror.Object, io.Reader) error { return nil }

func (m *failingMirror) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail[key] {
		delete(m.fail, key)
		return errors.New("mirror refused once")
	}
	return nil
}

// flakyLedger fails its first Commit as a store would (disk full).
type flakyLedger struct {
	ledger.Ledger
	failed atomic.Bool
}

func (l *flakyLedger) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	if !l.failed.Swap(true) {
		return nil, errors.New("disk full")
	}
	return l.Ledger.Commit(ctx, recs)
}

// When a receipt is worth recording: not for a change whose mirror failed
// (its purges may have let the edge fetch the old bytes from the mirror
// again), for every target when only the commit failed, and not for an
// object purged through one target (its receipts are never read).
func TestReceiptRules(t *testing.T) {
	rm := func(key, msg string) event.Change {
		return event.Change{Bucket: "my-site", Key: key, Kind: event.KindRemove, Sequencer: "0A", Time: t0, MessageID: msg}
	}
	tests := []struct {
		name     string
		targets  []string
		mirror   map[string]bool // keys whose mirror fails once
		flaky    bool            // the first Commit fails
		receipts int             // recorded by the first delivery
		again    map[string]int  // items purged per target by the second
	}{
		{"mirror failed", []string{"a", "b"}, map[string]bool{"x.html": true}, false, 0, map[string]int{"a": 1, "b": 1}},
		{"commit failed", []string{"a", "b"}, nil, true, 2, map[string]int{}},
		{"one target", []string{"a"}, nil, true, 0, map[string]int{"a": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			purgers := map[string]purge.Purger{}
			recorders := map[string]*recorder{}
			var targets []plan.Target
			for _, name := range tt.targets {
				recorders[name] = &recorder{}
				purgers[name] = recorders[name]
				targets = append(targets, plan.Target{Name: name, Provider: "varnish", BaseURL: "http://" + name})
			}
			var l ledger.Ledger = ledger.NewMemory()
			if tt.flaky {
				l = &flakyLedger{Ledger: l}
			}
			p := newPipeline(t, pipeline.Options{
				Plan: plan.Config{
					Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Mirrors: []string{"m"}, Targets: tt.targets}},
					Targets: targets,
				},
				Ledger:  l,
				Purgers: purgers,
				Mirrors: map[string]mirror.Mirror{"m": &failingMirror{fail: tt.mirror}},
				Source:  noSource{},
			})
			batch := []event.Change{rm("x.html", "m1"), rm("y.html", "m2")}
			ctx := context.Background()
			res, err := p.Apply(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if res.Receipts != tt.receipts {
				t.Errorf("first delivery: got %d receipts, want %d", res.Receipts, tt.receipts)
			}
			var again []event.Change
			for _, c := range batch {
				if slices.Contains(res.FailedMessages(), c.MessageID) {
					again = append(again, c)
				}
			}
			before := map[string]int{}
			for name, r := range recorders {
				before[name] = len(r.sent())
			}
			if res, err = p.Apply(ctx, again); err != nil || res.Failed() != 0 {
				t.Fatalf("second delivery: got %v, %d failed, want none", err, res.Failed())
			}
			for name, r := range recorders {
				if got := len(r.sent()) - before[name]; got != tt.again[name] {
					t.Errorf("second delivery: got %d items purged at %s, want %d", got, name, tt.again[name])
				}
			}
		})
	}
}

// noSource is an S3 client that is never read: removes need no source.
type noSource struct{}

func (noSource) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, errors.New("no source")
}
