package fastly_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/fastly"
	"github.com/offload-dev/offload/purge/purgetest"
)

// A Fastly API that takes the connection and never answers: the requests
// in flight fail at their deadline, the ones queued behind them are not
// sent, and nothing is retried, so the purge ends after about one
// deadline instead of one per request and attempt.
func TestHungTimeout(t *testing.T) {
	const n, concurrency = 24, 3
	tests := []struct {
		name string
		opts func(*fastly.Options)
	}{
		{"Options.Timeout", func(o *fastly.Options) { o.Timeout = 500 * time.Millisecond }},
		{"the client's own timeout", func(o *fastly.Options) { o.HTTPClient = &http.Client{Timeout: 500 * time.Millisecond} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang, err := loopback.NewHang()
			if err != nil {
				t.Fatal(err)
			}
			defer hang.Close()
			s := purgetest.NewSleeper()
			opts := fastly.Options{Token: "fastly-test-token", APIURL: hang.URL(), Concurrency: concurrency, Retry: s.Policy()}
			tt.opts(&opts)
			c, err := fastly.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			items := make([]purge.Item, n)
			for i := range items {
				items[i] = purge.URLs(fmt.Sprintf("https://www.example.com/%d.html", i))[0]
			}
			res, err := c.Purge(context.Background(), purge.Request{Items: items})
			if err == nil {
				t.Fatal("Purge: got nil, want an error")
			}
			if got := len(res.Failed()); got != n {
				t.Errorf("failed: got %d, want all %d", got, n)
			}
			for _, o := range res.Outcomes {
				if !strings.Contains(o.Err, "no answer") {
					t.Errorf("outcome %s: got %q, want it to say no answer", o.Item.Value, o.Err)
					break
				}
			}
			if got := hang.Accepted(); got < 1 || got > concurrency {
				t.Errorf("connections: got %d, want 1 to %d (the first wave; the rest not sent)", got, concurrency)
			}
			if w := s.Waits(); len(w) != 0 {
				t.Errorf("retry waits: got %v, want none (a request with no answer is not retried)", w)
			}
		})
	}
}
