package fastly_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/budget"
	"github.com/offload-dev/offload/purge/fastly"
	"github.com/offload-dev/offload/purge/purgetest"
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

// 1,500 purge-all requests against a fake that takes 1,000 an hour in
// windows, as Fastly does: the budget spreads them so none is refused,
// 500 at once and then 500 an hour, two hours in all (fake time, in a
// synctest bubble).
func TestBudgetPurgeAll(t *testing.T) {
	const n = 1500
	f := newFake(t, nil) // outside the bubble: its listener is not the bubble's
	synctest.Test(t, func(t *testing.T) {
		f.writeLimit = 1000
		c, err := fastly.New(fastly.Options{Token: f.token, ServiceID: f.serviceID, APIURL: f.URL,
			HTTPClient: &http.Client{Transport: inMemory{f.Config.Handler}}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range n {
			if _, err := c.Purge(context.Background(), purge.Request{Items: []purge.Item{{Kind: purge.KindAll}}}); err != nil {
				t.Fatalf("purge all %d: got %v, want nil", i, err)
			}
		}
		elapsed := time.Since(start)
		if limited, _ := f.limits(); limited != 0 {
			t.Errorf("429s: got %d, want none", limited)
		}
		b := fastly.Buckets()[fastly.BucketWrites]
		least := time.Duration(float64(n-b.Size) / b.PerSecond * float64(time.Second))
		if elapsed < least || elapsed > least+time.Second {
			t.Errorf("elapsed: got %v, want %v to 1s more", elapsed, least)
		}
	})
}

// A 429 without Retry-After is waited out until Fastly-RateLimit-Reset.
func TestRateLimitReset(t *testing.T) {
	f := newFake(t, nil)
	f.writeLimit = 1
	s := purgetest.NewSleeper()
	c, err := fastly.New(fastly.Options{Token: f.token, ServiceID: f.serviceID, APIURL: f.URL, Budget: budget.Unlimited(), Retry: s.Policy()})
	if err != nil {
		t.Fatal(err)
	}
	all := purge.Request{Items: []purge.Item{{Kind: purge.KindAll}}}
	if _, err := c.Purge(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	res, _ := c.Purge(context.Background(), all) // refused; retried after the reset, refused again (the fake's window is real time)
	limited, reset := f.limits()
	if limited == 0 || len(res.Calls) != 1 || res.Calls[0].Attempts < 2 {
		t.Fatalf("got %d 429s and calls %+v, want the 429 retried", limited, res.Calls)
	}
	wait := s.Waits()[0]
	until := reset.Sub(before)
	if wait < until-2*time.Second || wait > until {
		t.Errorf("wait: got %v, want about %v (until Fastly-RateLimit-Reset)", wait, until)
	}
}
