package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
)

// Inbox is what the handlers need of the durable inbox; *pipeline.Inbox is
// one.
type Inbox interface {
	Add(ctx context.Context, body []byte) (uint64, error)
	Stats(ctx context.Context, maxFailures int) (pipeline.InboxStats, error)
	Delete(ctx context.Context, id uint64) error
}

// Credential is a token and the routes it may call.
type Credential struct {
	Token string
	// Routes are the routes allowed, as Routes names them ("POST
	// /v1/events"); empty allows every route.
	Routes []string
	// Rate and Burst override Options.Rate and Options.Burst for this
	// token, such as a higher rate for a webhook sender that delivers
	// bursts of events. 0: the Options' values.
	Rate  float64
	Burst int
}

// Options configure the handler. Inbox is required.
type Options struct {
	// Inbox receives every accepted event before the answer.
	Inbox Inbox
	// Pipeline is what applies the inbox's events: its Purgers serve
	// POST /v1/purges, its planner POST /v1/plan, and GET /v1/status lists
	// its targets. Optional; without it those two routes answer 503.
	Pipeline *pipeline.Pipeline
	// Tokens returns the tokens accepted on every route that needs one
	// (called per request, so a rotated secret is picked up; cache behind
	// it). Nil, with Credentials nil too: only loopback callers are served.
	Tokens func(ctx context.Context) ([]string, error)
	// Credentials returns tokens limited to some routes, such as a webhook
	// sender's token for POST /v1/events alone. Optional.
	Credentials func(ctx context.Context) ([]Credential, error)
	// Rate is the requests a second each token may make on average, and
	// Burst how many at once. Default 10 and 20. POST /v1/events is not
	// limited unless the token's Credential sets a Rate of its own. Loopback callers, when no
	// tokens are configured, share one bucket.
	Rate  float64
	Burst int
	// MaxBody is the largest request body accepted on any route. Default
	// 10 MiB.
	MaxBody int64
	// MaxFailures is how many failing entries GET /v1/inbox lists. Default 100.
	MaxFailures int
	// PurgeTimeout bounds a POST /v1/purges call to the provider, retries
	// included. Default 1m.
	PurgeTimeout time.Duration
	// Monitor counts what passes, for /metrics and the dashboard. Pass the
	// one whose Wrap wraps the inbox worker's Applier. Default: a new one,
	// which sees only this handler's traffic.
	Monitor *Monitor
	// CacheStats reports the process's cache (cache.Cache.Stats), for
	// /metrics and the dashboard. Optional.
	CacheStats func() []cache.Stats
	// Now tells the time (rate limits, ages). Default time.Now.
	Now func() time.Time
	// Logger logs requests that fail on the server's side. Default slog.Default().
	Logger *slog.Logger
	// Redact is applied to every answer's body before it is sent: what
	// keeps a secret that a provider echoed in an error out of the API's
	// answers and the dashboard. offload serve gives a function that
	// replaces every value its config.Resolver has read. Nil: bodies go as
	// they are. The Logger's output is its owner's to redact.
	Redact func(string) string
}

// route is one route: its name (as scoped tokens and the OpenAPI document
// name it), its ServeMux pattern, and whether it needs a token.
type route struct {
	name, pattern string
	public        bool
	h             func(*server, http.ResponseWriter, *http.Request)
}

var routes = []route{
	{"POST /v1/events", "POST /v1/events", false, (*server).postEvents},
	{"GET /v1/inbox", "GET /v1/inbox", false, (*server).getInbox},
	{"DELETE /v1/inbox/{id}", "DELETE /v1/inbox/{id}", false, (*server).deleteEntry},
	{"GET /v1/inbox/dead", "GET /v1/inbox/dead", false, (*server).getDeadLetters},
	{"POST /v1/inbox/dead/{id}/replay", "POST /v1/inbox/dead/{id}/replay", false, (*server).replayDeadLetter},
	{"DELETE /v1/inbox/dead/{id}", "DELETE /v1/inbox/dead/{id}", false, (*server).discardDeadLetter},
	{"POST /v1/purges", "POST /v1/purges", false, (*server).postPurge},
	{"GET /v1/purges/{id}", "GET /v1/purges/{id}", false, (*server).getPurge},
	{"POST /v1/plan", "POST /v1/plan", false, (*server).postPlan},
	{"GET /v1/status", "GET /v1/status", false, (*server).status},
	{"GET /v1/ledger", "GET /v1/ledger", false, (*server).getLedger},
	{"DELETE /v1/ledger", "DELETE /v1/ledger", false, (*server).deleteLedger},
	{"GET /metrics", "GET /metrics", false, (*server).metrics},
	{"GET /", "GET /{$}", false, (*server).dashboard},
	{"GET /healthz", "GET /healthz", true, (*server).healthz},
	{"GET /openapi.yaml", "GET /openapi.yaml", true, (*server).openapi},
}

