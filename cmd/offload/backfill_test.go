//go:build !offload_lambda

package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/ledger/bolt"
	"github.com/offload-dev/offload/pipeline"
)

func seedBucket(t *testing.T, moto *awstest.Moto, n int) map[string]string {
	t.Helper()
	c := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("my-site")}); err != nil {
		t.Fatal(err)
	}
	etags := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("public/p%03d.html", i)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String(key), Body: strings.NewReader(fmt.Sprint("page ", i))})
		if err != nil {
			t.Fatal(err)
		}
		etags[key] = strings.Trim(aws.ToString(out.ETag), `"`)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String("private/x"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	return etags
}

// --seed-ledger records what exists, so the first events for existing
// objects do not purge them.
func TestBackfillSeedLedger(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	etags := seedBucket(t, moto, 25)
	dir := t.TempDir()
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {path: %s}
sites:
  - {name: www, bucket: my-site, prefix: public/, targets: [dry]}
targets:
  - {name: dry, provider: log, base_url: https://www.example.com}
`, filepath.Join(dir, "offload.db")))
	code, out, errs := offload(t, "", "backfill", "--config", cfg, "--site", "www", "--seed-ledger")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum backfillSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Objects != 25 || sum.Recorded != 25 || sum.Mirrored != 0 {
		t.Fatalf("summary: %+v (%v)\n%s", sum, err, out)
	}
	if !strings.Contains(errs, "25 objects in ") {
		t.Fatalf("progress: %q", errs)
	}

	// An event for an existing, unchanged object is skipped; a changed one purges.
	ev := fmt.Sprintf(`{"Records":[
	 {"eventSource":"aws:s3","eventTime":"2099-01-01T00:00:00Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{"key":"public/p001.html","eTag":%q,"sequencer":"01"}}},
	 {"eventSource":"aws:s3","eventTime":"2099-01-01T00:00:00Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{"key":"public/p002.html","eTag":"different","sequencer":"01"}}}]}`, etags["public/p001.html"])
	code, out, errs = offload(t, ev, "apply", "--config", cfg, "--events", "-")
	if code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, errs)
	}
	var res pipeline.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if r0, r1 := res.Changes[0].Reason, res.Changes[1].Reason; r0 != "unchanged" || r1 != "changed" {
		t.Fatalf("reasons: got %s and %s, want unchanged and changed", r0, r1)
	}
}

// Without --seed-ledger every object is mirrored, streamed from S3.
func TestBackfillMirrors(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	seedBucket(t, moto, 12)
	ns := akamaitest.NewNetStorage("123456", "uploader", "ns-secret-key")
	defer ns.Close()
	t.Setenv("NS_KEY", "ns-secret-key")
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {driver: memory}
sites:
  - {name: www, bucket: my-site, prefix: public/, mirrors: [ns], targets: []}
mirrors:
  - {name: ns, provider: netstorage, host: example-nsu.akamaihd.net, api_url: %s, cpcode: "123456", dir: /site, keyname: uploader, key: "env:NS_KEY"}
`, ns.URL))
	code, out, errs := offload(t, "", "backfill", "--config", cfg, "--site", "www")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for i := range 12 {
		if _, ok := ns.File(fmt.Sprintf("/123456/site/p%03d.html", i)); !ok {
			t.Fatalf("p%03d.html was not mirrored", i)
		}
	}
	if _, ok := ns.File("/123456/site/private/x"); ok {
		t.Fatal("an object outside the prefix was mirrored")
	}
	if strings.Contains(errs+out, "ns-secret-key") {
		t.Fatal("the NetStorage key reached the output")
	}

	// NetStorage refuses everything: the failures are listed, exit 1.
	ns.Fail(403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403)
	code, out, _ = offload(t, "", "backfill", "--config", cfg, "--site", "www", "--concurrency", "1")
	var sum backfillSummary
	_ = json.Unmarshal([]byte(out), &sum)
	if code != exitFailed || len(sum.Failed) == 0 || !strings.Contains(sum.Failed[0].Error, "403") {
		t.Fatalf("with NetStorage refusing: exit %d, %+v", code, sum)
	}
	// The first object failed: a run again starts from it.
	if sum.Complete || sum.Checkpoint != "" {
		t.Errorf("with NetStorage refusing: got complete %v, checkpoint %q; want incomplete, no checkpoint", sum.Complete, sum.Checkpoint)
	}
}

// listStopper forwards to moto and stops the backfill (cancels its context,
// or kills its process) when it asks for the stopAt-th listing page or the
// stopAtGet-th object, holding that request until the caller is gone. It
// records where each listing started.
type listStopper struct {
	*httptest.Server
	stopAt, stopAtGet int
	stop              func()

	mu     sync.Mutex
	lists  []string // start-after of each ListObjectsV2
	gets   int
	halted bool
}

func newListStopper(t *testing.T, target string, stopAt, stopAtGet int, stop func()) *listStopper {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = awstest.Transport()
	s := &listStopper{stopAt: stopAt, stopAtGet: stopAtGet, stop: stop}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		stop := false
		switch {
		case r.Method == http.MethodGet && q.Has("list-type"):
			s.lists = append(s.lists, q.Get("start-after"))
			stop = len(s.lists) == s.stopAt
		case r.Method == http.MethodGet && q.Get("x-id") == "GetObject":
			s.gets++
			stop = s.gets == s.stopAtGet
		}
		stop = stop && !s.halted
		s.halted = s.halted || stop
		s.mu.Unlock()
		if stop {
			s.stop()
			<-r.Context().Done() // the backfill is gone
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *listStopper) startAfters() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lists)
}

// A backfill stopped part-way, by Ctrl-C or kill -9, and run again: every
// object ends up in the ledger (and mirrored) once, the second run starts
// after the last key the first one committed, and does again only what the
// first left unrecorded: nothing when it stopped between pages or was
// cancelled, the page in flight when it was killed.
func TestBackfillResumes(t *testing.T) {
	// MinIO takes the few thousand objects ten times faster than moto.
	store := miniotest.Start(t, miniotest.Options{})
	awsEnv(t, &awstest.Moto{URL: store.URL})
	t.Setenv("AWS_ACCESS_KEY_ID", miniotest.RootUser)
	t.Setenv("AWS_SECRET_ACCESS_KEY", miniotest.RootPassword)
	const n = 3000 // three listing pages
	begin := time.Now()
	etags := seedBucketN(t, store, n)
	t.Logf("%d objects put in %s", n, time.Since(begin).Round(time.Millisecond))
	key := func(i int) string { return fmt.Sprintf("public/p%04d.html", i) }
	bin := offloadBinary(t)

	tests := []struct {
		name              string
		seed, kill        bool
		stopAt, stopAtGet int    // the listing page, or the object read, the first run stops at
		concurrency       int    // of the first run; 1 makes a stop mid-page exact
		resumeAfter       string // where the second run starts
		redone            int    // objects the second run mirrors again
	}{
		{name: "seed, Ctrl-C between pages", seed: true, stopAt: 2, resumeAfter: key(999)},
		{name: "mirror, Ctrl-C between pages", stopAt: 3, resumeAfter: key(1999)},
		{name: "mirror, Ctrl-C mid-page", stopAtGet: 1500, concurrency: 1, resumeAfter: key(1498)},
		{name: "seed, kill -9 between pages", seed: true, kill: true, stopAt: 3, resumeAfter: key(1999)},
		{name: "mirror, kill -9 mid-page", kill: true, stopAtGet: 1500, concurrency: 1, resumeAfter: key(999), redone: 499},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "offload.db")
			ns := akamaitest.NewNetStorage("123456", "uploader", "ns-secret-key")
			defer ns.Close()
			t.Setenv("NS_KEY", "ns-secret-key")
			cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {path: %q}
sites:
  - {name: www, bucket: my-site, prefix: public/, mirrors: [ns], targets: []}
mirrors:
  - {name: ns, provider: netstorage, host: example-nsu.akamaihd.net, api_url: %s, cpcode: "123456", dir: /site, keyname: uploader, key: "env:NS_KEY"}
`, db, ns.URL))
			args := []string{"backfill", "--config", cfg, "--site", "www"}
			if tt.seed {
				args = append(args, "--seed-ledger")
			}
			first := args
			if tt.concurrency > 0 {
				first = append(slices.Clip(args), "--concurrency", fmt.Sprint(tt.concurrency))
			}

			// The first run, stopped.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan *os.Process, 1)
			stop := cancel
			if tt.kill {
				stop = func() { _ = (<-started).Kill() }
			}
			stopper := newListStopper(t, store.URL, tt.stopAt, tt.stopAtGet, stop)
			t.Setenv("AWS_ENDPOINT_URL", stopper.URL)
			if tt.kill {
				var out bytes.Buffer
				cmd := exec.Command(bin, first...)
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				started <- cmd.Process
				err := cmd.Wait()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("first run: got %v, want it killed\n%s", err, out.String())
				}
			} else {
				var out, errb bytes.Buffer
				code := run(ctx, first, strings.NewReader(""), &out, &errb)
				var sum backfillSummary
				if err := json.Unmarshal(out.Bytes(), &sum); err != nil || code != exitFailed || sum.Complete || sum.Checkpoint != tt.resumeAfter {
					t.Fatalf("first run: exit %d, checkpoint %q, complete %v (%v); want exit 1 at %q\n%s%s", code, sum.Checkpoint, sum.Complete, err, tt.resumeAfter, errb.String(), out.String())
				}
				if !strings.Contains(errb.String(), "run the same command again to resume after") {
					t.Errorf("first run: got %q, want it to say how to resume", errb.String())
				}
			}
			uploadsBefore := uploads(ns)

			// The second run, to the end.
			again := newListStopper(t, store.URL, 0, 0, nil)
			t.Setenv("AWS_ENDPOINT_URL", again.URL)
			code, out, errs := offload(t, "", args...)
			var sum backfillSummary
			if err := json.Unmarshal([]byte(out), &sum); err != nil || code != exitOK || !sum.Complete {
				t.Fatalf("second run: exit %d, %+v (%v)\n%s", code, sum, err, errs)
			}
			if sum.ResumedAfter != tt.resumeAfter || again.startAfters()[0] != tt.resumeAfter {
				t.Errorf("second run: got resumed after %q, listing from %q; want %q", sum.ResumedAfter, again.startAfters()[0], tt.resumeAfter)
			}
			var resume int
			fmt.Sscanf(tt.resumeAfter, "public/p%04d.html", &resume)
			if want := n - resume - 1; sum.Objects != want {
				t.Errorf("second run: got %d objects listed, want %d", sum.Objects, want)
			}
			if !tt.seed {
				if got, want := uploads(ns)-uploadsBefore, n-resume-1; got != want {
					t.Errorf("second run: got %d uploads, want %d", got, want)
				}
				if got, want := uploads(ns), n+tt.redone; got != want {
					t.Errorf("got %d uploads in all, want %d (%d objects, %d mirrored again)", got, want, n, tt.redone)
				}
				for i := range n {
					if _, ok := ns.File(fmt.Sprintf("/123456/site/p%04d.html", i)); !ok {
						t.Fatalf("p%04d.html was not mirrored", i)
					}
				}
			}

			// The ledger holds every object, and no checkpoint.
			l, err := bolt.New(bolt.Options{Path: db})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			keys := make([]string, n)
			for i := range keys {
				keys[i] = key(i)
			}
			recs, err := l.Get(context.Background(), "my-site", keys)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if recs[k].ETag != etags[k] {
					t.Fatalf("ledger: %s has ETag %q, want %q (%d of %d recorded)", k, recs[k].ETag, etags[k], len(recs), n)
				}
			}
			mode := map[bool]string{true: "seed", false: "mirror"}[tt.seed]
			if cp, err := l.Checkpoint(context.Background(), "backfill/"+mode+"/www/my-site/public/"); err != nil || cp != "" {
				t.Errorf("checkpoint after a complete run: got %q (%v), want none", cp, err)
			}
		})
	}
}

// uploads counts the uploads NetStorage took.
func uploads(ns *akamaitest.NetStorage) int {
	n := 0
	for _, l := range ns.Log() {
		if strings.HasSuffix(l, " upload 200") {
			n++
		}
	}
	return n
}

// seedBucketN makes the bucket my-site and puts n small objects under
// public/ (and one outside it) in it, eight at a time, and returns their
// ETags.
func seedBucketN(t *testing.T, store *miniotest.MinIO, n int) map[string]string {
	t.Helper()
	store.CreateBucket(t, "my-site")
	c := store.Client()
	ctx := context.Background()
	etags := make(map[string]string, n)
	var mu sync.Mutex
	var firstErr error
	var g errgroup.Group
	g.SetLimit(8)
	for i := range n + 1 {
		key := fmt.Sprintf("public/p%04d.html", i)
		if i == n {
			key = "private/x"
		}
		g.Go(func() error {
			out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String(key), Body: strings.NewReader(fmt.Sprint("page ", i))})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmp.Or(firstErr, err)
				return nil
			}
			etags[key] = strings.Trim(aws.ToString(out.ETag), `"`)
			return nil
		})
	}
	g.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return etags
}
