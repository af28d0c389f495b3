package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/purge"
)

// heap returns the bytes allocated and still reachable, after a GC.
func heap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Large purges do not pile up in memory: the history keeps a bounded
// summary of each (30 purges of 200,000 paths took a server from 22 MB to
// 1.1 GB when it kept every result whole).
func TestPurgeHistoryMemoryBounded(t *testing.T) {
	const purges, paths = 20, 20000
	refuser := &untouchable{limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 0}}}
	e := newEnv(t, func(o *httpapi.Options) {
		o.Pipeline = withPurger(t, o.Pipeline, "big", refuser, nil)
		o.MaxBody = 64 << 20
		o.Rate, o.Burst = 1e6, 1e6
	})
	var body strings.Builder
	body.WriteString(`{"target":"big","paths":[`)
	for i := range paths {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `"/docs/%06d.html"`, i)
	}
	body.WriteString(`]}`)

	before := heap()
	var last string
	for range purges {
		// Straight to the handler: checking 25,000 paths against the
		// document 40 times is not what this test is for.
		r := httptest.NewRequest("POST", "/v1/purges", strings.NewReader(body.String()))
		r.RemoteAddr = "127.0.0.1:40000"
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		var out struct{ Error struct{ ID string } }
		if rec.Code != http.StatusBadGateway || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Error.ID == "" {
			t.Fatalf("got %d %.300s, want 502 with the purge's id", rec.Code, rec.Body)
		}
		last = out.Error.ID
	}
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew %d KiB for %d purges of %d paths", grown>>10, purges, paths)
	if limit := int64(16 << 20); grown > limit {
		t.Errorf("heap grew %d MiB, want under %d MiB, the default budget", grown>>20, limit>>20)
	}

	// The newest purge still says how many failed, and lists some.
	rec := e.do(req{method: "GET", target: "/v1/purges/" + last})
	var p struct {
		Items, Failed int
		Failures      []json.RawMessage
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET: %d %.300s", rec.Code, rec.Body)
	}
	if p.Items != paths || p.Failed != paths || len(p.Failures) == 0 || len(p.Failures) > 100 {
		t.Errorf("got items %d, failed %d, %d failures listed; want %d, %d, 1 to 100 listed", p.Items, p.Failed, len(p.Failures), paths, paths)
	}
	runtime.KeepAlive(e)
}
