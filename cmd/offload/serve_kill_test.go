//go:build !offload_lambda

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// purgeRecorder is a cache endpoint that records the paths it is asked to
// PURGE, slowly enough that a burst of events backs up in the inbox.
type purgeRecorder struct {
	mu   sync.Mutex
	seen map[string]int
}

func (p *purgeRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "PURGE" || r.Host != "www.example.com" {
		http.Error(w, "want PURGE with Host www.example.com", http.StatusBadRequest)
		return
	}
	time.Sleep(20 * time.Millisecond)
	p.mu.Lock()
	p.seen[r.URL.Path]++
	p.mu.Unlock()
	fmt.Fprintln(w, "purged")
}

func (p *purgeRecorder) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

func (p *purgeRecorder) has(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[path] > 0
}

// TestServeKill9LosesNothingAnswered2xx sends a burst of events to the real
// binary, kills it with SIGKILL in the middle, restarts it on the same
// state file, and checks that every event answered 2xx was purged.
func TestServeKill9LosesNothingAnswered2xx(t *testing.T) {
	bin := offloadBinary(t)
	rec := &purgeRecorder{seen: map[string]int{}}
	cache := httptest.NewServer(rec)
	defer cache.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "offload.yaml")
	err := os.WriteFile(cfg, fmt.Appendf(nil, `auth:
  tokens: [env:OFFLOAD_TEST_TOKEN]
state:
  path: %s
batch:
  window: 100ms
sites:
  - name: www
    bucket: burst
    targets: [edge]
targets:
  - {name: edge, provider: varnish, endpoints: [%s], host: www.example.com}
`, filepath.Join(dir, "offload.db"), cache.URL), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	const token = "kill-test-token"
	env := "OFFLOAD_TEST_TOKEN=" + token

	first := startServe(t, bin, cfg, env)

	const n = 400
	key := func(i int) string { return fmt.Sprintf("k/%04d.html", i) }
	accepted := make([]atomic.Bool, n)
	var nAccepted atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body := webhookBody("burst", key(i), fmt.Sprintf("etag%04d", i), fmt.Sprintf("%016X", i+1))
				code, err := postEvent(client, first.Addr, token, body)
				if err == nil && code/100 == 2 {
					accepted[i].Store(true)
					nAccepted.Add(1)
				} else if err == nil && code != http.StatusAccepted {
					t.Errorf("event %d: HTTP %d, want 202 or no answer", i, code)
				}
			}
		}()
	}
	killed := make(chan [2]int64, 1)
	go func() {
		for nAccepted.Load() < n/3 {
			time.Sleep(time.Millisecond)
		}
		purged := int64(rec.count())
		acc := nAccepted.Load()
		_ = first.cmd.Process.Signal(syscall.SIGKILL)
		<-first.done
		killed <- [2]int64{acc, purged}
	}()
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	atKill := <-killed
	total := nAccepted.Load()
	t.Logf("answered 2xx: %d of %d (%d at the kill, when %d were purged)", total, n, atKill[0], atKill[1])
	if atKill[1] >= atKill[0] {
		t.Fatalf("the kill did not land mid-burst: %d purged of %d accepted", atKill[1], atKill[0])
	}
	if total == n {
		t.Fatalf("every event was answered: the process was not killed during the burst")
	}

	// Restart on the same file: it drains what the first process left.
	second := startServe(t, bin, cfg, env)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var missing []string
		for i := range n {
			if accepted[i].Load() && !rec.has("/"+key(i)) {
				missing = append(missing, key(i))
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events answered 2xx were never purged, such as %v", len(missing), missing[:min(5, len(missing))])
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The inbox empties once the last batch is settled.
	for depth, _ := second.inbox(t, token); depth != 0; depth, _ = second.inbox(t, token) {
		if time.Now().After(deadline) {
			t.Fatalf("inbox depth %d after every event was purged, want 0", depth)
		}
		time.Sleep(50 * time.Millisecond)
	}
	second.stop(t, syscall.SIGTERM)
	if second.err != nil {
		t.Errorf("after SIGTERM: %v, want exit 0", second.err)
	}
}
