package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/httpapi"
)

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../event/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every route, through the handler, with its answers checked against the
// OpenAPI document.
func TestRoutes(t *testing.T) {
	tests := []struct {
		name   string
		req    req
		want   int
		code   string // error code, for errors
		substr string // in the body
	}{
		{"event", req{method: "POST", target: "/v1/events", body: testdata(t, "minio-webhook.json")}, 202, "", `"id":1`},
		{"event not JSON", req{method: "POST", target: "/v1/events", body: "Records: []"}, 400, "invalid_json", ""},
		{"event empty", req{method: "POST", target: "/v1/events"}, 400, "invalid_json", ""},
		{"inbox", req{method: "GET", target: "/v1/inbox"}, 200, "", `"oldest_age_seconds"`},
		{"delete bad id", req{method: "DELETE", target: "/v1/inbox/x"}, 400, "bad_request", ""},
		{"delete unknown", req{method: "DELETE", target: "/v1/inbox/999"}, 404, "not_found", ""},
		{"purge CloudFront paths", req{method: "POST", target: "/v1/purges", body: `{"target":"cf","paths":["/docs/a%20b.html","/"]}`}, 202, "", `"state":"in_progress"`},
		{"purge Akamai URLs", req{method: "POST", target: "/v1/purges", body: `{"target":"ak","urls":["https://www.example.com/a"]}`}, 202, "", `"estimated_seconds":5`},
		{"purge Varnish", req{method: "POST", target: "/v1/purges", body: `{"target":"edge","urls":["http://www.example.com/a"]}`}, 200, "", `"state":"done"`},
		{"purge tags", req{method: "POST", target: "/v1/purges", body: `{"target":"edge","tags":["product-42"]}`}, 200, "", `"kind":"tag"`},
		{"purge partly failed", req{method: "POST", target: "/v1/purges", body: `{"target":"edge","paths":["/ok","/fail"]}`}, 200, "", `"state":"partial"`},
		{"purge failed", req{method: "POST", target: "/v1/purges", body: `{"target":"edge","paths":["/fail"]}`}, 502, "purge_failed", `"id":"`},
		{"purge unknown target", req{method: "POST", target: "/v1/purges", body: `{"target":"nope","paths":["/"]}`}, 400, "unknown_target", `ak, cf, edge`},
		{"purge bad JSON", req{method: "POST", target: "/v1/purges", body: `{"target":`}, 400, "invalid_json", ""},
		{"purge unknown field", req{method: "POST", target: "/v1/purges", body: `{"target":"cf","path":["/"]}`}, 400, "invalid_json", "unknown field"},
		{"purge nothing", req{method: "POST", target: "/v1/purges", body: `{"target":"cf"}`}, 400, "bad_request", "nothing to purge"},
		{"purge no target", req{method: "POST", target: "/v1/purges", body: `{"paths":["/"]}`}, 400, "bad_request", "target is required"},
		{"purge relative path", req{method: "POST", target: "/v1/purges", body: `{"target":"cf","paths":["docs/"]}`}, 400, "bad_request", "start with /"},
		{"purge relative URL", req{method: "POST", target: "/v1/purges", body: `{"target":"ak","urls":["www.example.com/"]}`}, 400, "bad_request", "absolute"},
		{"purge unknown id", req{method: "GET", target: "/v1/purges/0123456789abcdef"}, 404, "not_found", ""},
		{"plan S3", req{method: "POST", target: "/v1/plan", body: testdata(t, "s3-put.json")}, 200, "", `"reason":"new"`},
		{"plan EventBridge", req{method: "POST", target: "/v1/plan", body: testdata(t, "eventbridge-created.json")}, 200, "", `"/img/a%20b+c.png"`},
		{"plan SQS", req{method: "POST", target: "/v1/plan", body: testdata(t, "sqs-mixed.json")}, 200, "", `"decision":"purge"`},
		{"plan test event", req{method: "POST", target: "/v1/plan", body: testdata(t, "s3-test-event.json")}, 200, "", `"reason":"test-event"`},
		{"plan not JSON", req{method: "POST", target: "/v1/plan", body: "<xml/>"}, 400, "invalid_json", ""},
		{"metrics", req{method: "GET", target: "/metrics"}, 200, "", "# TYPE offload_events_received_total counter"},
		{"dashboard", req{method: "GET", target: "/"}, 200, "", "<title>offload</title>"},
		{"healthz", req{method: "GET", target: "/healthz"}, 200, "", `{"status":"ok"}`},
		{"status", req{method: "GET", target: "/v1/status"}, 200, "", `"targets":["ak","cf","edge"]`},
		{"healthz remote, no token needed", req{method: "GET", target: "/healthz", remote: "192.0.2.1:1"}, 200, "", `"status":"ok"`},
		{"openapi", req{method: "GET", target: "/openapi.yaml"}, 200, "", "openapi: 3.0"},
		{"unknown route", req{method: "GET", target: "/v2/nothing"}, 404, "not_found", ""},
		{"wrong method", req{method: "GET", target: "/v1/events"}, 405, "method_not_allowed", ""},
		{"wrong method on a pattern", req{method: "PUT", target: "/v1/purges/abc"}, 405, "method_not_allowed", ""},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second) // within the rate limit
			rec := e.do(tt.req)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.code != "" {
				if got := errorCode(t, rec); got != tt.code {
					t.Errorf("error code %q, want %q", got, tt.code)
				}
			}
			if !strings.Contains(rec.Body.String(), tt.substr) {
				t.Errorf("body %s; want it to contain %s", rec.Body, tt.substr)
			}
		})
	}
}

