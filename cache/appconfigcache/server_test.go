package appconfigcache_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/appconfigdata"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/awstest"
)

// fakeAppConfig is the AppConfig Data service on 127.0.0.1, as the SDK
// talks to it (REST-JSON, see the SDK's serializers.go and
// deserializers.go): POST /configurationsessions with a JSON body answers
// 201 {"InitialConfigurationToken": ...}; GET
// /configuration?configuration_token=T answers 200 with the configuration as
// the body (empty when the session already has the latest) and the headers
// Next-Poll-Configuration-Token, Next-Poll-Interval-In-Seconds, Content-Type
// and Version-Label. It checks what the service checks: unknown resources
// (ResourceNotFoundException), tokens that are unknown, used twice or
// expired, and polls before the interval (BadRequestException with the
// service's InvalidParameters details).
type fakeAppConfig struct {
	*httptest.Server
	clock cache.Clock

	mu      sync.Mutex
	configs map[[3]string]*hosted
	tokens  map[string]*token
	seq     int
	calls   map[string]int
	faults  []fault
	rejects []string // rejected calls, "op: problem", for failure messages
}

type hosted struct {
	data        []byte
	contentType string
	label       string
	version     int
}

type token struct {
	target    [3]string
	issued    time.Time
	notBefore time.Time
	interval  int
	seen      int // the hosted version this session last delivered; 0 = none
	used      bool
}

type fault struct {
	op     string
	status int
	code   string
}

const (
	opStart = "StartConfigurationSession"
	opGet   = "GetLatestConfiguration"
)

func newFakeAppConfig(clock cache.Clock) *fakeAppConfig {
	s := &fakeAppConfig{clock: clock, configs: map[[3]string]*hosted{}, tokens: map[string]*token{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/configurationsessions", s.start)
	mux.HandleFunc("/configuration", s.get)
	s.Server = httptest.NewServer(mux)
	return s
}

// set deploys a configuration (a new version of it if it exists).
func (s *fakeAppConfig) set(app, env, profile, contentType, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [3]string{app, env, profile}
	h := s.configs[k]
	if h == nil {
		h = &hosted{}
		s.configs[k] = h
	}
	h.version++
	h.data, h.contentType, h.label = []byte(data), contentType, "v"+strconv.Itoa(h.version)
}

// fail makes the next call of op answer with an AWS error.
func (s *fakeAppConfig) fail(op string, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{op, status, code})
}

// forgetTokens drops every token, as if each had been rejected.
func (s *fakeAppConfig) forgetTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]*token{}
}

func (s *fakeAppConfig) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *fakeAppConfig) counts() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("start=%d get=%d rejected=%v", s.calls[opStart], s.calls[opGet], s.rejects)
}

func (s *fakeAppConfig) resetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.rejects = map[string]int{}, nil
}

// sdk returns a real AppConfig Data client for the server.
func (s *fakeAppConfig) sdk() *appconfigdata.Client {
	return appconfigdata.NewFromConfig(awstest.Config(s.URL))
}

func (s *fakeAppConfig) takeFault(op string) *fault {
	for i, f := range s.faults {
		if f.op == op || f.op == "" {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return &f
		}
	}
	return nil
}

// signed checks that the request carries a SigV4 signature, as every call
// to the service must.
func signed(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") && r.Header.Get("X-Amz-Date") != ""
}

