//go:build !offload_lambda

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/loopback"
)

// edgeClock is a cache endpoint that records when each path was purged.
type edgeClock struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (e *edgeClock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.seen[r.URL.Path]; !ok {
		e.seen[r.URL.Path] = time.Now()
	}
}

// wait returns when path was purged, or fails the test after timeout.
func (e *edgeClock) wait(t *testing.T, path string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		e.mu.Lock()
		at, ok := e.seen[path]
		e.mu.Unlock()
		if ok {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not purged at the edge after %v", path, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hungEnv points the AWS SDK's CloudFront client at a listener that never
// answers.
func hungEnv(hang *loopback.Hang) []string {
	return []string{
		"AWS_ENDPOINT_URL_CLOUDFRONT=" + hang.URL(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "OFFLOAD_TEST_TOKEN=hung-test-token",
	}
}

// hungConfig is a site purged through a CloudFront target (the hung one,
// with the given timeout) and a healthy cache.
func hungConfig(t *testing.T, dir, timeout, edge string) string {
	t.Helper()
	cfg := filepath.Join(dir, "offload.yaml")
	err := os.WriteFile(cfg, fmt.Appendf(nil, `auth:
  tokens: [env:OFFLOAD_TEST_TOKEN]
state:
  path: %s
batch:
  window: 100ms
sites:
  - {name: www, bucket: site, targets: [cf, edge]}
targets:
  - {name: cf, provider: cloudfront, distribution_id: E8F6HK73EP0LT, timeout: %s}
  - {name: edge, provider: varnish, endpoints: [%s], host: www.example.com}
`, filepath.Join(dir, "offload.db"), timeout, edge), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// batchesApplied returns the "inbox batch applied" log lines so far.
func batchesApplied(log string) []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(log) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "inbox batch applied" {
			out = append(out, m)
		}
	}
	return out
}

// A CloudFront endpoint that takes the connection and never answers.
// `offload apply` fails the change at the target's deadline instead of
// hanging; `offload serve` purges the other target meanwhile, holds its
// batch for about that deadline and the next batch not at all, and on
// SIGTERM during a hung call exits within its shutdown grace.
func TestHungCloudFront(t *testing.T) {
	bin := offloadBinary(t)
	hang, err := loopback.NewHang()
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	edge := &edgeClock{seen: map[string]time.Time{}}
	cache := httptest.NewServer(edge)
	defer cache.Close()

	t.Run("apply", func(t *testing.T) {
		dir := t.TempDir()
		cfg := hungConfig(t, dir, "2s", cache.URL)
		events := filepath.Join(dir, "events.json")
		if err := os.WriteFile(events, webhookBody("site", "apply.html", "e1", "0A"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "apply", "--config", cfg, "--events", events)
		cmd.Env = append(os.Environ(), hungEnv(hang)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("offload apply: no exit 30s after its 2s deadline\n%s", errb.String())
		}
		took := time.Since(start)
		if code := cmd.ProcessState.ExitCode(); code != exitFailed {
			t.Errorf("exit code: got %d, want %d\n%s", code, exitFailed, errb.String())
		}
		if took < 2*time.Second {
			t.Errorf("took %v, want at least the 2s deadline", took)
		}
		var res struct {
			Changes []struct{ Status, Error string }
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("result: %v\n%s", err, out.String())
		}
		if len(res.Changes) != 1 || res.Changes[0].Status != "failed" || !strings.Contains(res.Changes[0].Error, "no answer within 2s") {
			t.Errorf("changes: got %+v, want one failed with no answer within 2s", res.Changes)
		}
	})

	t.Run("serve", func(t *testing.T) {
		const deadline = 3 * time.Second
		cfg := hungConfig(t, t.TempDir(), deadline.String(), cache.URL)
		p := startServe(t, bin, cfg, hungEnv(hang)...)
		client := &http.Client{Timeout: 10 * time.Second}
		post := func(key string) time.Time {
			t.Helper()
			sent := time.Now()
			code, err := postEvent(client, p.Addr, "hung-test-token", webhookBody("site", key, "e", "0B"))
			if err != nil || code != http.StatusAccepted {
				t.Fatalf("POST /v1/events: %d, %v", code, err)
			}
			return sent
		}

		// The other target is purged while CloudFront hangs, and the batch
		// ends at CloudFront's deadline, its change failed.
		sent := post("first.html")
		if wait := edge.wait(t, "/first.html", 20*time.Second).Sub(sent); wait >= deadline {
			t.Errorf("the edge was purged %v after the event, want it before CloudFront's %v deadline", wait, deadline)
		}
		var first map[string]any
		for start := time.Now(); first == nil; time.Sleep(20 * time.Millisecond) {
			if b := batchesApplied(p.log.String()); len(b) > 0 {
				first = b[0]
			} else if time.Since(start) > 30*time.Second {
				t.Fatalf("no batch applied 30s after the event:\n%s", p.log)
			}
		}
		took := time.Duration(first["took"].(float64))
		if first["failed"].(float64) != 1 || took < deadline || took > deadline+5*time.Second {
			t.Errorf("first batch: failed %v in %v, want 1 failed at about %v", first["failed"], took, deadline)
		}

		// The next batch is not held: CloudFront, which just did not
		// answer, is not called again for a deadline.
		connections := hang.Accepted()
		sent = post("second.html")
		if wait := edge.wait(t, "/second.html", 20*time.Second).Sub(sent); wait >= deadline {
			t.Errorf("the next batch's edge purge came %v after its event, want it before CloudFront's %v deadline", wait, deadline)
		}
		if got := hang.Accepted(); got != connections {
			t.Errorf("connections to CloudFront: got %d more, want none within its deadline", got-connections)
		}
	})

	t.Run("SIGTERM during a hung call", func(t *testing.T) {
		cfg := hungConfig(t, t.TempDir(), "5m", cache.URL)
		p := startServe(t, bin, cfg, hungEnv(hang)...)
		before := hang.Accepted()
		code, err := postEvent(&http.Client{Timeout: 10 * time.Second}, p.Addr, "hung-test-token", webhookBody("site", "term.html", "e", "0C"))
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("POST /v1/events: %d, %v", code, err)
		}
		for start := time.Now(); hang.Accepted() == before; {
			if time.Since(start) > 20*time.Second {
				t.Fatalf("CloudFront was not called 20s after the event:\n%s", p.log)
			}
			select {
			case <-hang.Changed():
			case <-time.After(100 * time.Millisecond):
			}
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		termed := time.Now()
		select {
		case <-p.done:
		case <-time.After(shutdownGrace + 15*time.Second):
			t.Fatalf("offload serve: no exit %v after SIGTERM, want one within its %v grace\n%s", shutdownGrace+15*time.Second, shutdownGrace, p.log)
		}
		if took := time.Since(termed); took > shutdownGrace+5*time.Second {
			t.Errorf("offload serve exited %v after SIGTERM, want within its %v grace", took, shutdownGrace)
		}
		if !strings.Contains(p.log.String(), `"msg":"stopped"`) {
			t.Errorf("no clean stop in the log:\n%s", p.log)
		}
	})
}
