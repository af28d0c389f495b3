package akamaitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offload-dev/offload/purge/purgetest"
)

// MaxPurgeBody is Fast Purge's body limit; a larger body is answered 413.
const MaxPurgeBody = 50000

// Bucket is one of Fast Purge's token buckets.
type Bucket struct {
	Size   float64 // tokens it holds when full
	PerSec float64 // refill rate
	tokens float64
	at     time.Time
}

func (b *Bucket) refill(now time.Time) {
	if b.at.IsZero() {
		b.tokens, b.at = b.Size, now
		return
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = min(b.Size, b.tokens+d*b.PerSec)
		b.at = now
	}
}

// Received is a purge the server accepted or refused after checking the
// signature.
type Received struct {
	Path      string
	BodyBytes int
	Objects   []string // CP codes as decimal strings
	Status    int
}

// FastPurge is an httptest TLS server that behaves as the Fast Purge v3 API:
// it verifies the EdgeGrid signature, the timestamp and the nonce (401),
// refuses bodies over 50,000 bytes (413), enforces the account's token
// buckets (429 with X-Ratelimit-* headers), and answers 201 with purgeId,
// supportId and estimatedSeconds. Errors have Akamai's problem-details shape.
type FastPurge struct {
	*httptest.Server
	Creds Credentials

	// Now is the clock of the token buckets; default time.Now. The
	// signature's timestamp is always checked against the real clock,
	// because Akamai's signer stamps requests with it.
	Now func() time.Time
	// Backend, if set, is told the keys of every well-formed purge and may
	// fail it (the purgetest conformance suite).
	Backend *purgetest.Backend
	// Estimated is the estimatedSeconds of accepted purges; default 5.
	Estimated int

	mu       sync.Mutex
	nonces   map[string]bool
	requests Bucket
	objects  map[string]*Bucket
	received []Received
	seq      int
}

// NewFastPurge starts a server for creds.
func NewFastPurge(creds Credentials) *FastPurge {
	f := &FastPurge{
		Creds:     creds,
		Now:       time.Now,
		Estimated: 5,
		nonces:    map[string]bool{},
		requests:  Bucket{Size: 100, PerSec: 50},
		objects: map[string]*Bucket{
			"url":    {Size: 10000, PerSec: 12000.0 / 60},
			"cpcode": {Size: 300, PerSec: 30.0 / 60},
			"tag":    {Size: 5000, PerSec: 500.0 / 60},
		},
	}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.Server.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by Close
	f.Server.StartTLS()
	return f
}

// Received returns what the server received past the signature check.
func (f *FastPurge) Received() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.received...)
}

// Problem is Akamai's error body (problem details). The gateway's 401 uses
// "status" and "requestId"; Fast Purge itself "httpStatus" and "supportId".
type Problem struct {
	Type        string `json:"type,omitempty"`
	Title       string `json:"title"`
	Status      int    `json:"status,omitempty"`
	HTTPStatus  int    `json:"httpStatus,omitempty"`
	Detail      string `json:"detail,omitempty"`
	Instance    string `json:"instance,omitempty"`
	SupportID   string `json:"supportId,omitempty"`
	RequestID   string `json:"requestId,omitempty"`
	DescribedBy string `json:"describedBy,omitempty"`

	RateLimit                   int  `json:"rateLimit,omitempty"`
	RateLimitCurrentRequestSize int  `json:"rateLimitCurrentRequestSize,omitempty"`
	RateLimitRemaining          *int `json:"rateLimitRemaining,omitempty"`
}

func (f *FastPurge) id(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%d-%d", prefix, f.seq, time.Now().UnixNano()%1e9)
}

