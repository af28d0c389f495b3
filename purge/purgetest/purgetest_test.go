package purgetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/retry"
)

// ref is the smallest purger that keeps the contract: paths POSTed as JSON,
// limit items a call, one call at a time.
type ref struct {
	url    string
	limit  int
	policy retry.Policy
}

func (r *ref) Limits() purge.Limits {
	return purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: r.limit}}
}

func (r *ref) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "ref", Outcomes: make([]purge.Outcome, len(req.Items))}
	var idx []int
	for i, it := range req.Items {
		res.Outcomes[i].Item = it
		if it.Kind != purge.KindPath {
			res.Outcomes[i].Err = purge.ErrUnsupported.Error()
			continue
		}
		idx = append(idx, i)
	}
	for start := 0; start < len(idx); start += r.limit {
		batch := idx[start:min(start+r.limit, len(idx))]
		if err := ctx.Err(); err != nil {
			for _, i := range batch {
				res.Outcomes[i].Err = err.Error()
			}
			continue
		}
		var paths []string
		for _, i := range batch {
			paths = append(paths, req.Items[i].Value)
		}
		body, _ := json.Marshal(paths)
		rr, err := r.policy.Do(ctx, func(ctx context.Context, _ int) error {
			hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode < 300 {
				return nil
			}
			var msg struct{ Error string }
			_ = json.NewDecoder(resp.Body).Decode(&msg)
			return retry.HTTPStatus(resp, fmt.Errorf("ref: HTTP %d: %s", resp.StatusCode, msg.Error))
		})
		call := purge.Call{Items: len(batch), Attempts: rr.Attempts}
		if err != nil {
			call.Err = err.Error()
		}
		res.Calls = append(res.Calls, call)
		for _, i := range batch {
			res.Outcomes[i].OK = err == nil
			res.Outcomes[i].Err = call.Err
		}
	}
	return res, res.Err()
}

func refServer(b *purgetest.Backend) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var paths []string
		if err := json.NewDecoder(r.Body).Decode(&paths); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f := b.Receive(paths); f != nil {
			f.SetRetryAfter(w.Header())
			w.WriteHeader(f.Status())
			json.NewEncoder(w).Encode(map[string]string{"error": f.Message})
			return
		}
		w.Write([]byte(`{}`))
	})
}

func TestRunReference(t *testing.T) {
	purgetest.Run(t, purgetest.Harness{
		New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
			srv := httptest.NewServer(refServer(b))
			t.Cleanup(srv.Close)
			return &ref{url: srv.URL, limit: 4, policy: p}
		},
		Unsupported: purge.Item{Kind: purge.KindCPCode, Value: "123"},
	})
}

func TestBackendFaults(t *testing.T) {
	b := purgetest.NewBackend()
	b.Fail(purgetest.Fault{Kind: purgetest.Throttled, Times: 2, Key: "/a", RetryAfter: 1500 * time.Millisecond})
	tests := []struct {
		keys []string
		want purgetest.FaultKind // 0: served
	}{
		{[]string{"/b"}, 0},
		{[]string{"/b", "/a"}, purgetest.Throttled},
		{[]string{"/a"}, purgetest.Throttled},
		{[]string{"/a"}, 0},
	}
	for i, tt := range tests {
		f := b.Receive(tt.keys)
		var got purgetest.FaultKind
		if f != nil {
			got = f.Kind
			h := http.Header{}
			f.SetRetryAfter(h)
			if h.Get("Retry-After") != "2" {
				t.Errorf("call %d: got Retry-After %q, want \"2\" (rounded up)", i, h.Get("Retry-After"))
			}
		}
		if got != tt.want {
			t.Errorf("call %d %v: got fault %v, want %v", i, tt.keys, got, tt.want)
		}
	}
	if got := len(b.Calls()); got != len(tests) {
		t.Errorf("calls: got %d, want %d", got, len(tests))
	}
}
