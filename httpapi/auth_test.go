package httpapi_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/offload-dev/offload/httpapi"
)

// tokens: "admin" may call every route; "minio" only POST /v1/events.
func withTokens(o *httpapi.Options) {
	o.Tokens = func(context.Context) ([]string, error) { return []string{"", "admin-s3cret"}, nil }
	o.Credentials = func(context.Context) ([]httpapi.Credential, error) {
		return []httpapi.Credential{
			{Token: "minio-s3cret", Routes: []string{"POST /v1/events"}},
			{Token: "ops-s3cret"}, // no routes: every route
		}, nil
	}
}

// No token, a wrong token and a token for another route get the same
// answer: status, headers and body.
func TestAuthRefusalsLookTheSame(t *testing.T) {
	e := newEnv(t, withTokens)
	basic := func(pass string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+pass)) }
	type hdr = map[string]string
	tests := []struct {
		name   string
		method string
		target string
		header hdr
		want   int
	}{
		{"bearer", "GET", "/v1/inbox", hdr{"Authorization": "Bearer admin-s3cret"}, 200},
		{"api key", "GET", "/v1/inbox", hdr{"X-Api-Key": "admin-s3cret"}, 200},
		{"basic password, dashboard", "GET", "/", hdr{"Authorization": basic("admin-s3cret")}, 200},
		{"scoped token on its route", "POST", "/v1/events", hdr{"Authorization": "Bearer minio-s3cret"}, 202},
		{"scoped token as api key", "POST", "/v1/events", hdr{"X-Api-Key": "minio-s3cret"}, 202},
		{"no token", "GET", "/v1/inbox", nil, 401},
		{"wrong token", "GET", "/v1/inbox", hdr{"Authorization": "Bearer admin-s3cre"}, 401},
		{"wrong api key", "GET", "/v1/inbox", hdr{"X-Api-Key": "admin-s3cretx"}, 401},
		{"token for another route", "GET", "/v1/inbox", hdr{"Authorization": "Bearer minio-s3cret"}, 401},
		{"scoped token, purge", "POST", "/v1/purges", hdr{"Authorization": "Bearer minio-s3cret"}, 401},
		{"scoped token, metrics", "GET", "/metrics", hdr{"X-Api-Key": "minio-s3cret"}, 401},
		{"credential without routes", "GET", "/metrics", hdr{"Authorization": "Bearer ops-s3cret"}, 200},
		{"empty bearer", "GET", "/v1/inbox", hdr{"Authorization": "Bearer "}, 401},
		{"unknown scheme", "GET", "/v1/inbox", hdr{"Authorization": "Token admin-s3cret"}, 401},
		{"wrong basic password", "GET", "/", hdr{"Authorization": basic("nope")}, 401},
		{"healthz needs none", "GET", "/healthz", nil, 200},
		{"openapi needs none", "GET", "/openapi.yaml", nil, 200},
	}
	var refusal *httptest.ResponseRecorder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			body := ""
			if tt.method == "POST" {
				body = tinyEvent
			}
			rec := e.do(req{method: tt.method, target: tt.target, header: tt.header, body: body, remote: "192.0.2.9:4000"})
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if rec.Code != http.StatusUnauthorized || tt.target == "/" {
				return
			}
			if errorCode(t, rec) != "unauthorized" || rec.Header().Get("WWW-Authenticate") != `Bearer realm="offload"` {
				t.Errorf("got %s, WWW-Authenticate %q", rec.Body, rec.Header().Get("WWW-Authenticate"))
			}
			if refusal == nil {
				refusal = rec
				return
			}
			if rec.Body.String() != refusal.Body.String() || len(rec.Header()) != len(refusal.Header()) {
				t.Errorf("refusal differs:\n%v %s\nfirst:\n%v %s", rec.Header(), rec.Body, refusal.Header(), refusal.Body)
			}
		})
	}
}

func TestAuthWithoutTokens(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		want   int
	}{
		{"loopback", "127.0.0.1:5000", 200},
		{"IPv6 loopback", "[::1]:5000", 200},
		{"remote", "192.0.2.7:5000", 403},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			rec := e.do(req{method: "GET", target: "/v1/inbox", remote: tt.remote})
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want == 403 && errorCode(t, rec) != "forbidden" {
				t.Errorf("got %s, want forbidden", rec.Body)
			}
		})
	}
}

