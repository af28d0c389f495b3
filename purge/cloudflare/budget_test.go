package cloudflare_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/budget"
	"github.com/offload-dev/offload/purge/cloudflare"
	"github.com/offload-dev/offload/retry"
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

// A burst larger than a Free plan's purge limits, against a fake that
// keeps those limits and answers 429 past them: the client waits for its
// tokens instead, draws no 429, and ends when the buckets allow. In a
// synctest bubble, so minutes of waiting pass at once.
func TestBudgetBurst(t *testing.T) {
	free, err := cloudflare.Buckets(cloudflare.Free)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		items  func(i int) purge.Item
		n      int
		bucket string // the one that decides
		cost   int    // tokens of it a request takes
	}{
		// 40 requests of 30 tags: 25 at once, then 5 a minute.
		{"tags", func(i int) purge.Item { return purge.Tags(fmt.Sprintf("tag-%d", i))[0] }, 40 * 30, cloudflare.BucketKeys, 1},
		// 200 requests of 30 URLs: 800 URLs at once, then 800 a second.
		{"urls", func(i int) purge.Item { return purge.URLs(fmt.Sprintf("https://www.example.com/%d.html", i))[0] }, 200 * 30, cloudflare.BucketURLs, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, nil) // outside the bubble: its listener is not the bubble's
			synctest.Test(t, func(t *testing.T) {
				f.limits = map[string]*tokenBucket{}
				for name, b := range free {
					f.limits[name] = &tokenBucket{size: float64(b.Size), perSecond: b.PerSecond}
				}
				c, err := cloudflare.New(cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL,
					HTTPClient: &http.Client{Transport: inMemory{f.Config.Handler}}})
				if err != nil {
					t.Fatal(err)
				}
				items := make([]purge.Item, tt.n)
				for i := range items {
					items[i] = tt.items(i)
				}
				start := time.Now()
				if _, err := c.Purge(context.Background(), purge.Request{Items: items}); err != nil {
					t.Fatalf("Purge: got %v, want nil", err)
				}
				elapsed := time.Since(start)
				if refused := f.refused(); refused != 0 || len(f.received()) != tt.n/30 {
					t.Errorf("answers: got %d accepted and %d 429s, want %d and none", len(f.received()), refused, tt.n/30)
				}
				b := free[tt.bucket]
				least := time.Duration(float64(tt.n/30*tt.cost-b.Size) / b.PerSecond * float64(time.Second))
				if elapsed < least || elapsed > least+time.Second {
					t.Errorf("elapsed: got %v, want %v (%q: %d, then %g a second) to 1s more", elapsed, least, tt.bucket, b.Size, b.PerSecond)
				}
			})
		})
	}
}

// With no budget of its own, the same burst collects the fake's 429s: the
// limits are real.
func TestBudgetUnlimitedIsRefused(t *testing.T) {
	f := newFake(t, nil)
	f.limits = map[string]*tokenBucket{"keys": {size: 25, perSecond: 5.0 / 60}}
	c, err := cloudflare.New(cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL, Budget: budget.Unlimited(),
		Retry: retry.Policy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]purge.Item, 30*30)
	for i := range items {
		items[i] = purge.Tags(fmt.Sprintf("tag-%d", i))[0]
	}
	res, _ := c.Purge(context.Background(), purge.Request{Items: items})
	if refused := f.refused(); refused != 5 || len(res.Failed()) != 5*30 {
		t.Errorf("got %d 429s and %d items failed, want 5 and 150", refused, len(res.Failed()))
	}
}
