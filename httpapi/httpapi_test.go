package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
)

func newPipeline(t testing.TB, opts pipeline.Options) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newInbox opens an inbox in a new database; now is its clock (nil:
// time.Now).
func newInbox(t testing.TB, now func() time.Time) *pipeline.Inbox {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "state.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func fixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../event/testdata/minio-webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEventsAuth(t *testing.T) {
	body := fixture(t)
	tokens := func(context.Context) ([]string, error) { return []string{"", "s3cret", "other"}, nil }
	tests := []struct {
		name   string
		tokens func(context.Context) ([]string, error)
		remote string
		auth   string
		want   int
	}{
		{"token", tokens, "10.1.2.3:5000", "Bearer s3cret", http.StatusAccepted},
		{"second token", tokens, "10.1.2.3:5000", "bearer other", http.StatusAccepted},
		{"wrong token", tokens, "10.1.2.3:5000", "Bearer s3cre", http.StatusUnauthorized},
		{"no header", tokens, "127.0.0.1:5000", "", http.StatusUnauthorized},
		{"empty token never matches", tokens, "127.0.0.1:5000", "Bearer ", http.StatusUnauthorized},
		{"basic scheme", tokens, "127.0.0.1:5000", "Basic czNjcmV0", http.StatusUnauthorized},
		{"tokens unreadable", func(context.Context) ([]string, error) { return nil, errors.New("ssm down") }, "127.0.0.1:5000", "Bearer s3cret", http.StatusServiceUnavailable},
		{"no tokens, loopback", nil, "127.0.0.1:5000", "", http.StatusAccepted},
		{"no tokens, IPv6 loopback", nil, "[::1]:5000", "", http.StatusAccepted},
		{"no tokens, remote", nil, "192.0.2.7:5000", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInbox(t, nil)
			h := httpapi.New(httpapi.Options{Inbox: in, Tokens: tt.tokens})
			req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
			req.RemoteAddr = tt.remote
			req.Header.Set("Content-Type", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := serve(t, h, req)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			wantDepth := 0
			if tt.want == http.StatusAccepted {
				wantDepth = 1
				var out struct{ ID uint64 }
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.ID == 0 {
					t.Errorf("body %s: want {\"id\": N}", rec.Body)
				}
			}
			if d := in.Depth(); d != wantDepth {
				t.Errorf("inbox depth %d, want %d", d, wantDepth)
			}
		})
	}
}

func TestEventsBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"event", tinyEvent, http.StatusAccepted},
		{"at the limit", tinyEventKey("kkkk"), http.StatusAccepted},
		{"too large", tinyEventKey("kkkkk"), http.StatusRequestEntityTooLarge},
		{"not JSON", `Records: []`, http.StatusBadRequest},
		{"empty", ``, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInbox(t, nil)
			h := httpapi.New(httpapi.Options{Inbox: in, MaxBody: 100})
			req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(tt.body))
			req.RemoteAddr = "127.0.0.1:40000"
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if rec := serve(t, h, req); rec.Code != tt.want {
				t.Errorf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestInboxRoutes(t *testing.T) {
	in := newInbox(t, nil)
	ctx := context.Background()
	id, err := in.Add(ctx, []byte(`{"bad":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Settle(ctx, []pipeline.Outcome{{ID: id, Err: "invalid record: no Records", Next: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Add(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Options{Inbox: in, Pipeline: newPipeline(t, pipeline.Options{Ledger: ledger.NewMemory()})})
	do := func(method, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		req.RemoteAddr = "127.0.0.1:40000"
		return serve(t, h, req)
	}

	rec := do(http.MethodGet, "/v1/inbox")
	var st pipeline.InboxStats
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/inbox: %d %s", rec.Code, rec.Body)
	}
	if st.Depth != 2 || st.Failing != 1 || st.Failures[0].LastErr != "invalid record: no Records" || st.Failures[0].Attempts != 1 {
		t.Errorf("GET /v1/inbox: %s; want depth 2 and the failing entry", rec.Body)
	}
	if !strings.Contains(rec.Body.String(), `"oldest_age_seconds"`) {
		t.Errorf("GET /v1/inbox: %s; want oldest_age_seconds", rec.Body)
	}

	if rec := do(http.MethodGet, "/v1/status"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"inbox_depth":2`) {
		t.Errorf("GET /v1/status: got %d %s, want inbox_depth 2", rec.Code, rec.Body)
	}
	if rec := do(http.MethodDelete, "/v1/inbox/x"); rec.Code != http.StatusBadRequest {
		t.Errorf("DELETE /v1/inbox/x: %d, want 400", rec.Code)
	}
	if rec := do(http.MethodDelete, "/v1/inbox/999"); rec.Code != http.StatusNotFound {
		t.Errorf("DELETE /v1/inbox/999: %d, want 404", rec.Code)
	}
	if rec := do(http.MethodDelete, "/v1/inbox/1"); rec.Code != http.StatusNoContent {
		t.Errorf("DELETE /v1/inbox/1: %d %s, want 204", rec.Code, rec.Body)
	}
	if d := in.Depth(); d != 1 {
		t.Errorf("depth %d after delete, want 1", d)
	}
	if rec := do(http.MethodGet, "/v1/events"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/events: %d, want 405", rec.Code)
	}
}
