package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/offload-dev/offload/event"
)

// postPlan plans the events in the body, in any envelope event.Decode
// reads, against the ledger, and answers the plan. Nothing is applied or
// recorded.
func (s *server) postPlan(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	if !json.Valid(body) {
		writeError(w, http.StatusBadRequest, codeInvalidJSON, "the body is not JSON: want events in any envelope offload reads (S3, SNS, SQS, EventBridge, a webhook)")
		return
	}
	if s.Pipeline == nil {
		writeError(w, http.StatusServiceUnavailable, codeNotConfigured, "no pipeline: nothing to plan with")
		return
	}
	pl, err := s.Pipeline.MakePlan(r.Context(), event.Decode(body))
	if err != nil {
		s.Logger.Error("httpapi: plan", "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "cannot read the ledger to plan")
		return
	}
	writeJSON(w, http.StatusOK, pl)
}
