package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/httpapi"
)

// scrape gets /metrics and reads it as Prometheus does: with the Prometheus
// project's own text parser, then its linter, which reports (among others)
// a series that appears twice — Prometheus rejects such a scrape whole.
// It returns every sample by its series, labels sorted by name:
// `name{a="1",b="2"}`.
func scrape(t *testing.T, e *env) map[string]float64 {
	t.Helper()
	rec := e.do(req{method: "GET", target: "/metrics"})
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: got %d %s, want 200", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != string(expfmt.FmtText) {
		t.Errorf("Content-Type: got %q, want %q", ct, expfmt.FmtText)
	}
	body := rec.Body.String()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, body)
	}
	fams := make([]*dto.MetricFamily, 0, len(mfs))
	for _, mf := range mfs {
		fams = append(fams, mf)
	}
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			series := name
			if len(labels) > 0 {
				series += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[series] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[series] = m.Gauge.GetValue()
			default:
				t.Errorf("%s: got a %s, want a counter or a gauge", series, mf.GetType())
			}
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
	return out
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(req{method: "POST", target: "/v1/events", body: testdata(t, "s3-put.json")}); rec.Code != 202 {
		t.Fatalf("POST /v1/events: %d %s", rec.Code, rec.Body)
	}
	e.apply() // the worker applies the event stored above
	e.clock.Advance(time.Second)
	e.do(req{method: "POST", target: "/v1/purges", body: `{"target":"edge","paths":["/ok","/fail"]}`})
	e.clock.Advance(time.Second)
	got := scrape(t, e)
	want := map[string]float64{
		`offload_events_received_total`:                                                1,
		`offload_batches_total{outcome="ok"}`:                                          1,
		`offload_batches_total{outcome="error"}`:                                       0,
		`offload_decisions_total{decision="purge",reason="new"}`:                       1,
		`offload_decisions_total{decision="purge",reason="changed"}`:                   1,
		`offload_decisions_total{decision="purge",reason="removed"}`:                   1,
		`offload_decisions_total{decision="skip",reason="filtered"}`:                   1,
		`offload_purge_requests_total{outcome="ok",provider="cloudfront",target="cf"}`: 1,
		`offload_purge_paths_total{outcome="ok",provider="cloudfront",target="cf"}`:    4,
		`offload_purge_retries_total{provider="cloudfront",target="cf"}`:               1,
		`offload_purge_requests_total{outcome="ok",provider="varnish",target="edge"}`:  2,
		`offload_purge_paths_total{outcome="ok",provider="varnish",target="edge"}`:     5,
		`offload_purge_paths_total{outcome="failed",provider="varnish",target="edge"}`: 1,
		`offload_purge_requests_planned_total`:                                         2,
		`offload_purge_requests_per_event_total`:                                       6,
		`offload_cloudfront_billed_paths_total`:                                        4,
		`offload_cloudfront_billed_paths_per_event_total`:                              4,
		`offload_cache_hits_total{key="ssm:/offload/token",name="offload-token"}`:      3,
		`offload_cache_misses_total{key="ssm:/offload/token",name="offload-token"}`:    1,
		`offload_inbox_depth`:              0,
		`offload_inbox_oldest_age_seconds`: 0,
		`offload_inbox_failing`:            0,
		`offload_http_requests_total{code="202",route="POST /v1/events"}`: 1,
		`offload_http_requests_total{code="200",route="POST /v1/purges"}`: 1,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: got %v (present: %v), want %v", k, g, ok, w)
		}
	}
}

// Cache entries are told apart by their full key: two with the same short
// name are two series, and the scrape still parses and lints clean.
func TestMetricsCacheEntriesWithOneShortName(t *testing.T) {
	stats := []cache.Stats{
		{Key: cache.Key{Source: "ssm", Name: "/prod/x/pw", Variant: "decrypt"}, Name: "pw", Hits: 5, Misses: 1},
		{Key: cache.Key{Source: "ssm", Name: "/dev/x/pw", Variant: "decrypt"}, Name: "pw", Hits: 7, Misses: 2},
		{Key: cache.Key{Source: "s3", Name: `s3://b/a "quoted" \ key`}, Name: "", Hits: 1},
	}
	e := newEnv(t, func(o *httpapi.Options) { o.CacheStats = func() []cache.Stats { return stats } })
	got := scrape(t, e)
	want := map[string]float64{
		`offload_cache_hits_total{key="ssm:/prod/x/pw [decrypt]",name="pw"}`:    5,
		`offload_cache_hits_total{key="ssm:/dev/x/pw [decrypt]",name="pw"}`:     7,
		`offload_cache_misses_total{key="ssm:/prod/x/pw [decrypt]",name="pw"}`:  1,
		`offload_cache_misses_total{key="ssm:/dev/x/pw [decrypt]",name="pw"}`:   2,
		`offload_cache_hits_total{key="s3:s3://b/a \"quoted\" \\ key",name=""}`: 1,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: got %v (present: %v), want %v", k, g, ok, w)
		}
	}
	var hits []string
	for k := range got {
		if strings.HasPrefix(k, "offload_cache_hits_total") {
			hits = append(hits, k)
		}
	}
	if len(hits) != len(stats) {
		t.Errorf("got %d offload_cache_hits_total series %v, want %d", len(hits), hits, len(stats))
	}
}

func TestMetricsInboxAge(t *testing.T) {
	e := newEnv(t)
	e.do(req{method: "POST", target: "/v1/events", body: tinyEvent})
	e.clock.Advance(90 * time.Second)
	got := scrape(t, e)
	if got["offload_inbox_depth"] != 1 {
		t.Errorf("offload_inbox_depth: got %v, want 1", got["offload_inbox_depth"])
	}
	if age := got["offload_inbox_oldest_age_seconds"]; age != 90 {
		t.Errorf("offload_inbox_oldest_age_seconds: got %v, want 90", age)
	}
}
