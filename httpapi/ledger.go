package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/offload-dev/offload/ledger"
)

// The ledger's routes name a key in the query, not the path: a key may hold
// any character, and a path would be cleaned ("a//b", "..") or redirected
// by the server before the handler saw it.
//
//	GET    /v1/ledger?bucket=B&key=K   the record and receipt held for the key
//	DELETE /v1/ledger?bucket=B&key=K   reset it: the key is as if never seen

// getLedger answers the ledger's entry for one key.
func (s *server) getLedger(w http.ResponseWriter, r *http.Request) {
	l, bucket, key, ok := s.ledgerKey(w, r)
	if !ok {
		return
	}
	e, err := ledger.Lookup(r.Context(), l, bucket, key)
	if !s.ledgerAnswered(w, err, "read") {
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// deleteLedger resets one key, its record and its receipt, and answers
// what it held: an operator's remedy for a record that must not stand,
// such as a crafted sequencer that makes every real change look stale.
func (s *server) deleteLedger(w http.ResponseWriter, r *http.Request) {
	l, bucket, key, ok := s.ledgerKey(w, r)
	if !ok {
		return
	}
	e, err := ledger.Lookup(r.Context(), l, bucket, key)
	if !s.ledgerAnswered(w, err, "read") {
		return
	}
	if !s.ledgerAnswered(w, l.Delete(r.Context(), bucket, key), "delete from") {
		return
	}
	held := ""
	if e.Record != nil {
		held = e.Record.Sequencer
	}
	s.Logger.Warn("ledger record reset by request", "bucket", bucket, "key", key, "sequencer", held, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, e)
}

// ledgerKey returns the ledger and the key the query names, or answers the
// caller's mistake itself.
func (s *server) ledgerKey(w http.ResponseWriter, r *http.Request) (ledger.Ledger, string, string, bool) {
	q := r.URL.Query()
	bucket, key := q.Get("bucket"), q.Get("key")
	missing := ""
	switch {
	case bucket == "" && key == "":
		missing = "bucket and key"
	case bucket == "":
		missing = "bucket"
	case key == "":
		missing = "key"
	}
	if missing != "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "the query needs "+missing+": ?bucket=B&key=K, the key percent-encoded")
		return nil, "", "", false
	}
	if err := ledger.CheckKey(bucket, key); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
		return nil, "", "", false
	}
	if s.Pipeline == nil {
		writeError(w, http.StatusServiceUnavailable, codeNotConfigured, "no pipeline: no ledger to read")
		return nil, "", "", false
	}
	return s.Pipeline.Options().Ledger, bucket, key, true
}

// ledgerAnswered answers err, if any, and reports whether the handler
// should go on.
func (s *server) ledgerAnswered(w http.ResponseWriter, err error, what string) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ledger.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, "the ledger holds nothing for this bucket and key")
	default:
		s.Logger.Error("httpapi: "+what+" the ledger", "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "cannot "+what+" the ledger")
	}
	return false
}
