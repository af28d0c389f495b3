package toycdn_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"example.com/toycdn/toycdn"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/retry"
)

// fakeAPI is the toy CDN's API as the suite needs it: it tells the Backend
// which paths each request carries and answers the fault it returns in the
// CDN's own shape (here: a status and the message as the body).
func fakeAPI(b *purgetest.Backend) http.Handler {
	var ids atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Paths []string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if f := b.Receive(req.Paths); f != nil {
			f.SetRetryAfter(w.Header())
			http.Error(w, f.Message, f.Status())
			return
		}
		fmt.Fprintf(w, "purge-%d", ids.Add(1))
	})
}

func TestConformance(t *testing.T) {
	purgetest.Run(t, purgetest.Harness{
		New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
			srv := httptest.NewServer(fakeAPI(b))
			t.Cleanup(srv.Close)
			c, err := toycdn.New(toycdn.Options{Endpoint: srv.URL, PathsPerCall: 3, Retry: p})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Unsupported: purge.Tags("t1")[0],
	})
}
