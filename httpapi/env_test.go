package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// fakeCDN is a purger whose provider answers with an id to follow (as
// CloudFront and Akamai do) or at once (as Varnish does). An item whose
// value contains "fail" is refused.
type fakeCDN struct {
	provider string
	estimate time.Duration // Akamai's estimatedSeconds

	mu   sync.Mutex
	done bool // what Status says
	reqs []purge.Request
}

func (f *fakeCDN) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	n := len(f.reqs)
	f.mu.Unlock()
	id := f.provider + "-" + string(rune('0'+n))
	res := &purge.Result{Provider: f.provider, Calls: []purge.Call{{ID: id, Items: len(req.Items), Status: "InProgress", Estimated: f.estimate, Attempts: 2}}}
	for _, it := range req.Items {
		o := purge.Outcome{Item: it, OK: true, ID: id}
		if strings.Contains(it.Value, "fail") {
			o.OK, o.Err, o.ID = false, "refused by the provider", ""
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	if len(res.Failed()) == len(req.Items) {
		res.Calls[0].ID, res.Calls[0].Err = "", "refused"
	}
	return res, res.Err()
}

func (f *fakeCDN) Status(ctx context.Context, id string) (purge.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := purge.Status{ID: id, State: "InProgress", Done: f.done, Estimated: f.estimate}
	if f.done {
		st.State = "Completed"
	}
	return st, nil
}

func (f *fakeCDN) finish() {
	f.mu.Lock()
	f.done = true
	f.mu.Unlock()
}

// edgeCache is a purger with nothing to follow (not a purge.Follower):
// done when Purge returns, as Varnish is.
type edgeCache struct{ cdn fakeCDN }

func (e *edgeCache) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	return e.cdn.Purge(ctx, req)
}

type applierFunc func(context.Context, []event.Change) (*pipeline.Result, error)

func (f applierFunc) Apply(ctx context.Context, cs []event.Change) (*pipeline.Result, error) {
	return f(ctx, cs)
}

type env struct {
	t     *testing.T
	h     http.Handler
	inbox *pipeline.Inbox
	clock *fakeclock.Clock
	mon   *httpapi.Monitor
	cf    *fakeCDN
	ak    *fakeCDN
	edge  *edgeCache
	pipe  *pipeline.Pipeline
}

// newEnv returns a handler over a real inbox and a pipeline with a memory
// ledger and three targets: cf (CloudFront-like), ak (Akamai-like) and
// edge (Varnish-like).
func newEnv(t *testing.T, opts ...func(*httpapi.Options)) *env {
	t.Helper()
	clock := fakeclock.New()
	e := &env{t: t, inbox: newInbox(t, clock.Now), clock: clock,
		cf: &fakeCDN{provider: "cloudfront"}, ak: &fakeCDN{provider: "akamai", estimate: 5 * time.Second},
		edge: &edgeCache{fakeCDN{provider: "varnish"}}}
	e.mon = httpapi.NewMonitor(httpapi.MonitorOptions{Now: e.clock.Now})
	e.pipe = newPipeline(t, pipeline.Options{
		Ledger:  ledger.NewMemory(),
		Purgers: map[string]purge.Purger{"cf": e.cf, "ak": e.ak, "edge": e.edge},
		Plan: plan.Config{
			Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: []string{"cf", "edge"}}},
			Targets: []plan.Target{
				{Name: "cf", Provider: "cloudfront"},
				{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com"},
				{Name: "edge", Provider: "varnish", BaseURL: "http://www.example.com"},
			},
		},
	})
	o := httpapi.Options{Inbox: e.inbox, Pipeline: e.pipe, Monitor: e.mon, Now: e.clock.Now,
		CacheStats: func() []cache.Stats {
			return []cache.Stats{{Key: cache.Key{Source: "ssm", Name: "/offload/token"}, Name: "offload-token", Hits: 3, Misses: 1}}
		}}
	for _, f := range opts {
		f(&o)
	}
	e.pipe = o.Pipeline // an option may have replaced it
	e.h = httpapi.New(o)
	return e
}

// withPurger returns a pipeline like p with one more purger (or another in
// its place) and, if target is not nil, the plan's target for it.
func withPurger(t *testing.T, p *pipeline.Pipeline, name string, pg purge.Purger, target *plan.Target) *pipeline.Pipeline {
	t.Helper()
	opts := p.Options()
	opts.Purgers[name] = pg
	if target != nil {
		opts.Plan.Targets = append(opts.Plan.Targets, *target)
	}
	return newPipeline(t, opts)
}

// req is one request to the handler.
type req struct {
	method, target string
	body           string
	header         map[string]string
	remote         string // default 127.0.0.1
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	var body *strings.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	} else {
		body = strings.NewReader("")
	}
	hr := httptest.NewRequest(r.method, r.target, body)
	hr.RemoteAddr = "127.0.0.1:40000"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json") // as clients send it
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	return serve(e.t, e.h, hr)
}

// errorCode returns the code of an error answer, failing the test if the
// body does not have the error shape.
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var out struct {
		Error *struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error == nil || out.Error.Code == "" || out.Error.Message == "" {
		t.Fatalf("body %q: want {\"error\":{\"code\":...,\"message\":...}}", rec.Body)
	}
	return out.Error.Code
}

// apply runs a batch of event bodies through the pipeline as the worker
// does, recording it in the monitor.
func (e *env) apply(bodies ...string) *pipeline.Result {
	e.t.Helper()
	ctx := context.Background()
	for _, b := range bodies {
		if _, err := e.inbox.Add(ctx, []byte(b)); err != nil {
			e.t.Fatal(err)
		}
	}
	var res *pipeline.Result
	w, err := pipeline.NewWorker(pipeline.WorkerOptions{Inbox: e.inbox, Now: e.clock.Now, Applier: e.mon.Wrap(applierFunc(
		func(ctx context.Context, cs []event.Change) (*pipeline.Result, error) {
			r, err := e.pipe.Apply(ctx, cs)
			res = r
			return r, err
		}))})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := w.RunOnce(ctx); err != nil {
		e.t.Fatal(err)
	}
	return res
}
