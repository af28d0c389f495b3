package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/pipeline"
)

// onlyInbox hides the dead letters: an inbox that keeps none.
type onlyInbox struct{ httpapi.Inbox }

// TestDeadLetterRoutes runs the routes on the bolt inbox's own dead
// letters (the JetStream inbox's are tested against nats-server in
// pipeline/natsinbox).
func TestDeadLetterRoutes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	reasons := []string{"purge edge: <HTTP 503>", "mirror ns: timeout", "x"}
	var outcomes []pipeline.Outcome
	for i, reason := range reasons {
		id, err := e.inbox.Add(ctx, fmt.Appendf(nil, `{"n":%d}`, i+1))
		if err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, pipeline.Outcome{ID: id, Err: reason, Dead: true})
	}
	if err := e.inbox.Settle(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for a, b := range h {
			out[a] = b
		}
		return out
	}
	tests := []struct {
		name   string
		req    req
		want   int
		substr string
	}{
		{"list", req{method: "GET", target: "/v1/inbox/dead"}, 200, `"last_error":"purge edge: \u003cHTTP 503\u003e"`},
		{"list limited", req{method: "GET", target: "/v1/inbox/dead?limit=1"}, 200, `"dead_letters":[{"id":1,`},
		{"bad limit", req{method: "GET", target: "/v1/inbox/dead?limit=0"}, 400, "limit is a whole number from 1 to 1000"},
		{"inbox counts", req{method: "GET", target: "/v1/inbox"}, 200, `"dead_lettered":3`},
		{"metrics", req{method: "GET", target: "/metrics"}, 200, "offload_inbox_dead_lettered 3"},
		{"dashboard", req{method: "GET", target: "/"}, 200, `<form method="post" action="/v1/inbox/dead/1/replay">`},
		{"replay", req{method: "POST", target: "/v1/inbox/dead/1/replay"}, 200, `{"id":4,"replayed":1}`},
		{"replay again", req{method: "POST", target: "/v1/inbox/dead/1/replay"}, 404, "no dead letter 1"},
		{"replay bad id", req{method: "POST", target: "/v1/inbox/dead/0/replay"}, 400, "positive integer"},
		{"replay from the dashboard", req{method: "POST", target: "/v1/inbox/dead/2/replay", body: "x=1", header: with(form, "Sec-Fetch-Site", "same-origin")}, 303, ""},
		{"replay from another site", req{method: "POST", target: "/v1/inbox/dead/3/replay", body: "x=1", header: with(form, "Origin", "https://evil.example")}, 403, "another site"},
		{"discard", req{method: "DELETE", target: "/v1/inbox/dead/3"}, 204, ""},
		{"discard again", req{method: "DELETE", target: "/v1/inbox/dead/3"}, 404, "no dead letter 3"},
		{"discard bad id", req{method: "DELETE", target: "/v1/inbox/dead/x"}, 400, "positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			if tt.req.header != nil && tt.req.body != "" {
				tt.req.header = with(tt.req.header, "Content-Type", tt.req.header["Content-Type"])
			}
			rec := e.do(tt.req)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if !strings.Contains(rec.Body.String(), tt.substr) {
				t.Errorf("body %s; want it to contain %s", rec.Body, tt.substr)
			}
			if tt.want == 303 && rec.Header().Get("Location") != "/#dead-letters" {
				t.Errorf("Location: got %q, want /#dead-letters", rec.Header().Get("Location"))
			}
		})
	}
	// 1 and 2 are back in the inbox under new ids, 3 (from another site,
	// then discarded) is not; no dead letter is left.
	due, _, err := e.inbox.Due(ctx, e.clock.Now(), 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range due {
		got = append(got, fmt.Sprintf("%d:%s", d.ID, d.Body))
	}
	if want := []string{`4:{"n":1}`, `5:{"n":2}`}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("inbox after the replays: got %v, want %v", got, want)
	}
	if rec := e.do(req{method: "GET", target: "/v1/inbox/dead"}); rec.Code != 200 || !strings.Contains(rec.Body.String(), `{"dead_letters":[]}`) {
		t.Errorf("dead letters at the end: got %d %s, want 200 and an empty list", rec.Code, rec.Body)
	}

	// An inbox that is no pipeline.DeadLetters has no such routes.
	none := newEnv(t, func(o *httpapi.Options) { o.Inbox = onlyInbox{o.Inbox} })
	if rec := none.do(req{method: "GET", target: "/v1/inbox/dead"}); rec.Code != 404 || !strings.Contains(rec.Body.String(), "keeps no dead letters") {
		t.Errorf("an inbox without dead letters: got %d %s, want 404", rec.Code, rec.Body)
	}
}
