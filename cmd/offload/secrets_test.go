//go:build !offload_lambda

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/syncbuf"
)

// cfToken is the Cloudflare API token the echoing provider repeats back;
// its "/", "+" and "=" change when it is URL-escaped.
const cfToken = "cf/Tok+en=7Qk2pZ9xW3mN8vR1tL5c"

// echoingCloudflare is a Cloudflare API that refuses every purge with an
// error repeating the token it was sent: whole, URL-escaped, in base64,
// and cut short. It counts the requests that carried the token.
func echoingCloudflare(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if tok == cfToken {
			got.Add(1)
		}
		msg := fmt.Sprintf("Authentication error: token %s is not valid (sent as %s, %s; starts %s)",
			tok, url.QueryEscape(tok), base64.StdEncoding.EncodeToString([]byte("Bearer "+tok)), tok[:10])
		b, _ := json.Marshal(map[string]any{"success": false, "errors": []map[string]any{{"code": 10000, "message": msg}}})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

// leaked returns what text shows of the token: any run of 8 bytes of it,
// as it is, URL-escaped or in base64.
func leaked(text, token string) []string {
	var out []string
	for _, form := range []string{token, url.QueryEscape(token), base64.StdEncoding.EncodeToString([]byte(token))} {
		for i := 0; i+8 <= len(form); i++ {
			if strings.Contains(text, form[i:i+8]) {
				out = append(out, form[i:i+8])
			}
		}
	}
	return out
}

// A provider that echoes its credential in its errors: offload serve's
// answers (the purge, its record, the inbox, the dashboard), its logs and
// the CLI's output show no part of it, and do show the error, redacted.
func TestSecretsNeverLeave(t *testing.T) {
	cf, sent := echoingCloudflare(t)
	t.Setenv("OFFLOAD_TEST_CF_TOKEN", cfToken)
	t.Setenv("OFFLOAD_TEST_ADMIN", "admin-token-for-the-test")
	dir := t.TempDir()
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {driver: memory, path: %s}
auth: {tokens: [env:OFFLOAD_TEST_ADMIN]}
sites: [{name: www, bucket: my-site, targets: [cf]}]
targets: [{name: cf, provider: cloudflare, zone_id: z1, token: env:OFFLOAD_TEST_CF_TOKEN, base_url: https://www.example.com, api_url: %s}]
batch: {window: 10ms}
`, filepath.Join(dir, "offload.db"), cf.URL))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs, stdout syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg, "--log-json", "--listen", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &logs)
	}()
	addr := waitLog(t, &logs, "listening", 10*time.Second)["addr"].(string)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer admin-token-for-the-test")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	shown := map[string]string{}

	code, body := call("POST", "/v1/purges", `{"target":"cf","urls":["https://www.example.com/a"]}`)
	var failed struct{ Error struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &failed); err != nil || code != http.StatusBadGateway || failed.Error.ID == "" {
		t.Fatalf("POST /v1/purges: got %d %s, want 502 with the purge's id", code, body)
	}
	shown["POST /v1/purges"] = body

	// The pipeline's purge of a webhook's change fails the same way.
	webhook, err := os.ReadFile("../../event/testdata/minio-webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := call("POST", "/v1/events", string(webhook)); code != http.StatusAccepted {
		t.Fatalf("POST /v1/events: got %d %s, want 202", code, body)
	}
	waitLog(t, &logs, "inbox batch applied", 10*time.Second)
	for _, path := range []string{"/v1/purges/" + failed.Error.ID, "/v1/inbox", "/"} {
		code, body := call("GET", path, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: got %d %s, want 200", path, code, body)
		}
		shown["GET "+path] = body
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve: exit %d, want 0", code)
	}
	shown["serve's log"] = logs.String() + stdout.String()

	// The CLI, purging through the same target.
	code, out, errs := offload(t, "", "purge", "--config", cfg, "--target", "cf", "https://www.example.com/b")
	if code != exitFailed {
		t.Errorf("offload purge: exit %d, want 1", code)
	}
	shown["offload purge"] = out + errs

	if n := sent.Load(); n < 3 {
		t.Fatalf("the provider got the token %d times, want at least 3: the API's purge, the pipeline's, the CLI's", n)
	}
	for what, text := range shown {
		if got := leaked(text, cfToken); len(got) > 0 {
			t.Errorf("%s shows %q of the token:\n%.3000s", what, got, text)
		}
		if !strings.Contains(text, "Authentication error: token [REDACTED] is not valid") {
			t.Errorf("%s does not show the provider's error, redacted:\n%.3000s", what, text)
		}
	}
}
