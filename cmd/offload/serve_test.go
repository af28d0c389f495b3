//go:build !offload_lambda

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/offload-dev/offload/internal/childproc"
	"github.com/offload-dev/offload/internal/syncbuf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitLog waits until the JSON log holds a line with msg and returns it.
func waitLog(t *testing.T, log fmt.Stringer, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for line := range strings.Lines(log.String()) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log after %v:\n%s", msg, timeout, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// webhookBody is a MinIO webhook delivery for one put, as MinIO encodes it
// ("/" as %2F, a space as +).
func webhookBody(bucket, key, etag, seq string) []byte {
	enc := strings.NewReplacer("/", "%2F", " ", "+").Replace(key)
	return fmt.Appendf(nil, `{"EventName":"s3:ObjectCreated:Put","Key":%q,"Records":[{"eventVersion":"2.0",
"eventSource":"minio:s3","eventTime":"2026-11-20T10:00:07.456Z","eventName":"s3:ObjectCreated:Put",
"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":12,"eTag":%q,"sequencer":%q}}}]}`,
		bucket+"/"+key, bucket, enc, etag, seq)
}

func TestServeEmbeddedDefaultsDryRun(t *testing.T) {
	body, err := os.ReadFile("../../event/testdata/minio-webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // the defaults keep state in ./offload.db
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--log-json", "--listen", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, &logs)
	}()
	listening := waitLog(t, &logs, "listening", 10*time.Second)
	addr := listening["addr"].(string)
	if got := listening["batch_size"]; got != float64(1000) {
		t.Errorf("batch_size %v, want 1000 (the log target has no request limit)", got)
	}
	if !strings.Contains(logs.String(), "embedded defaults") || !strings.Contains(logs.String(), "NO AUTH TOKENS") {
		t.Errorf("the log does not say it runs on the defaults without tokens:\n%s", logs.String())
	}

	resp, err := http.Post("http://"+addr+"/v1/events", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/events: %s, want 202", resp.Status)
	}
	line := waitLog(t, &logs, "dry run: would purge", 10*time.Second)
	if got := fmt.Sprint(line["items"]); got != "[http://localhost/docs/a%20b.html]" {
		t.Errorf("dry run items %s, want [http://localhost/docs/a%%20b.html]", got)
	}
	waitLog(t, &logs, "inbox batch applied", 10*time.Second)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d after shutdown, want 0\n%s", code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := os.Stat("offload.db"); err != nil {
		t.Errorf("state file: %v", err)
	}
}

// offloadBinary builds the real binary into the test's directory (a few
// seconds: the packages are in the build cache after the first test).
func offloadBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "offload")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess is a running `offload serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	Addr string // host:port it listens on
	log  *syncbuf.Buffer
	done chan struct{}
	err  error // Wait's, once done is closed
}

// startServe starts the binary with `serve --config cfg` on a free port,
// with JSON logs, and waits until it listens.
func startServe(t *testing.T, bin, cfg string, env ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{log: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--log-json")
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = childproc.Attr(false)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("offload serve log:\n%s", p.log)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for p.Addr == "" {
		select {
		case <-p.done:
			t.Fatalf("offload serve exited before listening (%v):\n%s", p.err, p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("offload serve not listening after 20s:\n%s", p.log)
		}
		sc := bufio.NewScanner(strings.NewReader(p.log.String()))
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "listening" {
				p.Addr, _ = m["addr"].(string)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// stop sends sig and waits for the process to exit.
func (p *serveProcess) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("offload serve did not exit 30s after %v", sig)
	}
}

// inbox reads GET /v1/inbox.
func (p *serveProcess) inbox(t *testing.T, token string) (depth, failing int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.Addr+"/v1/inbox", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ Depth, Failing int }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/inbox: %s, %v", resp.Status, err)
	}
	return st.Depth, st.Failing
}

// postEvent sends one webhook delivery and returns the status code.
func postEvent(client *http.Client, addr, token string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestServeStartErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tokens := writeFile(t, "tokens.yaml", "auth:\n  tokens: [env:OFFLOAD_TEST_UNSET_TOKEN]\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"token that does not resolve", []string{"serve", "--config", tokens, "--listen", "127.0.0.1:0"}, exitUsage, "auth.tokens[0]"},
		{"stray argument", []string{"serve", "now"}, exitUsage, `unexpected argument "now"`},
		{"address in use", []string{"serve", "--listen", busy.Addr().String()}, exitFailed, "address already in use"},
		{"missing config", []string{"serve", "--config", "nope.yaml"}, exitUsage, "nope.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := offload(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("got %d, %q; want %d and %q", code, errs, tt.code, tt.want)
			}
		})
	}
}

// serve gathers as many events as fill the targets' requests: 1,020 for a
// Cloudflare zone at its default 30 URLs a request, 3,000 with a CloudFront
// distribution beside it (3,000 paths an invalidation).
func TestServeBatchFillsRequests(t *testing.T) {
	t.Setenv("OFFLOAD_TEST_CF_TOKEN", "cf-token-for-the-test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	for _, tc := range []struct {
		name, targets string
		want          float64
	}{
		{"cloudflare", `[{name: cf, provider: cloudflare, zone_id: z1, token: env:OFFLOAD_TEST_CF_TOKEN, base_url: https://www.example.com}]`, 1020},
		{"cloudflare and cloudfront", `[{name: cf, provider: cloudflare, zone_id: z1, token: env:OFFLOAD_TEST_CF_TOKEN, base_url: https://www.example.com},
  {name: front, provider: cloudfront, distribution_id: E8F6HK73EP0LT}]`, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeFile(t, "offload.yaml", fmt.Sprintf("state: {driver: bolt, path: %s}\n"+
				"sites: [{name: www, bucket: my-site, targets: [cf]}]\ntargets: %s\n", filepath.Join(dir, "offload.db"), tc.targets))
			ctx, cancel := context.WithCancel(context.Background())
			var logs syncbuf.Buffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--config", cfg, "--log-json", "--listen", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, &logs)
			}()
			listening := waitLog(t, &logs, "listening", 10*time.Second)
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("offload serve exited %d:\n%s", code, logs.String())
			}
			if got := listening["batch_size"]; got != tc.want {
				t.Errorf("batch_size %v, want %v", got, tc.want)
			}
		})
	}
}
