package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// GET /healthz, public, says up or down and nothing else: no target
// names, no inbox depth. The details are behind a token, at GET
// /v1/status.
func TestHealthzSaysOnlyUpOrDown(t *testing.T) {
	e := newEnv(t, withTokens)
	if _, err := e.inbox.Add(t.Context(), []byte(tinyEvent)); err != nil {
		t.Fatal(err)
	}
	rec := e.do(req{method: "GET", target: "/healthz", remote: "192.0.2.1:1"})
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200 JSON", rec.Code, rec.Body)
	}
	if len(got) != 1 || got["status"] != "ok" {
		t.Errorf("got %s, want {\"status\":\"ok\"} alone", rec.Body)
	}

	e.clock.Advance(time.Second)
	if rec := e.do(req{method: "GET", target: "/v1/status", remote: "192.0.2.1:1"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /v1/status without a token: got %d, want 401", rec.Code)
	}
	rec = e.do(req{method: "GET", target: "/v1/status", remote: "192.0.2.1:1", header: map[string]string{"Authorization": "Bearer admin-s3cret"}})
	var st struct {
		Status     string
		InboxDepth int `json:"inbox_depth"`
		Targets    []string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/status: got %d %s, want 200", rec.Code, rec.Body)
	}
	if st.Status != "ok" || st.InboxDepth != 1 || len(st.Targets) != 3 || st.Targets[0] != "ak" {
		t.Errorf("GET /v1/status: got %+v, want ok, depth 1, targets [ak cf edge]", st)
	}
}
