//go:build !offload_lambda

package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The real server with auth.tokens and auth.scoped_tokens: a webhook
// sender's token posts events and nothing else, and every refusal looks
// the same.
func TestServeAuthScopes(t *testing.T) {
	cfg := writeFile(t, "offload.yaml", `auth:
  tokens: [env:OFFLOAD_TEST_ADMIN]
  scoped_tokens:
    - {token: env:OFFLOAD_TEST_HOOK, routes: ["POST /v1/events"], rate: 1000, burst: 1000}
state: {driver: memory, path: `+t.TempDir()+`/offload.db}
`)
	srv := startServe(t, offloadBinary(t), cfg, "OFFLOAD_TEST_ADMIN=admin-token", "OFFLOAD_TEST_HOOK=hook-token")
	do := func(method, path, header, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+srv.Addr+path, strings.NewReader(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`))
		if token != "" {
			req.Header.Set(header, token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, method, path, header, token string
		want                              int
	}{
		{"admin, inbox", "GET", "/v1/inbox", "Authorization", "Bearer admin-token", 200},
		{"admin as api key, metrics", "GET", "/metrics", "X-Api-Key", "admin-token", 200},
		{"hook, events", "POST", "/v1/events", "Authorization", "Bearer hook-token", 202},
		{"hook, inbox", "GET", "/v1/inbox", "Authorization", "Bearer hook-token", 401},
		{"wrong token", "GET", "/v1/inbox", "Authorization", "Bearer hook-tokem", 401},
		{"no token", "GET", "/v1/inbox", "", "", 401},
		{"health, no token", "GET", "/healthz", "", "", 200},
	}
	var refusal string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(tt.method, tt.path, tt.header, tt.token)
			if code != tt.want {
				t.Fatalf("got %d %s, want %d", code, body, tt.want)
			}
			if code == http.StatusUnauthorized {
				if refusal == "" {
					refusal = body
				} else if body != refusal {
					t.Errorf("refusal %s differs from %s", body, refusal)
				}
			}
		})
	}
}
