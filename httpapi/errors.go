package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
)

// Error codes: the stable part of every error answer,
// {"error": {"code": "...", "message": "..."}}. Messages are for people and
// may change; codes do not.
const (
	codeBadRequest       = "bad_request"
	codeInvalidJSON      = "invalid_json"
	codeInvalidEvent     = "invalid_event"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "too_large"
	codeRateLimited      = "rate_limited"
	codeUnknownTarget    = "unknown_target"
	codeUnsupported      = "unsupported"
	codePurgeFailed      = "purge_failed"
	codeNotConfigured    = "not_configured"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
)

// apiError is the body of every error answer.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// ID names the purge a purge_failed error recorded: GET
	// /v1/purges/{id} has its per-item failures.
	ID string `json:"id,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{errorBody{Code: code, Message: msg}})
}

// statusWriter remembers the status code written, for metrics, and
// passes every byte of the body through redact (nil: as it is). Each
// handler writes its body at once (an error, a JSON answer, the dashboard),
// so a secret is never split between two writes; /metrics, written in
// chunks, holds no secret values.
type statusWriter struct {
	http.ResponseWriter
	status int
	redact func(string) string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.redact == nil {
		return w.ResponseWriter.Write(b)
	}
	if _, err := io.WriteString(w.ResponseWriter, w.redact(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