func TestMethodNotAllowedSaysWhatIs(t *testing.T) {
	e := newEnv(t)
	rec := e.do(req{method: "DELETE", target: "/v1/purges"})
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("got %d, Allow %q; want 405, Allow POST", rec.Code, rec.Header().Get("Allow"))
	}
}

// A purge is followed to completion through GET /v1/purges/{id}.
func TestPurgeFollowed(t *testing.T) {
	e := newEnv(t)
	rec := e.do(req{method: "POST", target: "/v1/purges", body: `{"target":"cf","paths":["/a","/b"]}`})
	var p struct {
		ID, State string
		Done      bool
		Calls     []struct {
			ID, State string
			Done      bool
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusAccepted || p.ID == "" {
		t.Fatalf("POST /v1/purges: %d %s", rec.Code, rec.Body)
	}
	if loc := rec.Header().Get("Location"); loc != "/v1/purges/"+p.ID {
		t.Errorf("Location %q, want /v1/purges/%s", loc, p.ID)
	}
	get := func() {
		t.Helper()
		rec := e.do(req{method: "GET", target: "/v1/purges/" + p.ID})
		if rec.Code != http.StatusOK {
			t.Fatalf("GET: %d %s", rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
	}
	get()
	if p.State != "in_progress" || p.Done || len(p.Calls) != 1 || p.Calls[0].State != "InProgress" {
		t.Errorf("before: %+v; want in_progress", p)
	}
	e.cf.finish()
	get()
	if p.State != "done" || !p.Done || p.Calls[0].State != "Completed" || !p.Calls[0].Done {
		t.Errorf("after: %+v; want done, Completed", p)
	}
	if got := e.cf.reqs[0]; len(got.Items) != 2 || got.ID == "" {
		t.Errorf("the purger got %+v; want 2 items and an id", got)
	}
}

// Akamai's estimate is reported as a completion time.
func TestPurgeEstimatedCompletion(t *testing.T) {
	e := newEnv(t)
	rec := e.do(req{method: "POST", target: "/v1/purges", body: `{"target":"ak","urls":["https://www.example.com/x"]}`})
	var p struct {
		Calls []struct {
			EstimatedSeconds    float64 `json:"estimated_seconds"`
			EstimatedCompletion string  `json:"estimated_completion"`
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || len(p.Calls) != 1 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	want := e.clock.Now().Add(5e9).Format("2006-01-02T15:04:05Z07:00")
	if c := p.Calls[0]; c.EstimatedSeconds != 5 || c.EstimatedCompletion != want {
		t.Errorf("got %+v; want 5s, completion %s", c, want)
	}
}

// The pipeline's purges are recorded too, and can be looked up.
func TestPipelinePurgesRecorded(t *testing.T) {
	e := newEnv(t)
	res := e.apply(testdata(t, "minio-webhook.json"))
	if res == nil || len(res.Purges) != 2 {
		t.Fatalf("apply: %+v; want purges to cf and edge", res)
	}
	rec := e.do(req{method: "GET", target: "/"})
	if !strings.Contains(rec.Body.String(), "pipeline") {
		t.Errorf("dashboard does not list the pipeline's purges:\n%s", rec.Body)
	}
	rec = e.do(req{method: "GET", target: "/metrics"})
	for _, want := range []string{
		`offload_purge_requests_total{provider="cloudfront",target="cf",outcome="ok"} 1`,
		`offload_purge_requests_total{provider="varnish",target="edge",outcome="ok"} 1`,
		`offload_decisions_total{decision="purge",reason="new"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, rec.Body)
		}
	}
}

// Without a pipeline, the routes that need one say so.
func TestNoPipeline(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.Pipeline = nil })
	for _, r := range []struct{ target, body string }{
		{"/v1/purges", `{"target":"cf","paths":["/"]}`},
		{"/v1/plan", `{"Records":[]}`},
	} {
		rec := e.do(req{method: "POST", target: r.target, body: r.body})
		if rec.Code != http.StatusServiceUnavailable || errorCode(t, rec) != "not_configured" {
			t.Errorf("%s: got %d %s, want 503 not_configured", r.target, rec.Code, rec.Body)
		}
	}
}

// Every route limits the body's size.
func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.MaxBody = 100 })
	big := `{"target":"cf","paths":["/` + strings.Repeat("x", 200) + `"]}`
	for _, r := range []struct{ method, target string }{
		{"POST", "/v1/events"},
		{"POST", "/v1/purges"},
		{"POST", "/v1/plan"},
		{"GET", "/v1/inbox"},
		{"GET", "/metrics"},
		{"GET", "/"},
	} {
		t.Run(r.method+" "+r.target, func(t *testing.T) {
			rec := e.do(req{method: r.method, target: r.target, body: big})
			if rec.Code != http.StatusRequestEntityTooLarge || errorCode(t, rec) != "too_large" {
				t.Errorf("got %d %s, want 413 too_large", rec.Code, rec.Body)
			}
		})
	}
	// A body sent without a length is cut off while it is read.
	r := httptest.NewRequest("POST", "/v1/plan", strings.NewReader(`{"x":"`+strings.Repeat("x", 93)+`"}`))
	r.RemoteAddr, r.ContentLength = "127.0.0.1:40000", -1
	r.Header.Set("Content-Type", "application/json")
	if rec := serve(t, e.h, r); rec.Code != http.StatusRequestEntityTooLarge || errorCode(t, rec) != "too_large" {
		t.Errorf("101 bytes of unknown length: got %d %s, want 413 too_large", rec.Code, rec.Body)
	}
}
