package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkcloudfront "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/cloudfront"
)

// untouchable is a purger that reports its limits, as every provider
// does (CloudFront's: paths and URLs only), and counts the purges that
// reach it: a request refused as the caller's mistake must not.
type untouchable struct {
	limits purge.Limits
	calls  atomic.Int64
}

func (u *untouchable) Limits() purge.Limits { return u.limits }

func (u *untouchable) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	u.calls.Add(1)
	res := &purge.Result{Provider: "cloudfront"}
	for _, it := range req.Items {
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, Err: "sent to the provider"})
	}
	return res, res.Err()
}

// Every caller mistake in POST /v1/purges is a 400, found before anything
// is sent to the provider; never a 502.
func TestPurgeCallerMistakes(t *testing.T) {
	cf := &untouchable{limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 3000, purge.KindURL: 3000}}}
	e := newEnv(t, func(o *httpapi.Options) {
		o.Pipeline = withPurger(t, o.Pipeline, "paths-only", cf, &plan.Target{Name: "paths-only", Provider: "cloudfront"})
	})
	tests := []struct {
		name, body string
		code, says string
	}{
		{"CR LF in a path", `{"target":"paths-only","paths":["/a\r\nX-Injected: 1"]}`, "bad_request", `paths[0] "/a\r\nX-Injected: 1" holds a control character`},
		{"LF in a path", `{"target":"paths-only","paths":["/ok","/a\nb"]}`, "bad_request", "paths[1]"},
		{"NUL in a path", `{"target":"paths-only","paths":["/a\u0000b"]}`, "bad_request", "control character"},
		{"tab in a path", `{"target":"paths-only","paths":["/a\tb"]}`, "bad_request", "control character"},
		{"DEL in a path", `{"target":"paths-only","paths":["/a\u007fb"]}`, "bad_request", "control character"},
		{"C1 control in a path", `{"target":"paths-only","paths":["/a\u0085b"]}`, "bad_request", "control character"},
		{"control character in a tag", `{"target":"edge","tags":["a\u0000"]}`, "bad_request", "tags[0]"},
		{"control character in a URL", `{"target":"paths-only","urls":["https://www.example.com/a\r\n"]}`, "bad_request", "urls[0]"},
		{"tags for a target without tags", `{"target":"paths-only","tags":["product-42"]}`, "unsupported", `target "paths-only" cannot purge tags`},
		{"tags beside paths", `{"target":"paths-only","paths":["/a"],"tags":["t"]}`, "unsupported", "cannot purge tags"},
		{"trailing object", `{"target":"paths-only","paths":["/a"]} {"target":"paths-only","paths":["/b"]}`, "invalid_json", "after the JSON value"},
		{"trailing junk", `{"target":"paths-only","paths":["/a"]}x`, "invalid_json", "after the JSON value"},
		{"two values, no space", `{"target":"paths-only","paths":["/a"]}[]`, "invalid_json", "after the JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			rec := e.do(req{method: "POST", target: "/v1/purges", body: tt.body})
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", rec.Code, rec.Body)
			}
			if got := errorCode(t, rec); got != tt.code {
				t.Errorf("got code %q, want %q", got, tt.code)
			}
			if !strings.Contains(rec.Body.String(), jsonEscaped(tt.says)) {
				t.Errorf("got %s, want it to say %q", rec.Body, tt.says)
			}
		})
	}
	if n := cf.calls.Load(); n != 0 {
		t.Errorf("got %d purges sent to the provider, want 0", n)
	}
	if n := len(e.edge.cdn.reqs); n != 0 {
		t.Errorf("got %d purges sent to edge, want 0", n)
	}
	// Trailing white space is not data.
	e.clock.Advance(time.Second)
	if rec := e.do(req{method: "POST", target: "/v1/purges", body: "{\"target\":\"edge\",\"paths\":[\"/a\"]}\r\n\t "}); rec.Code != http.StatusOK {
		t.Errorf("trailing white space: got %d %s, want 200", rec.Code, rec.Body)
	}
}

// Trailing data after the JSON body is refused on every route that takes
// a body.
func TestTrailingDataRefused(t *testing.T) {
	e := newEnv(t)
	for _, r := range []struct{ target, body string }{
		{"/v1/events", testdata(t, "minio-webhook.json") + "{}"},
		{"/v1/plan", testdata(t, "s3-put.json") + " []"},
		{"/v1/purges", `{"target":"cf","paths":["/"]}{}`},
	} {
		t.Run(r.target, func(t *testing.T) {
			e.clock.Advance(time.Second)
			rec := e.do(req{method: "POST", target: r.target, body: r.body})
			if rec.Code != http.StatusBadRequest || errorCode(t, rec) != "invalid_json" {
				t.Errorf("got %d %s, want 400 invalid_json", rec.Code, rec.Body)
			}
		})
	}
	if d := e.inbox.Depth(); d != 0 {
		t.Errorf("got inbox depth %d, want 0", d)
	}
}

// A path is taken as a person types it, as offload purge takes it, and
// encoded as the target purges it: through CloudFront (moto) "/a b.html"
// is invalidated as "/a%20b.html", a "*" at the end stays a wildcard, and
// a path encoded already is kept; through a URL provider, it is a URL path.
func TestPurgeEncodesTypedPaths(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := moto.CreateDistribution(t)
	cf, err := cloudfront.New(cloudfront.Options{Client: sdkcloudfront.NewFromConfig(moto.Config()), DistributionID: dist})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *httpapi.Options) {
		o.Pipeline = withPurger(t, o.Pipeline, "real-cf", cf, &plan.Target{Name: "real-cf", Provider: "cloudfront"})
	})

	rec := e.do(req{method: "POST", target: "/v1/purges", body: `{"target":"real-cf","paths":["/a b.html","/my docs/*","/c%20d.html","/~x"]}`})
	if rec.Code != http.StatusOK { // moto completes an invalidation at once
		t.Fatalf("CloudFront: got %d %s, want 200", rec.Code, rec.Body)
	}
	want := []string{"/%7Ex", "/a%20b.html", "/c%20d.html", "/my%20docs/*"}
	got := moto.Invalidations(t, dist)
	for _, paths := range got {
		slices.Sort(paths) // moto's order is its own
	}
	if len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("CloudFront invalidations: got %q, want [%q]", got, want)
	}

	e.clock.Advance(time.Second)
	if rec := e.do(req{method: "POST", target: "/v1/purges", body: `{"target":"edge","paths":["/a b.html"]}`}); rec.Code != http.StatusOK {
		t.Fatalf("edge: got %d %s, want 200", rec.Code, rec.Body)
	}
	reqs := e.edge.cdn.reqs
	if len(reqs) != 1 || len(reqs[0].Items) != 1 || reqs[0].Items[0].Value != "/a%20b.html" {
		t.Errorf("edge: got requests %+v, want one of the path /a%%20b.html", reqs)
	}
}
