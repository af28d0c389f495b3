package akamai_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
	"github.com/offload-dev/offload/purge/budget"
)

// inMemory sends each request straight to a handler: no sockets, so a
// synctest bubble's fake time holds from the client to the server.
type inMemory struct{ h http.Handler }

func (m inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	in.Host, in.RequestURI, in.RemoteAddr = r.URL.Host, r.URL.RequestURI(), "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, in)
	return rec.Result(), nil
}

// A burst of 50,000 URLs, sent as five purges at once through two clients
// of one account that share a Budget, draws no 429 from a server that
// keeps Akamai's buckets, and ends when the buckets allow: 10,000 URLs at
// once, then 12,000 a minute, so 200s after the start and hardly later.
// It runs in a synctest bubble: the server's buckets, the EdgeGrid
// timestamps, the budget's waits and the retry policy all read the
// bubble's fake clock, which moves only when every goroutine waits, so
// 200 seconds pass in well under one.
func TestBudgetBurst50k(t *testing.T) {
	const purges, perPurge = 5, 10000
	f := newServer(t) // outside the bubble: its listener is not the bubble's
	synctest.Test(t, func(t *testing.T) {
		f.Now = time.Now // the bubble's
		b, err := budget.New(budget.Options{Buckets: akamai.Buckets()})
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: inMemory{f.Config.Handler}}
		clients := []*akamai.Client{
			newClient(t, f, func(o *akamai.Options) { o.Budget, o.HTTPClient = b, hc }),
			newClient(t, f, func(o *akamai.Options) { o.Budget, o.HTTPClient, o.Network = b, hc, akamai.Staging }),
		}
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, purges)
		for p := range purges {
			wg.Go(func() {
				items := make([]purge.Item, perPurge)
				for i := range items {
					items[i] = purge.URLs(fmt.Sprintf("https://www.example.com/b%d/page-%05d.html", p, i))[0]
				}
				_, errs[p] = clients[p%2].Purge(context.Background(), purge.Request{Items: items})
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		for p, err := range errs {
			if err != nil {
				t.Errorf("purge %d: got %v, want nil", p, err)
			}
		}
		var accepted, throttled, requests int
		for _, r := range f.Received() {
			switch r.Status {
			case http.StatusCreated:
				accepted += len(r.Objects)
				requests++
			case http.StatusTooManyRequests:
				throttled++
			}
		}
		if throttled != 0 || accepted != purges*perPurge {
			t.Errorf("answers: got %d URLs accepted and %d 429s, want %d and none", accepted, throttled, purges*perPurge)
		}
		urls := akamai.Buckets()["url"]
		least := time.Duration(float64(purges*perPurge-urls.Size) / urls.PerSecond * float64(time.Second))
		if elapsed < least || elapsed > least+time.Second {
			t.Errorf("elapsed: got %v, want %v (the URL bucket's %d, then %g a second) to 1s more", elapsed, least, urls.Size, urls.PerSecond)
		}
		waits, waited := b.Waited()
		t.Logf("%d URLs in %d requests, %v of fake time; %d requests waited for tokens, %v in all", accepted, requests, elapsed, waits, waited)
	})
}
