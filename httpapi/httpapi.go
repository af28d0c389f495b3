package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/offload-dev/offload/pipeline"
)

// Inbox is what the handlers need of the durable inbox; *pipeline.Inbox is
// one.
type Inbox interface {
	Add(ctx context.Context, body []byte) (uint64, error)
	Stats(ctx context.Context, maxFailures int) (pipeline.InboxStats, error)
	Delete(ctx context.Context, id uint64) error
}

// Options configure the handler. Inbox is required.
type Options struct {
	// Inbox receives every accepted event before the answer.
	Inbox Inbox
	// Pipeline is what applies the inbox's events; /healthz lists its
	// targets. Optional.
	Pipeline *pipeline.Pipeline
	// Tokens returns the bearer tokens accepted on /v1/ (called per
	// request, so a rotated secret is picked up; cache behind it). Nil: no
	// tokens, and only loopback callers are served.
	Tokens func(ctx context.Context) ([]string, error)
	// MaxBody is the largest event body accepted. Default 10 MiB.
	MaxBody int64
	// MaxFailures is how many failing entries GET /v1/inbox lists. Default 100.
	MaxFailures int
	// Logger logs requests that fail on the server's side. Default slog.Default().
	Logger *slog.Logger
}

// New returns the handler.
func New(opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 10 << 20
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 100
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{Options: opts}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/events", s.auth(s.postEvents))
	mux.Handle("GET /v1/inbox", s.auth(s.getInbox))
	mux.Handle("DELETE /v1/inbox/{id}", s.auth(s.deleteEntry))
	mux.HandleFunc("GET /healthz", s.healthz)
	return mux
}

type server struct {
	Options
}

// auth lets through a request with a valid bearer token, or with no tokens
// configured, one from loopback.
func (s *server) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Tokens == nil {
			if !isLoopback(r.RemoteAddr) {
				writeError(w, http.StatusForbidden, "no tokens are configured: only loopback callers are served")
				return
			}
			next(w, r)
			return
		}
		tokens, err := s.Tokens(r.Context())
		if err != nil {
			s.Logger.Error("httpapi: read tokens", "err", err)
			writeError(w, http.StatusServiceUnavailable, "cannot read the configured tokens")
			return
		}
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || !validToken(got, tokens) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="offload"`)
			writeError(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		next(w, r)
	})
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// validToken compares got with every token in constant time: hashing first
// hides the lengths, and no comparison stops early.
func validToken(got string, tokens []string) bool {
	g := sha256.Sum256([]byte(got))
	ok := 0
	for _, t := range tokens {
		if t == "" {
			continue // an unset secret is not an empty password
		}
		h := sha256.Sum256([]byte(t))
		ok |= subtle.ConstantTimeCompare(g[:], h[:])
	}
	return ok == 1
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *server) postEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(s.MaxBody, 10)+" bytes")
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "read the body: "+err.Error())
		return
	case !json.Valid(body):
		// Nothing that is not JSON can ever become a change: say so now,
		// rather than keep it in the inbox.
		writeError(w, http.StatusBadRequest, "the body is not JSON: want an S3 event notification")
		return
	}
	id, err := s.Inbox.Add(r.Context(), body)
	if err != nil {
		s.Logger.Error("httpapi: store event", "err", err, "bytes", len(body))
		writeError(w, http.StatusServiceUnavailable, "the event could not be stored; send it again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id})
}

func (s *server) getInbox(w http.ResponseWriter, r *http.Request) {
	st, err := s.Inbox.Stats(r.Context(), s.MaxFailures)
	if err != nil {
		s.Logger.Error("httpapi: inbox stats", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot read the inbox")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) deleteEntry(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "an entry id is a positive integer")
		return
	}
	switch err := s.Inbox.Delete(r.Context(), id); {
	case errors.Is(err, pipeline.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		s.Logger.Error("httpapi: delete inbox entry", "entry", id, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot delete the entry")
	default:
		s.Logger.Warn("inbox entry deleted by request", "entry", id, "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	st, err := s.Inbox.Stats(r.Context(), 0)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot read the inbox")
		return
	}
	out := map[string]any{"status": "ok", "inbox_depth": st.Depth}
	if s.Pipeline != nil {
		targets := make([]string, 0, len(s.Pipeline.Purgers))
		for name := range s.Pipeline.Purgers {
			targets = append(targets, name)
		}
		slices.Sort(targets)
		out["targets"] = targets
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

var _ Inbox = (*pipeline.Inbox)(nil)
