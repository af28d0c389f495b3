package varnish_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/purge/varnish"
)

// One of two caches takes the connection and never answers: its requests
// in flight fail at their deadline, the ones queued for it are not sent,
// nothing is retried, and the other cache is purged of every item all the
// same.
func TestHungTimeout(t *testing.T) {
	const n, concurrency = 24, 3
	tests := []struct {
		name string
		opts func(*varnish.Options)
	}{
		{"Options.Timeout", func(o *varnish.Options) { o.Timeout = 2 * time.Second }},
		{"the client's own timeout", func(o *varnish.Options) { o.HTTPClient = &http.Client{Timeout: 2 * time.Second} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang, err := loopback.NewHang()
			if err != nil {
				t.Fatal(err)
			}
			defer hang.Close()
			var purged atomic.Int64
			healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				purged.Add(1)
			}))
			defer healthy.Close()
			s := purgetest.NewSleeper()
			opts := varnish.Options{Endpoints: []string{hang.URL(), healthy.URL}, Host: host, Concurrency: concurrency, Retry: s.Policy()}
			tt.opts(&opts)
			c, err := varnish.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			items := make([]purge.Item, n)
			for i := range items {
				items[i] = purge.Paths(fmt.Sprintf("/%d.html", i))[0]
			}
			res, err := c.Purge(context.Background(), purge.Request{Items: items})
			if err == nil {
				t.Fatal("Purge: got nil, want an error")
			}
			if got := len(res.Failed()); got != n {
				t.Errorf("failed: got %d, want all %d (the hung cache purged none)", got, n)
			}
			for _, o := range res.Outcomes {
				if !strings.Contains(o.Err, "no answer") {
					t.Errorf("outcome %s: got %q, want it to say no answer", o.Item.Value, o.Err)
					break
				}
			}
			if got := purged.Load(); got != n {
				t.Errorf("the other cache: got %d purges, want %d", got, n)
			}
			if got := hang.Accepted(); got < 1 || got > concurrency {
				t.Errorf("connections to the hung cache: got %d, want 1 to %d (the first wave; the rest not sent)", got, concurrency)
			}
			if w := s.Waits(); len(w) != 0 {
				t.Errorf("retry waits: got %v, want none (a request with no answer is not retried)", w)
			}
		})
	}
}
