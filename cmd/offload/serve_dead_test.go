//go:build !offload_lambda

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// brokenEdge is a cache endpoint that refuses every PURGE with 400 until
// fixed, then purges; it counts the PURGEs of each path.
type brokenEdge struct {
	fixed atomic.Bool
	mu    sync.Mutex
	tries map[string]int
	done  map[string]int
}

func (b *brokenEdge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tries[r.URL.Path]++
	if !b.fixed.Load() {
		http.Error(w, "bad request: this edge is misconfigured", http.StatusBadRequest)
		return
	}
	b.done[r.URL.Path]++
	fmt.Fprintln(w, "purged")
}

func (b *brokenEdge) count(path string) (tries, done int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tries[path], b.done[path]
}

// TestServeInboxDeadLetters runs the real binary on a bolt file with a
// target that refuses every purge: each event is tried max_deliveries
// times, then set aside as a dead letter, shown by the API, /metrics and
// the dashboard, kept across a restart, and, once the target is fixed,
// replayed and applied, or discarded.
func TestServeInboxDeadLetters(t *testing.T) {
	bin := offloadBinary(t)
	edge := &brokenEdge{tries: map[string]int{}, done: map[string]int{}}
	cache := httptest.NewServer(edge)
	defer cache.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "offload.yaml")
	// The test polls the API more often than the default rate allows.
	err := os.WriteFile(cfg, fmt.Appendf(nil, `auth:
  tokens: [env:OFFLOAD_TEST_TOKEN]
  rate: 100
  burst: 100
state:
  path: %s
inbox:
  max_deliveries: 3
sites:
  - name: www
    bucket: site
    targets: [edge]
targets:
  - {name: edge, provider: varnish, endpoints: [%s], host: www.example.com}
`, filepath.Join(dir, "offload.db"), cache.URL), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	const token = "dead-letter-test-token"
	env := "OFFLOAD_TEST_TOKEN=" + token
	client := &http.Client{Timeout: 10 * time.Second}
	call := func(p *serveProcess, method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+p.Addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	type deadLetter struct {
		ID        uint64 `json:"id"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
		Size      int    `json:"size"`
	}
	deadLetters := func(p *serveProcess) []deadLetter {
		t.Helper()
		code, body := call(p, "GET", "/v1/inbox/dead")
		var got struct {
			DeadLetters []deadLetter `json:"dead_letters"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK {
			t.Fatalf("GET /v1/inbox/dead: %d %s, %v", code, body, err)
		}
		return got.DeadLetters
	}
	inbox := func(p *serveProcess) (depth, dead int) {
		t.Helper()
		code, body := call(p, "GET", "/v1/inbox")
		var st struct {
			Depth        int `json:"depth"`
			DeadLettered int `json:"dead_lettered"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusOK {
			t.Fatalf("GET /v1/inbox: %d %s, %v", code, body, err)
		}
		return st.Depth, st.DeadLettered
	}

	first := startServe(t, bin, cfg, env)
	bodies := map[string][]byte{
		"/a.html": webhookBody("site", "a.html", "e1", "01"),
		"/b.html": webhookBody("site", "b.html", "e2", "02"),
	}
	for _, path := range []string{"/a.html", "/b.html"} {
		if code, err := postEvent(client, first.Addr, token, bodies[path]); err != nil || code != http.StatusAccepted {
			t.Fatalf("POST %s: %d, %v; want 202", path, code, err)
		}
	}
	// Three attempts, with a backoff of about a second between them.
	waitUntil(t, 30*time.Second, "two dead letters", func() bool { return len(deadLetters(first)) == 2 })
	dead := deadLetters(first)
	ids := map[string]uint64{}
	for i, path := range []string{"/a.html", "/b.html"} {
		d := dead[i]
		ids[path] = d.ID
		if d.Attempts != 3 || !strings.Contains(d.LastError, "400 Bad Request") || d.Size != len(bodies[path]) {
			t.Errorf("dead letter %d: got %+v; want 3 attempts, the edge's 400, %d bytes", i, d, len(bodies[path]))
		}
		if tries, _ := edge.count(path); tries != 3 {
			t.Errorf("PURGE %s: got %d tries, want 3 (one per attempt)", path, tries)
		}
	}
	if depth, n := inbox(first); depth != 0 || n != 2 {
		t.Errorf("GET /v1/inbox: depth %d, dead_lettered %d; want 0 and 2", depth, n)
	}
	if code, body := call(first, "GET", "/metrics"); code != 200 || !strings.Contains(body, "\noffload_inbox_dead_lettered 2\n") {
		t.Errorf("GET /metrics: %d; want offload_inbox_dead_lettered 2 in:\n%s", code, body)
	}
	if code, body := call(first, "GET", "/"); code != 200 || !strings.Contains(body, "Dead letters (2)") ||
		!strings.Contains(body, fmt.Sprintf(`action="/v1/inbox/dead/%d/replay"`, ids["/a.html"])) {
		t.Errorf("GET /: %d; want the dead letters with a replay button for %d in:\n%s", code, ids["/a.html"], body)
	}
	line := waitLog(t, first.log, "inbox entry failed too often: moved to the dead letters; replay it with POST /v1/inbox/dead/{id}/replay once fixed", time.Second)
	if line["level"] != "ERROR" || line["attempts"] != 3.0 {
		t.Errorf("log: got %v; want an ERROR after 3 attempts", line)
	}

	// The dead letters are in the file: a restart keeps them, and does not
	// try them again.
	first.stop(t, syscall.SIGTERM)
	second := startServe(t, bin, cfg, env)
	if got := deadLetters(second); fmt.Sprint(got) != fmt.Sprint(dead) {
		t.Errorf("dead letters after a restart: got %+v, want %+v", got, dead)
	}
	if depth, n := inbox(second); depth != 0 || n != 2 {
		t.Errorf("GET /v1/inbox after a restart: depth %d, dead_lettered %d; want 0 and 2", depth, n)
	}

	// Fixed: replay a, which is purged; discard b.
	edge.fixed.Store(true)
	code, body := call(second, "POST", fmt.Sprintf("/v1/inbox/dead/%d/replay", ids["/a.html"]))
	var replayed struct{ ID, Replayed uint64 }
	if err := json.Unmarshal([]byte(body), &replayed); err != nil || code != 200 || replayed.Replayed != ids["/a.html"] || replayed.ID <= ids["/b.html"] {
		t.Fatalf("replay: %d %s; want 200 with a new id after %d", code, body, ids["/b.html"])
	}
	waitUntil(t, 10*time.Second, "a.html purged after the replay", func() bool { _, done := edge.count("/a.html"); return done == 1 })
	if code, body := call(second, "DELETE", fmt.Sprintf("/v1/inbox/dead/%d", ids["/b.html"])); code != http.StatusNoContent {
		t.Errorf("discard: %d %s, want 204", code, body)
	}
	waitUntil(t, 10*time.Second, "the inbox empty", func() bool { depth, _ := inbox(second); return depth == 0 })
	if depth, n := inbox(second); depth != 0 || n != 0 || len(deadLetters(second)) != 0 {
		t.Errorf("at the end: depth %d, dead_lettered %d, dead letters %v; want nothing left", depth, n, deadLetters(second))
	}
	if tries, done := edge.count("/b.html"); tries != 3 || done != 0 {
		t.Errorf("PURGE /b.html: %d tries, %d done; want 3 and 0 (discarded)", tries, done)
	}
	if code, _ := call(second, "POST", fmt.Sprintf("/v1/inbox/dead/%d/replay", ids["/b.html"])); code != http.StatusNotFound {
		t.Errorf("replaying a discarded dead letter: %d, want 404", code)
	}
}