func TestAuthTokensUnreadable(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) {
		o.Credentials = func(context.Context) ([]httpapi.Credential, error) { return nil, errors.New("ssm down") }
	})
	rec := e.do(req{method: "POST", target: "/v1/events", body: tinyEvent, header: map[string]string{"X-Api-Key": "x"}})
	if rec.Code != http.StatusServiceUnavailable || errorCode(t, rec) != "unavailable" {
		t.Errorf("got %d %s, want 503 unavailable", rec.Code, rec.Body)
	}
}

// Each token has its own bucket: burst requests at once, then rate a
// second, refused with 429 and Retry-After in between.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, withTokens, func(o *httpapi.Options) { o.Rate, o.Burst = 0.5, 3 })
	admin := map[string]string{"Authorization": "Bearer admin-s3cret"}
	minio := map[string]string{"X-Api-Key": "minio-s3cret"}
	retryAfter := ""
	inbox := func(h map[string]string) int {
		rec := e.do(req{method: "GET", target: "/v1/inbox", header: h})
		retryAfter = rec.Header().Get("Retry-After")
		if rec.Code == http.StatusTooManyRequests {
			if errorCode(t, rec) != "rate_limited" {
				t.Errorf("429 body %s, want rate_limited", rec.Body)
			}
		}
		return rec.Code
	}
	for i := range 3 {
		if got := inbox(admin); got != 200 {
			t.Fatalf("request %d: %d, want 200 within the burst", i+1, got)
		}
	}
	if got := inbox(admin); got != 429 || retryAfter != "2" {
		t.Fatalf("past the burst: %d, Retry-After %q; want 429, 2 (one request every 2s)", got, retryAfter)
	}
	// Another token has its own bucket.
	rec := e.do(req{method: "POST", target: "/v1/events", header: minio, body: tinyEvent})
	if rec.Code != http.StatusAccepted {
		t.Errorf("another token: %d, want 202", rec.Code)
	}
	// Refused requests take nothing: 2s later there is one again.
	e.clock.Advance(1500 * time.Millisecond)
	if got := inbox(admin); got != 429 || retryAfter != "1" {
		t.Fatalf("after 1.5s: %d, Retry-After %q; want 429, 1 (0.5s rounded up)", got, retryAfter)
	}
	e.clock.Advance(500 * time.Millisecond)
	if got := inbox(admin); got != 200 {
		t.Fatalf("after 2s: %d, want 200", got)
	}
	// A refused token is not counted against anyone's bucket.
	for range 10 {
		e.do(req{method: "GET", target: "/v1/inbox", header: map[string]string{"X-Api-Key": "guess"}, remote: "192.0.2.77:1"})
	}
	e.clock.Advance(2 * time.Second)
	if got := inbox(admin); got != 200 {
		t.Fatalf("after guesses: %d, want 200", got)
	}
}

// A token's own rate and burst override the defaults: a webhook sender
// delivers bursts.
func TestRateLimitPerToken(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) {
		o.Rate, o.Burst = 1, 2
		o.Credentials = func(context.Context) ([]httpapi.Credential, error) {
			return []httpapi.Credential{
				{Token: "hook", Routes: []string{"POST /v1/events"}, Rate: 100, Burst: 50},
				{Token: "ops", Routes: []string{"POST /v1/events", "GET /v1/inbox"}},
			}, nil
		}
	})
	post := func(tok string) int {
		return e.do(req{method: "POST", target: "/v1/events", body: tinyEvent, header: map[string]string{"X-Api-Key": tok}}).Code
	}
	for i := range 50 {
		if got := post("hook"); got != http.StatusAccepted {
			t.Fatalf("hook request %d: %d, want 202 within its burst of 50", i+1, got)
		}
	}
	if got := post("hook"); got != http.StatusTooManyRequests {
		t.Errorf("hook request 51: %d, want 429", got)
	}
	e.clock.Advance(10 * time.Millisecond) // one more at 100 a second
	if got := post("hook"); got != http.StatusAccepted {
		t.Errorf("hook after 10ms: %d, want 202", got)
	}
	inbox := func(tok string) int {
		return e.do(req{method: "GET", target: "/v1/inbox", header: map[string]string{"X-Api-Key": tok}}).Code
	}
	for i, want := range []int{200, 200, 429} {
		if got := inbox("ops"); got != want {
			t.Errorf("ops request %d: %d, want %d (the defaults: burst 2)", i+1, got, want)
		}
	}
	// Without limits of its own, a token's webhook posts are not limited:
	// the inbox absorbs bursts, and a refused notification may be lost.
	for i := range 10 {
		if got := post("ops"); got != http.StatusAccepted {
			t.Fatalf("ops webhook %d: %d, want 202", i+1, got)
		}
	}
}