// Routes returns the name of every route, "METHOD /path", in the order the
// package documents them.
func Routes() []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.name
	}
	return out
}

// New returns the handler.
func New(opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 10 << 20
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 100
	}
	if opts.Rate <= 0 {
		opts.Rate = 10
	}
	if opts.Burst <= 0 {
		opts.Burst = 20
	}
	if opts.PurgeTimeout <= 0 {
		opts.PurgeTimeout = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Monitor == nil {
		opts.Monitor = NewMonitor(MonitorOptions{Now: opts.Now})
	}
	s := &server{
		Options:  opts,
		mux:      http.NewServeMux(),
		byPat:    map[string]*route{},
		limits:   newLimiter(opts.Now),
		failures: newLimiter(opts.Now),
	}
	for i := range routes {
		rt := &routes[i]
		s.byPat[rt.pattern] = rt
		s.mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) { rt.h(s, w, r) })
	}
	return s
}

type server struct {
	Options
	mux      *http.ServeMux
	byPat    map[string]*route
	limits   *limiter // requests, by token
	failures *limiter // failed authentications, by client address
}

// ServeHTTP finds the route, then checks in turn the caller's address for
// failed authentications, its token, its rate and the body's size, before
// the route's handler runs.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, redact: s.Redact}
	rt := s.route(r)
	name := "unmatched"
	if rt != nil {
		name = rt.name
	}
	defer func() { s.Monitor.request(name, sw.code()) }()

	if rt == nil {
		s.unmatched(sw, r)
		return
	}
	if !rt.public {
		if s.Tokens != nil || s.Credentials != nil {
			if s.failing(sw, r) {
				return
			}
		}
		c, ok := s.authorize(sw, r, rt.name)
		if !ok {
			return
		}
		// The webhook is not limited unless its token says so: the durable
		// inbox absorbs a burst, and a refused notification may be lost at
		// the sender (MinIO drops it after its retries).
		if rt.name != "POST /v1/events" || c.Rate > 0 {
			if ok, wait := s.limits.allow(c.key, cmp.Or(c.Rate, s.Rate), cmp.Or(c.Burst, s.Burst)); !ok {
				sw.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
				writeError(sw, http.StatusTooManyRequests, codeRateLimited, "too many requests for this token; retry after the time Retry-After gives")
				return
			}
		}
	}
	if r.ContentLength > s.MaxBody {
		writeError(sw, http.StatusRequestEntityTooLarge, codeTooLarge, "the body is larger than "+strconv.FormatInt(s.MaxBody, 10)+" bytes")
		return
	}
	r.Body = http.MaxBytesReader(sw, r.Body, s.MaxBody)
	s.mux.ServeHTTP(sw, r)
}

// route returns the route r is for, or nil.
func (s *server) route(r *http.Request) *route {
	_, pattern := s.mux.Handler(r)
	return s.byPat[pattern]
}

// unmatched answers a request no route takes: 405 with Allow when the path
// has routes for other methods, else 404.
func (s *server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if s.route(r2) != nil {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, r.Method+" is not allowed here; allowed: "+strings.Join(allow, ", "))
		return
	}
	writeError(w, http.StatusNotFound, codeNotFound, "no such route; GET /openapi.yaml lists them")
}

// readBody reads a request body within MaxBody, answering 413 or 400 itself
// when it cannot; ok reports whether the handler should go on.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, "the body is larger than "+strconv.FormatInt(s.MaxBody, 10)+" bytes")
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, codeBadRequest, "read the body: "+err.Error())
		return nil, false
	}
	return body, true
}

