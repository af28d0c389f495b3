package cloudflare_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/purge/purgetest"
)

// fakeCloudflare answers POST /zones/{zone_id}/purge_cache as Cloudflare's
// API v4 does, and checks what it checks: the Bearer token, the zone, the
// method and content type, exactly one purge key in the body, the plan's
// per-request limits, and that only Enterprise zones purge by tag, host or
// prefix. Errors come in the v4 envelope. The codes 9106, 10000, 7003,
// 1012, 1014, 1107 and 971 (throttled) are ones Cloudflare is seen to send;
// the codes for the per-request limits (1016, 1018, 1019) could not be
// confirmed from Cloudflare's documentation and stand in for the real ones.
type fakeCloudflare struct {
	*httptest.Server
	token      string
	zone       string
	urlLimit   int  // the plan's files per request: 30, 100 or 500
	keyLimit   int  // tags, hosts, prefixes per request
	enterprise bool // may purge by tag, host, prefix
	backend    *purgetest.Backend
	// limits, when set, are the account's token buckets by name ("api",
	// "urls", "keys", "everything"), kept on time.Now as Cloudflare keeps
	// them: a request short of tokens gets 429 and takes none.
	limits  map[string]*tokenBucket
	limited int // requests refused with 429 by limits

	mu     sync.Mutex
	seq    int
	bodies []map[string]json.RawMessage
}

func newFake(t testing.TB, b *purgetest.Backend) *fakeCloudflare {
	f := &fakeCloudflare{token: "cf-test-token-abcdef0123456789", zone: "023e105f4ecef8ad9ca31a8372d0c353",
		urlLimit: 30, keyLimit: 30, enterprise: true, backend: b}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func cfError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"success": false, "errors": []map[string]any{{"code": code, "message": msg}}, "messages": []any{}, "result": nil})
}

func (f *fakeCloudflare) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		cfError(w, http.StatusBadRequest, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
		return
	case auth != "Bearer "+f.token:
		cfError(w, http.StatusForbidden, 10000, "Authentication error")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "zones" || parts[2] != "purge_cache" || parts[1] != f.zone {
		cfError(w, http.StatusNotFound, 7003, fmt.Sprintf("Could not route to %s, perhaps your object identifier is invalid?", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		cfError(w, http.StatusMethodNotAllowed, 10405, "Method not allowed")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		cfError(w, http.StatusBadRequest, 6003, "Invalid request headers")
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		cfError(w, http.StatusBadRequest, 6007, "Malformed JSON in request body")
		return
	}
	var kinds []string
	for _, k := range []string{"files", "tags", "hosts", "prefixes", "purge_everything"} {
		if _, ok := body[k]; ok {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		cfError(w, http.StatusBadRequest, 1012, `Request must contain one of "purge_everything", "files", "tags", "hosts" or "prefixes"`)
		return
	}
	kind := kinds[0]
	var keys []string
	if kind == "purge_everything" {
		var all bool
		if json.Unmarshal(body[kind], &all) != nil || !all {
			cfError(w, http.StatusBadRequest, 1012, `Request must contain one of "purge_everything", "files", "tags", "hosts" or "prefixes"`)
			return
		}
		keys = []string{"purge_everything"}
	} else {
		if json.Unmarshal(body[kind], &keys) != nil || len(keys) == 0 {
			cfError(w, http.StatusBadRequest, 1014, `"files", "tags", or "hosts" must be an array`)
			return
		}
	}
	switch kind {
	case "files":
		if len(keys) > f.urlLimit {
			cfError(w, http.StatusBadRequest, 1018, fmt.Sprintf("You may purge up to %d files in one API call", f.urlLimit))
			return
		}
		for _, k := range keys {
			if u, err := url.Parse(k); err != nil || u.Host == "" {
				cfError(w, http.StatusBadRequest, 1016, "Invalid URL: "+k)
				return
			}
		}
	case "tags", "hosts", "prefixes":
		if !f.enterprise {
			cfError(w, http.StatusBadRequest, 1107, "Only enterprise zones can purge by tag.")
			return
		}
		if len(keys) > f.keyLimit {
			cfError(w, http.StatusBadRequest, 1019, fmt.Sprintf("You may purge up to %d %s in one API call", f.keyLimit, kind))
			return
		}
	}
	if f.limits != nil {
		cost := map[string]float64{"api": 1}
		switch kind {
		case "files":
			cost["urls"] = float64(len(keys))
		case "purge_everything":
			cost["everything"] = 1
		default:
			cost["keys"] = 1
		}
		if !f.take(cost) {
			cfError(w, http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed")
			return
		}
	}
	if f.backend != nil {
		if fault := f.backend.Receive(keys); fault != nil {
			fault.SetRetryAfter(w.Header())
			code := 1000
			if fault.Kind == purgetest.Throttled {
				code = 971
			}
			cfError(w, fault.Status(), code, fault.Message)
			return
		}
	}
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("purge%04d", f.seq)
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": map[string]string{"id": id}})
}

// tokenBucket is one of the fake's rate limits.
type tokenBucket struct {
	size, perSecond float64
	tokens          float64
	at              time.Time
}

func (b *tokenBucket) refill(now time.Time) {
	if b.at.IsZero() {
		b.tokens, b.at = b.size, now
	}
	b.tokens = min(b.size, b.tokens+now.Sub(b.at).Seconds()*b.perSecond)
	b.at = now
}

// take takes cost from the buckets if every one holds enough, else none.
func (f *fakeCloudflare) take(cost map[string]float64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for name, n := range cost {
		if b := f.limits[name]; b != nil {
			b.refill(now)
			if b.tokens+1e-9 < n {
				f.limited++
				return false
			}
		}
	}
	for name, n := range cost {
		if b := f.limits[name]; b != nil {
			b.tokens -= n
		}
	}
	return true
}

// refused returns the requests refused with 429 by limits so far.
func (f *fakeCloudflare) refused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limited
}

func (f *fakeCloudflare) received() []map[string]json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]json.RawMessage(nil), f.bodies...)
}
