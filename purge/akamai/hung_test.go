package akamai_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
	"github.com/offload-dev/offload/purge/purgetest"
)

// A Fast Purge API that takes the connection and never answers: the
// requests in flight fail at their deadline, the ones queued behind them
// are not sent, and nothing is retried, so the purge ends after about one
// deadline instead of one per request and attempt.
func TestHungTimeout(t *testing.T) {
	const perCall, calls, concurrency = 10, 8, 2
	tests := []struct {
		name string
		opts func(*akamai.Options)
	}{
		{"Options.Timeout", func(o *akamai.Options) { o.Timeout = 500 * time.Millisecond }},
		{"the client's own timeout", func(o *akamai.Options) { o.HTTPClient = &http.Client{Timeout: 500 * time.Millisecond} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang, err := loopback.NewHang()
			if err != nil {
				t.Fatal(err)
			}
			defer hang.Close()
			s := purgetest.NewSleeper()
			opts := akamai.Options{
				Config: &edgegrid.Config{Host: hang.Addr(), ClientToken: clientToken, ClientSecret: clientSecret, AccessToken: accessToken},
				APIURL: hang.URL(), ItemsPerCall: perCall, Concurrency: concurrency, Retry: s.Policy(),
			}
			tt.opts(&opts)
			c, err := akamai.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Purge(context.Background(), purge.Request{Items: urls(perCall * calls)})
			if err == nil {
				t.Fatal("Purge: got nil, want an error")
			}
			if got := len(res.Failed()); got != perCall*calls {
				t.Errorf("failed: got %d, want all %d", got, perCall*calls)
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