func (s *server) postEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	if !json.Valid(body) {
		// Nothing that is not JSON can ever become a change: say so now,
		// rather than keep it in the inbox.
		writeError(w, http.StatusBadRequest, codeInvalidJSON, "the body is not JSON: want an S3 event notification")
		return
	}
	// What can never become a change is refused now, rather than kept in
	// the inbox to fail there forever. Decode, not DecodeMessage: the ids
	// of messages inside the body (an SQS batch) say where a problem is;
	// which changes are invalid is the same either way.
	changes := event.Decode(body)
	if msg := unprocessable(changes); msg != "" {
		writeError(w, http.StatusBadRequest, codeInvalidEvent, msg)
		return
	}
	id, err := s.Inbox.Add(r.Context(), body)
	if err != nil {
		s.Logger.Error("httpapi: store event", "err", err, "bytes", len(body))
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "the event could not be stored; send it again")
		return
	}
	s.Monitor.eventReceived()
	writeJSON(w, http.StatusAccepted, accepted{ID: id})
}

// accepted is the answer to an event stored.
type accepted struct {
	ID uint64 `json:"id"`
}

// maxEventErrors bounds the problems an invalid_event answer lists.
const maxEventErrors = 5

// unprocessable says why decoded changes cannot be applied, "" when they
// can: a body without changes, or any change event.Decode found invalid
// (its Err says what and where) or the planner would (plan.Check). One bad record refuses the whole body:
// the sender's delivery is the unit it retries, and a 202 for part of it
// would hide the rest. An s3:TestEvent is applied as any event is: the
// pipeline skips it, and the dashboard shows that notifications arrive.
func unprocessable(changes []event.Change) string {
	if len(changes) == 0 {
		return "the event has no changes: want an S3 event notification with at least one record"
	}
	var errs []string
	n := 0
	for _, c := range changes {
		why := plan.Check(c) // a key or sequencer no store gives: the planner would refuse it
		if c.Kind != event.KindInvalid && why == "" {
			continue
		}
		if n++; len(errs) < maxEventErrors {
			if c.Err == "" && why != "" {
				// The decoder's Err says where; the planner's reason needs the
				// object (a crafted key may be long: cut to 100 characters).
				why = fmt.Sprintf("%s/%.100q: %s", c.Bucket, c.Key, why)
			}
			msg := cmp.Or(c.Err, why, "invalid")
			if c.MessageID != "" {
				msg = "message " + quote(c.MessageID) + ": " + msg
			}
			errs = append(errs, msg)
		}
	}
	if n == 0 {
		return ""
	}
	msg := "the event cannot be processed: " + strings.Join(errs, "; ")
	if n > len(errs) {
		msg += "; and " + strconv.Itoa(n-len(errs)) + " more"
	}
	return msg
}

func (s *server) getInbox(w http.ResponseWriter, r *http.Request) {
	st, err := s.Inbox.Stats(r.Context(), s.MaxFailures)
	if err != nil {
		s.Logger.Error("httpapi: inbox stats", "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, "cannot read the inbox")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) deleteEntry(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "an entry id is a positive integer")
		return
	}
	switch err := s.Inbox.Delete(r.Context(), id); {
	case errors.Is(err, pipeline.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, err.Error())
	case err != nil:
		s.Logger.Error("httpapi: delete inbox entry", "entry", id, "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, "cannot delete the entry")
	default:
		s.Logger.Warn("inbox entry deleted by request", "entry", id, "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusNoContent)
	}
}

// healthz says up or down, to anyone: nothing an unauthenticated caller
// could learn the deployment from. GET /v1/status has the details.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Inbox.Stats(r.Context(), 0); err != nil {
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "not ready")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// status is health with its details, for callers with a token.
func (s *server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.Inbox.Stats(r.Context(), 0)
	if err != nil {
		s.Logger.Error("httpapi: inbox stats", "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "cannot read the inbox")
		return
	}
	targets := []string{}
	if s.Pipeline != nil {
		targets = s.targets()
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "inbox_depth": st.Depth, "targets": targets})
}

// targets returns the pipeline's target names, sorted.
func (s *server) targets() []string {
	targets := make([]string, 0, len(s.Pipeline.Options().Purgers))
	for name := range s.Pipeline.Options().Purgers {
		targets = append(targets, name)
	}
	slices.Sort(targets)
	return targets
}

var _ Inbox = (*pipeline.Inbox)(nil)
