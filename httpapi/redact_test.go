package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/internal/redact"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/purge"
)

// leakyToken is a credential that the leaky purger's provider echoes.
const leakyToken = "zq4Vt7Lm2Xc9Rb5Nw8Hj3Kp6"

// leaky is a purger whose provider echoes its credential in every error,
// whole, URL-escaped, in base64 and cut short, as a badly written API
// might.
type leaky struct{}

func (leaky) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	echo := "401: token " + leakyToken + " (" + url.QueryEscape(leakyToken) + ", " +
		base64.StdEncoding.EncodeToString([]byte("api:"+leakyToken)) + ") refused; hint: " + leakyToken[:12] + "…"
	res := &purge.Result{Provider: "fastly", Calls: []purge.Call{{Items: len(req.Items), Attempts: 1, Err: echo}}}
	for _, it := range req.Items {
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, Err: echo})
	}
	return res, res.Err()
}

// shows reports the runs of 8 bytes of the token that text shows.
func shows(text, token string) []string {
	var out []string
	for i := 0; i+8 <= len(token); i++ {
		if strings.Contains(text, token[i:i+8]) {
			out = append(out, token[i:i+8])
		}
	}
	if strings.Contains(text, base64.StdEncoding.EncodeToString([]byte(token))[:8]) {
		out = append(out, "base64")
	}
	return out
}

// A provider's error that echoes a credential reaches neither the API's
// answers nor the dashboard: every body passes through Options.Redact.
func TestAnswersRedacted(t *testing.T) {
	red := redact.New()
	red.Add(leakyToken) // as config.Resolver does when it reads it
	e := newEnv(t, func(o *httpapi.Options) {
		o.Pipeline = withPurger(t, o.Pipeline, "cf", leaky{}, nil)
		o.Redact = red.String
	})
	// The API's purge: 502, with the provider's message.
	rec := e.do(req{method: "POST", target: "/v1/purges", body: `{"target":"cf","paths":["/a"]}`})
	var out struct{ Error struct{ Message, ID string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusBadGateway {
		t.Fatalf("POST /v1/purges: got %d %s, want 502", rec.Code, rec.Body)
	}
	// The pipeline's: the webhook's change fails at the same provider.
	res := e.apply(testdata(t, "minio-webhook.json"))
	if res == nil || len(res.Changes) != 1 || res.Changes[0].Status != pipeline.StatusFailed {
		t.Fatalf("apply: %+v, want the change failed", res)
	}
	e.clock.Advance(time.Second)
	pages := map[string]*strings.Builder{}
	for _, target := range []string{"/v1/purges/" + out.Error.ID, "/", "/v1/inbox"} {
		e.clock.Advance(time.Second)
		rec := e.do(req{method: "GET", target: target})
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: got %d, want 200", target, rec.Code)
		}
		pages[target] = &strings.Builder{}
		pages[target].WriteString(rec.Body.String())
	}
	pages["POST /v1/purges"] = &strings.Builder{}
	pages["POST /v1/purges"].WriteString(rec.Body.String())
	for name, b := range pages {
		text := b.String()
		if got := shows(text, leakyToken); len(got) > 0 {
			t.Errorf("%s shows %q of the token:\n%.2000s", name, got, text)
		}
		if !strings.Contains(text, "401: token [REDACTED]") {
			t.Errorf("%s does not show the provider's error, redacted:\n%.2000s", name, text)
		}
	}
}