func (s *fakeAppConfig) start(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[opStart]++
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException", "method "+r.Method, nil)
		return
	}
	if !signed(r) {
		writeError(w, http.StatusForbidden, "UnrecognizedClientException", "missing signature", nil)
		return
	}
	if f := s.takeFault(opStart); f != nil {
		writeError(w, f.status, f.code, "injected", nil)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.reject(w, opStart, "Content-Type "+ct, http.StatusBadRequest, "BadRequestException", nil)
		return
	}
	var in struct {
		ApplicationIdentifier                string
		EnvironmentIdentifier                string
		ConfigurationProfileIdentifier       string
		RequiredMinimumPollIntervalInSeconds *int
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.reject(w, opStart, "body: "+err.Error(), http.StatusBadRequest, "BadRequestException", nil)
		return
	}
	interval := 60 // the service's default
	if p := in.RequiredMinimumPollIntervalInSeconds; p != nil {
		if *p < 15 || *p > 86400 {
			s.reject(w, opStart, "interval "+strconv.Itoa(*p), http.StatusBadRequest, "BadRequestException",
				map[string]string{"RequiredMinimumPollIntervalInSeconds": "Corrupted"})
			return
		}
		interval = *p
	}
	k := [3]string{in.ApplicationIdentifier, in.EnvironmentIdentifier, in.ConfigurationProfileIdentifier}
	if kind := s.missing(k); kind != "" {
		s.rejects = append(s.rejects, opStart+": no "+kind)
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"Message": "Requested resource not found", "ResourceType": kind,
			"ReferencedBy": map[string]string{kind: k[0]}})
		return
	}
	s.seq++
	tok := fmt.Sprintf("tok-%d", s.seq)
	s.tokens[tok] = &token{target: k, issued: s.clock.Now(), interval: interval}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"InitialConfigurationToken": tok})
}

// missing names the kind of resource that does not exist, or "".
func (s *fakeAppConfig) missing(k [3]string) string {
	var app, env bool
	for c := range s.configs {
		if c[0] == k[0] {
			app = true
			if c[1] == k[1] {
				env = true
			}
		}
	}
	switch {
	case !app:
		return "Application"
	case !env:
		return "Environment"
	case s.configs[k] == nil:
		return "ConfigurationProfile"
	}
	return ""
}

func (s *fakeAppConfig) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[opGet]++
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException", "method "+r.Method, nil)
		return
	}
	if !signed(r) {
		writeError(w, http.StatusForbidden, "UnrecognizedClientException", "missing signature", nil)
		return
	}
	if f := s.takeFault(opGet); f != nil {
		writeError(w, f.status, f.code, "injected", nil)
		return
	}
	now := s.clock.Now()
	tok := r.URL.Query().Get("configuration_token")
	t := s.tokens[tok]
	switch {
	case t == nil || t.used:
		s.reject(w, opGet, "token "+tok+" unknown or used", http.StatusBadRequest, "BadRequestException",
			map[string]string{"ConfigurationToken": "Corrupted"})
		return
	case now.Sub(t.issued) >= 24*time.Hour:
		s.reject(w, opGet, "token "+tok+" expired", http.StatusBadRequest, "BadRequestException",
			map[string]string{"ConfigurationToken": "Expired"})
		return
	case now.Before(t.notBefore):
		s.reject(w, opGet, "token "+tok+" polled early", http.StatusBadRequest, "BadRequestException",
			map[string]string{"ConfigurationToken": "PollIntervalNotSatisfied"})
		return
	}
	h := s.configs[t.target]
	if h == nil {
		s.reject(w, opGet, "configuration deleted", http.StatusNotFound, "ResourceNotFoundException", nil)
		return
	}
	t.used = true
	s.seq++
	next := fmt.Sprintf("tok-%d", s.seq)
	s.tokens[next] = &token{target: t.target, issued: now, notBefore: now.Add(time.Duration(t.interval) * time.Second),
		interval: t.interval, seen: h.version}
	w.Header().Set("Next-Poll-Configuration-Token", next)
	w.Header().Set("Next-Poll-Interval-In-Seconds", strconv.Itoa(t.interval))
	w.Header().Set("Content-Type", h.contentType)
	if t.seen == h.version {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Version-Label", h.label)
	w.WriteHeader(http.StatusOK)
	w.Write(h.data)
}

func (s *fakeAppConfig) reject(w http.ResponseWriter, op, why string, status int, code string, params map[string]string) {
	s.rejects = append(s.rejects, op+": "+why)
	writeError(w, status, code, why, params)
}

// writeError answers as the service does: the code in X-Amzn-ErrorType, a
// JSON body with Message, and for a bad parameter the Reason and Details.
func writeError(w http.ResponseWriter, status int, code, msg string, params map[string]string) {
	body := map[string]any{"Message": msg}
	if len(params) > 0 {
		inv := map[string]any{}
		for k, v := range params {
			inv[k] = map[string]string{"Problem": v}
		}
		body["Reason"] = "InvalidParameters"
		body["Details"] = map[string]any{"InvalidParameters": inv}
	}
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
