package fastly_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/purge/purgetest"
)

// fakeFastly answers as api.fastly.com does for the purge endpoints, and
// checks what it checks: the Fastly-Key token and its scope, the service,
// the method, the batch body and its 256-key limit. Errors use Fastly's
// {"msg", "detail"} shape; the 401 text is Fastly's, the wording of the
// other refusals is this fake's own.
type fakeFastly struct {
	*httptest.Server
	token     string // may purge
	readOnly  string // valid, but without purge_select
	serviceID string
	backend   *purgetest.Backend // nil: serve everything
	// writeLimit, when above 0, is how many purge-all requests an hour the
	// fake takes (Fastly's non-read limit), in windows from the first
	// one's time.Now; past it the answer is 429 with Fastly-RateLimit-*.
	writeLimit int
	window     time.Time
	writes     int
	limited    int

	mu    sync.Mutex
	seq   int
	soft  []string // Fastly-Soft-Purge of each accepted request
	paths []string // API path of each accepted request
}

func newFake(t testing.TB, b *purgetest.Backend) *fakeFastly {
	f := &fakeFastly{token: "fastly-test-token-0123456789", readOnly: "fastly-read-only-token", serviceID: "SU1Z0isxPaozGVKXdv0eY", backend: b}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func fail(w http.ResponseWriter, status int, msg, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]string{"msg": msg}
	if detail != "" {
		e["detail"] = detail
	}
	json.NewEncoder(w).Encode(e)
}

func (f *fakeFastly) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Header.Get("Fastly-Key") {
	case f.token:
	case f.readOnly:
		fail(w, http.StatusForbidden, "Forbidden", "the token does not have the purge_select scope")
		return
	default:
		fail(w, http.StatusUnauthorized, "Provided credentials are missing or invalid", "")
		return
	}
	if r.Method != http.MethodPost {
		fail(w, http.StatusMethodNotAllowed, "Method not allowed", "")
		return
	}
	if s := r.Header.Get("Fastly-Soft-Purge"); s != "" && s != "1" {
		fail(w, http.StatusBadRequest, "Bad request", "Fastly-Soft-Purge must be 1")
		return
	}
	var keys []string // what the suite's backend sees
	var bulk []string
	path := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(path, "/purge/"):
		keys = []string{strings.TrimPrefix(r.URL.RequestURI(), "/purge/")}
	case strings.HasPrefix(path, "/service/"):
		rest := strings.Split(strings.TrimPrefix(path, "/service/"), "/")
		if len(rest) != 2 || (rest[1] != "purge" && rest[1] != "purge_all") {
			fail(w, http.StatusNotFound, "Record not found", "")
			return
		}
		if rest[0] != f.serviceID {
			fail(w, http.StatusNotFound, "Record not found", fmt.Sprintf("Couldn't find Service '%s'", rest[0]))
			return
		}
		if rest[1] == "purge_all" {
			keys = []string{"purge_all"}
			if !f.write(w) {
				return
			}
			break
		}
		var body struct {
			SurrogateKeys []string `json:"surrogate_keys"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.SurrogateKeys) == 0 {
			fail(w, http.StatusBadRequest, "Bad request", "surrogate_keys must be a non-empty list")
			return
		}
		if n := len(body.SurrogateKeys); n > 256 {
			fail(w, http.StatusBadRequest, "Bad request", fmt.Sprintf("too many surrogate keys: %d, the limit is 256", n))
			return
		}
		bulk, keys = body.SurrogateKeys, body.SurrogateKeys
	default:
		fail(w, http.StatusNotFound, "Record not found", "")
		return
	}
	if f.backend != nil {
		if fault := f.backend.Receive(keys); fault != nil {
			fault.SetRetryAfter(w.Header())
			fail(w, fault.Status(), fault.Message, "")
			return
		}
	}
	f.mu.Lock()
	f.soft = append(f.soft, r.Header.Get("Fastly-Soft-Purge"))
	f.paths = append(f.paths, r.URL.RequestURI())
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if bulk != nil {
		ids := map[string]string{}
		for i, k := range bulk {
			ids[k] = fmt.Sprintf("%d-1700000000-%d", seq, i)
		}
		json.NewEncoder(w).Encode(ids)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"status": "ok", "id": fmt.Sprintf("%d-1700000000-0", seq)})
}

// write counts a non-read request against writeLimit, and answers 429 as
// Fastly does past it.
func (f *fakeFastly) write(w http.ResponseWriter) bool {
	if f.writeLimit <= 0 {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.window.IsZero() || !now.Before(f.window.Add(time.Hour)) {
		f.window, f.writes = now, 0
	}
	w.Header().Set("Fastly-RateLimit-Reset", strconv.FormatInt(f.window.Add(time.Hour).Unix(), 10))
	if f.writes >= f.writeLimit {
		f.limited++
		w.Header().Set("Fastly-RateLimit-Remaining", "0")
		fail(w, http.StatusTooManyRequests, "Too many requests", "")
		return false
	}
	f.writes++
	w.Header().Set("Fastly-RateLimit-Remaining", strconv.Itoa(f.writeLimit-f.writes))
	return true
}

// limits returns the 429s so far and when the current window resets.
func (f *fakeFastly) limits() (limited int, reset time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limited, f.window.Add(time.Hour)
}

func (f *fakeFastly) accepted() (paths, soft []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.paths...), append([]string(nil), f.soft...)
}
