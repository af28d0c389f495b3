package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/ledger/bolt"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
)

// TestWorkerBurstAtTheRequestFloor sends a burst of 10,000 webhook events,
// each for its own object, from 16 senders into the bolt inbox, and counts
// the purge requests the Akamai Fast Purge test server receives through the
// real client, at perCall URLs a request, with the batch size serve uses
// (plan.Config.FillingBatch): 1,000 at 500 URLs a request, 1,020 at 30. The
// first event finds the inbox idle and is purged at once, alone; the other
// 9,999 arrive on its heels and are gathered into full batches: ⌈10,000 /
// perCall⌉ requests for them all, plus the first. (At 30 URLs, batches of
// 1,000 would make 341.) The clock is a fake one that does not move during
// the burst, so only a full batch ends a gathering, as when events arrive
// faster than Quiet; the rest are applied once the clock passes Quiet.
func TestWorkerBurstAtTheRequestFloor(t *testing.T) {
	for _, perCall := range []int{500, 30} {
		t.Run(fmt.Sprintf("%d URLs a request", perCall), func(t *testing.T) { burstAtTheFloor(t, perCall) })
	}
}

func burstAtTheFloor(t *testing.T, perCall int) {
	const (
		events  = 10000
		senders = 16
	)
	creds := akamaitest.Credentials{ClientToken: "akab-ct", ClientSecret: "c2VjcmV0", AccessToken: "akab-at"}
	srv := akamaitest.NewFastPurge(creds)
	defer srv.Close()
	client, err := akamai.New(akamai.Options{
		Config:     &edgegrid.Config{Host: strings.TrimPrefix(srv.URL, "https://"), ClientToken: creds.ClientToken, ClientSecret: creds.ClientSecret, AccessToken: creds.AccessToken},
		HTTPClient: srv.Client(), BaseURL: "https://www.example.com", ItemsPerCall: perCall,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := bolt.New(bolt.Options{Path: filepath.Join(dir, "offload.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	clock := fakeclock.New()
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: l.DB(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	pc := plan.Config{
		Sites:   []plan.Site{{Name: "www", Bucket: "site", PurgeNew: true, Targets: []string{"edge"}}},
		Targets: []plan.Target{{Name: "edge", Provider: "akamai", BaseURL: "https://www.example.com", Limits: client.Limits()}},
	}
	pl := newPipeline(t, pipeline.Options{Plan: pc, Ledger: l, Purgers: map[string]purge.Purger{"edge": client}})
	batch := pc.FillingBatch(1000, 3000)
	w, err := pipeline.NewWorker(pipeline.WorkerOptions{Inbox: in, Applier: pl, Now: clock.Now, After: clock.After, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// The requests the server accepted, and the URLs in them. At 30 URLs
	// a request the client's budget paces the burst to the server's
	// buckets (100 requests, 50 a second), and the two can disagree by a
	// request at the edge: a 429 is then tried again, and not counted.
	purged := func() (requests, objects int) {
		for _, r := range srv.Received() {
			if r.Status == http.StatusCreated {
				requests++
				objects += len(r.Objects)
			}
		}
		return requests, objects
	}
	// waitFor waits (in real time: the worker runs concurrently) until
	// objects URLs were purged, and the worker waits on the clock if
	// gathering.
	// If advancing, it moves the clock on to the timers still waiting
	// (every 20ms of real time): the worker reads the clock, then asks for
	// a timer that long, so a timer asked for just after an Advance is that
	// much later.
	waitFor := func(objects int, gathering, advancing bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		moved := time.Now()
		for {
			_, n := purged()
			if n == objects && (!gathering || len(clock.Waiting()) > 0) {
				return
			}
			if n > objects || time.Now().After(deadline) {
				t.Fatalf("URLs purged: got %d, want %d (the worker waits on %d timers)", n, objects, len(clock.Waiting()))
			}
			if w := clock.Waiting(); advancing && len(w) > 0 && time.Since(moved) > 20*time.Millisecond {
				clock.Advance(w[0].Sub(clock.Now()))
				moved = time.Now()
			}
			time.Sleep(time.Millisecond)
		}
	}
	add := func(i int) error {
		_, err := in.Add(context.Background(), webhook("site", fmt.Sprintf("burst/k%05d.html", i), "e", fmt.Sprintf("%08X", i+1)))
		return err
	}

	if err := add(0); err != nil {
		t.Fatal(err)
	}
	waitFor(1, false, false) // idle: at once, alone
	var next atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := int(next.Add(1)); i < events; i = int(next.Add(1)) {
				if err := add(i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	waitFor(1+(events-1)/batch*batch, true, false) // the full batches
	clock.Advance(25 * time.Millisecond)           // the default Quiet, Window/20
	waitFor(events, false, true)

	floor := (events + perCall - 1) / perCall
	if got, _ := purged(); got != floor+1 {
		t.Errorf("purge requests: got %d, want %d (⌈%d/%d⌉, and the first event's, applied at once)", got, floor+1, events, perCall)
	}
	seen := map[string]int{}
	for _, r := range srv.Received() {
		switch r.Status {
		case http.StatusCreated:
			for _, o := range r.Objects {
				seen[o]++
			}
		case http.StatusTooManyRequests:
		default:
			t.Errorf("a purge of %d URLs was answered %d, want 201 (or 429, tried again)", len(r.Objects), r.Status)
		}
	}
	for i := range events {
		u := fmt.Sprintf("https://www.example.com/burst/k%05d.html", i)
		if seen[u] != 1 {
			t.Errorf("%s purged %d times, want once", u, seen[u])
		}
	}
}
