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

// deadInbox is the test's bolt inbox with dead letters of its own: the
// JetStream inbox keeps them in a stream (tested against nats-server in
// pipeline/natsinbox, and through the binary in cmd/offload).
type deadInbox struct {
	*pipeline.Inbox
	dead     map[uint64]pipeline.Entry
	replayed []uint64
}

func (d *deadInbox) DeadLetters(ctx context.Context, limit int) ([]pipeline.Entry, error) {
	out := []pipeline.Entry{}
	for id := uint64(1); id <= 100 && len(out) < limit; id++ {
		if e, ok := d.dead[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func (d *deadInbox) Replay(ctx context.Context, id uint64) (uint64, error) {
	if _, ok := d.dead[id]; !ok {
		return 0, fmt.Errorf("replay %d: %w", id, pipeline.ErrNotFound)
	}
	delete(d.dead, id)
	d.replayed = append(d.replayed, id)
	return 1000 + id, nil
}

func (d *deadInbox) Discard(ctx context.Context, id uint64) error {
	if _, ok := d.dead[id]; !ok {
		return fmt.Errorf("discard %d: %w", id, pipeline.ErrNotFound)
	}
	delete(d.dead, id)
	return nil
}

func (d *deadInbox) Stats(ctx context.Context, n int) (pipeline.InboxStats, error) {
	st, err := d.Inbox.Stats(ctx, n)
	st.Driver, st.DeadLettered = "nats", len(d.dead)
	return st, err
}

// onlyInbox hides the dead letters: an inbox that keeps none.
type onlyInbox struct{ httpapi.Inbox }

func TestDeadLetterRoutes(t *testing.T) {
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var di *deadInbox
	e := newEnv(t, func(o *httpapi.Options) {
		di = &deadInbox{Inbox: o.Inbox.(*pipeline.Inbox), dead: map[uint64]pipeline.Entry{
			1: {ID: 1, Received: received, Attempts: 10, LastErr: "purge edge: <HTTP 503>", Size: 321},
			2: {ID: 2, Received: received, Attempts: 10, LastErr: "mirror ns: timeout", Size: 12},
			3: {ID: 3, Received: received, Attempts: 10, LastErr: "x", Size: 1},
		}}
		o.Inbox = di
	})
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
		{"replay", req{method: "POST", target: "/v1/inbox/dead/1/replay"}, 200, `{"id":1001,"replayed":1}`},
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
	if fmt.Sprint(di.replayed) != "[1 2]" {
		t.Errorf("replayed: got %v, want [1 2] (not 3, from another site)", di.replayed)
	}

	// The bolt inbox has none yet; an inbox that is no pipeline.DeadLetters
	// has no such routes.
	bolt := newEnv(t)
	if rec := bolt.do(req{method: "GET", target: "/v1/inbox/dead"}); rec.Code != 200 || !strings.Contains(rec.Body.String(), `{"dead_letters":[]}`) {
		t.Errorf("bolt: got %d %s, want 200 and an empty list", rec.Code, rec.Body)
	}
	none := newEnv(t, func(o *httpapi.Options) { o.Inbox = onlyInbox{o.Inbox} })
	if rec := none.do(req{method: "GET", target: "/v1/inbox/dead"}); rec.Code != 404 || !strings.Contains(rec.Body.String(), "keeps no dead letters") {
		t.Errorf("an inbox without dead letters: got %d %s, want 404", rec.Code, rec.Body)
	}
}
