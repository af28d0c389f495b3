package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Failed authentication is limited per client address: 10 a minute, then
// 429 with Retry-After for that address alone, whatever it sends, so that
// a token cannot be guessed faster.
func TestAuthFailuresLimitedPerAddress(t *testing.T) {
	e := newEnv(t, withTokens)
	const attacker = "192.0.2.50:4000"
	wrong := map[string]string{"Authorization": "Bearer guess"}
	right := map[string]string{"Authorization": "Bearer admin-s3cret"}
	counts := map[int]int{}
	var retryAfter string
	for i := range 600 {
		rec := e.do(req{method: "GET", target: "/v1/inbox", header: map[string]string{"Authorization": "Bearer guess-" + strconv.Itoa(i)}, remote: attacker})
		counts[rec.Code]++
		if rec.Code == http.StatusTooManyRequests {
			retryAfter = rec.Header().Get("Retry-After")
			if got := errorCode(t, rec); got != "rate_limited" {
				t.Fatalf("got code %q, want rate_limited", got)
			}
		}
	}
	if counts[401] != 10 || counts[429] != 590 {
		t.Errorf("600 wrong tokens from one address: got %v, want 10 401s and 590 429s", counts)
	}
	if retryAfter != "6" {
		t.Errorf("got Retry-After %q, want 6 (one failure allowed every 6s)", retryAfter)
	}

	// Another address is not held back, right token or wrong.
	if rec := e.do(req{method: "GET", target: "/v1/inbox", header: right, remote: "192.0.2.51:4000"}); rec.Code != http.StatusOK {
		t.Errorf("right token from another address: got %d %s, want 200", rec.Code, rec.Body)
	}
	if rec := e.do(req{method: "GET", target: "/v1/inbox", header: wrong, remote: "192.0.2.52:4000"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("wrong token from another address: got %d, want 401", rec.Code)
	}
	// The blocked address is refused before its token is looked at: a
	// right token there gets the same 429, so the answer tells nothing.
	if rec := e.do(req{method: "GET", target: "/v1/inbox", header: right, remote: attacker}); rec.Code != http.StatusTooManyRequests {
		t.Errorf("right token from the blocked address: got %d, want 429", rec.Code)
	}
	// Public routes stay open to it.
	if rec := e.do(req{method: "GET", target: "/healthz", remote: attacker}); rec.Code != http.StatusOK {
		t.Errorf("GET /healthz from the blocked address: got %d, want 200", rec.Code)
	}
	// One more try every 6 seconds; a whole minute gives all ten back.
	e.clock.Advance(6 * time.Second)
	if rec := e.do(req{method: "GET", target: "/v1/inbox", header: wrong, remote: attacker}); rec.Code != http.StatusUnauthorized {
		t.Errorf("6s later: got %d, want 401", rec.Code)
	}
	if rec := e.do(req{method: "GET", target: "/v1/inbox", header: right, remote: attacker}); rec.Code != http.StatusTooManyRequests {
		t.Errorf("after that failure: got %d, want 429", rec.Code)
	}
	e.clock.Advance(time.Minute)
	if rec := e.do(req{method: "GET", target: "/v1/inbox", header: right, remote: attacker}); rec.Code != http.StatusOK {
		t.Errorf("a minute later, right token: got %d, want 200", rec.Code)
	}
}

// What is counted: a token presented and refused. A request with no token
// guesses nothing (a browser's first request for the dashboard has none).
func TestAuthFailuresCounted(t *testing.T) {
	tests := []struct {
		name    string
		header  map[string]string
		counted bool
	}{
		{"wrong bearer", map[string]string{"Authorization": "Bearer guess"}, true},
		{"wrong api key", map[string]string{"X-Api-Key": "guess"}, true},
		{"token for another route", map[string]string{"Authorization": "Bearer minio-s3cret"}, true},
		{"no token", nil, false},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withTokens)
			for range 10 {
				e.do(req{method: "GET", target: "/v1/inbox", header: tt.header, remote: "192.0.2.60:1"})
			}
			want := http.StatusUnauthorized
			if tt.counted {
				want = http.StatusTooManyRequests
			}
			if rec := e.do(req{method: "GET", target: "/v1/inbox", header: tt.header, remote: "192.0.2.60:1"}); rec.Code != want {
				t.Errorf("the 11th: got %d, want %d", rec.Code, want)
			}
		})
	}
}

// IPv6 addresses are counted by their /64, which one host usually has
// whole; IPv4 addresses one by one.
func TestAuthFailuresByPrefix(t *testing.T) {
	e := newEnv(t, withTokens)
	wrong := map[string]string{"X-Api-Key": "guess"}
	for i := range 10 {
		e.do(req{method: "GET", target: "/v1/inbox", header: wrong, remote: "[2001:db8::" + strconv.Itoa(i+1) + "]:1"})
	}
	for _, tt := range []struct {
		remote string
		want   int
	}{
		{"[2001:db8::ffff]:1", http.StatusTooManyRequests},
		{"[2001:db8:0:1::1]:1", http.StatusUnauthorized},
		{"192.0.2.70:1", http.StatusUnauthorized},
	} {
		if rec := e.do(req{method: "GET", target: "/v1/inbox", header: wrong, remote: tt.remote}); rec.Code != tt.want {
			t.Errorf("%s: got %d, want %d", tt.remote, rec.Code, tt.want)
		}
	}
}