func writeProblem(w http.ResponseWriter, status int, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

func (f *FastPurge) serve(w http.ResponseWriter, r *http.Request) {
	// Read enough to hash max_body bytes and to see the body is too large.
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(max(f.Creds.maxBody(), MaxPurgeBody)+1)))
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// The gateway authenticates before the API sees the request.
	if _, err := Verify(r, body, f.Creds, time.Now()); err != nil {
		writeProblem(w, http.StatusUnauthorized, Problem{
			Type: "https://problems.luna.akamaiapis.net/-/pep-authn/deny", Title: "Not authorized",
			Status: 401, Detail: err.Error(), Instance: "https://" + r.Host + r.URL.Path, RequestID: f.id("req")})
		return
	}
	a, _ := ParseAuth(r.Header.Get("Authorization"))
	if f.nonces[a.Nonce] {
		writeProblem(w, http.StatusUnauthorized, Problem{
			Type: "https://problems.luna.akamaiapis.net/-/pep-authn/deny", Title: "Not authorized",
			Status: 401, Detail: "The nonce has already been used", RequestID: f.id("req")})
		return
	}
	f.nonces[a.Nonce] = true

	support := f.id("17PY")
	problem := func(status int, title, detail string) {
		writeProblem(w, status, Problem{Title: title, HTTPStatus: status, Detail: detail, SupportID: support,
			DescribedBy: "https://developer.akamai.com/api/core_features/fast_purge/v3.html#httpcodes"})
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 5 || parts[0] != "ccu" || parts[1] != "v3" ||
		(parts[2] != "invalidate" && parts[2] != "delete") ||
		f.objects[parts[3]] == nil || (parts[4] != "staging" && parts[4] != "production") {
		problem(http.StatusNotFound, "Not Found", "no such resource: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		problem(http.StatusMethodNotAllowed, "Method Not Allowed", r.Method+" is not allowed")
		return
	}
	if len(body) > MaxPurgeBody || r.ContentLength > MaxPurgeBody {
		problem(http.StatusRequestEntityTooLarge, "Request entity too large",
			fmt.Sprintf("The request body is larger than the limit of %d bytes", MaxPurgeBody))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		problem(http.StatusUnsupportedMediaType, "Unsupported Media Type", "Content-Type must be application/json, got "+ct)
		return
	}
	kind := parts[3]
	keys, err := decodeObjects(kind, body)
	if err != nil {
		problem(http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	rec := Received{Path: r.URL.Path, BodyBytes: len(body), Objects: keys}
	defer func() { f.received = append(f.received, rec) }()

	if f.Backend != nil {
		if fault := f.Backend.Receive(keys); fault != nil {
			rec.Status = fault.Status()
			fault.SetRetryAfter(w.Header())
			switch fault.Kind {
			case purgetest.Throttled:
				zero := 0
				f.rateHeaders(w.Header(), kind)
				w.Header().Set("X-Ratelimit-Remaining", "0")
				writeProblem(w, http.StatusTooManyRequests, Problem{Title: "Rate Limit exceeded", HTTPStatus: 429,
					Detail: fault.Message, SupportID: support, RateLimit: 100, RateLimitCurrentRequestSize: 1, RateLimitRemaining: &zero})
			case purgetest.Unavailable:
				problem(http.StatusServiceUnavailable, "Service Unavailable", fault.Message)
			default:
				problem(http.StatusBadRequest, "Bad request", fault.Message)
			}
			return
		}
	}

	now := f.Now()
	f.requests.refill(now)
	ob := f.objects[kind]
	ob.refill(now)
	switch {
	case f.requests.tokens+1e-9 < 1:
		rec.Status = 429
		f.rateHeaders(w.Header(), kind)
		rem := int(f.requests.tokens)
		writeProblem(w, http.StatusTooManyRequests, Problem{Title: "Rate Limit exceeded", HTTPStatus: 429,
			SupportID: support, RateLimit: int(f.requests.Size), RateLimitCurrentRequestSize: 1, RateLimitRemaining: &rem})
		return
	case ob.tokens+1e-9 < float64(len(keys)):
		rec.Status = 429
		f.rateHeaders(w.Header(), kind)
		rem := int(ob.tokens)
		writeProblem(w, http.StatusTooManyRequests, Problem{Title: strings.ToUpper(kind[:1]) + kind[1:] + " Rate Limit exceeded",
			HTTPStatus: 429, SupportID: support, RateLimit: int(ob.Size), RateLimitCurrentRequestSize: len(keys), RateLimitRemaining: &rem})
		return
	}
	f.requests.tokens = max(0, f.requests.tokens-1)
	ob.tokens = max(0, ob.tokens-float64(len(keys)))
	rec.Status = 201
	f.rateHeaders(w.Header(), kind)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"httpStatus": 201, "detail": "Request accepted", "estimatedSeconds": f.Estimated,
		"purgeId": f.id("edcp-"), "supportId": support,
	})
}

func (f *FastPurge) rateHeaders(h http.Header, kind string) {
	ob := f.objects[kind]
	h.Set("X-Ratelimit-Limit", strconv.Itoa(int(f.requests.Size)))
	h.Set("X-Ratelimit-Limit-Per-Second", strconv.FormatFloat(f.requests.PerSec, 'f', 2, 64))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(int(f.requests.tokens)))
	h.Set("X-Ratelimit-Limit-Objects", strconv.Itoa(int(ob.Size)))
	h.Set("X-Ratelimit-Limit-Per-Second-Objects", strconv.FormatFloat(ob.PerSec, 'f', 2, 64))
	h.Set("X-Ratelimit-Remaining-Objects", strconv.Itoa(int(ob.tokens)))
}

func decodeObjects(kind string, body []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var req struct {
		Objects  []any  `json:"objects"`
		Hostname string `json:"hostname"`
	}
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("the request body is not valid JSON: %v", err)
	}
	if len(req.Objects) == 0 {
		return nil, fmt.Errorf("objects must not be empty")
	}
	keys := make([]string, len(req.Objects))
	for i, o := range req.Objects {
		switch v := o.(type) {
		case json.Number:
			if kind != "cpcode" {
				return nil, fmt.Errorf("object %d: a number is not a %s", i, kind)
			}
			keys[i] = v.String()
		case string:
			if kind == "cpcode" {
				return nil, fmt.Errorf("object %d: CP codes must be numbers, got %q", i, v)
			}
			if kind == "url" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") && req.Hostname == "" {
				return nil, fmt.Errorf("object %d: %q is not an absolute URL", i, v)
			}
			keys[i] = v
		default:
			return nil, fmt.Errorf("object %d: unexpected %T", i, o)
		}
	}
	return keys, nil
}
