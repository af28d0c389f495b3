package httpapi_test

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)$`)
	helpLine   = regexp.MustCompile(`^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$`)
	typeLine   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|untyped)$`)
)

// parseExposition checks the Prometheus text format (every sample after
// its family's HELP and TYPE, one family once, values numbers) and returns
// the samples by their line up to the value.
func parseExposition(t *testing.T, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	typed := map[string]bool{}
	current := ""
	sc := bufio.NewScanner(strings.NewReader(body))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case helpLine.MatchString(line):
			name := helpLine.FindStringSubmatch(line)[1]
			if typed[name] {
				t.Errorf("line %d: family %s appears twice", n, name)
			}
			current = name
		case typeLine.MatchString(line):
			name := typeLine.FindStringSubmatch(line)[1]
			if name != current {
				t.Errorf("line %d: TYPE of %s after HELP of %s", n, name, current)
			}
			typed[name] = true
		case sampleLine.MatchString(line):
			m := sampleLine.FindStringSubmatch(line)
			if m[1] != current || !typed[current] {
				t.Errorf("line %d: sample of %s outside its family", n, m[1])
			}
			v, err := strconv.ParseFloat(m[len(m)-1], 64)
			if err != nil {
				t.Errorf("line %d: value %q", n, m[len(m)-1])
			}
			out[line[:strings.LastIndexByte(line, ' ')]] = v
		default:
			t.Errorf("line %d is not in the text format: %q", n, line)
		}
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
	rec := e.do(req{method: "GET", target: "/metrics"})
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	got := parseExposition(t, rec.Body.String())
	want := map[string]float64{
		`offload_events_received_total`:                                                1,
		`offload_batches_total{outcome="ok"}`:                                          1,
		`offload_decisions_total{decision="purge",reason="new"}`:                       1,
		`offload_decisions_total{decision="purge",reason="changed"}`:                   1,
		`offload_decisions_total{decision="purge",reason="removed"}`:                   1,
		`offload_decisions_total{decision="skip",reason="filtered"}`:                   1,
		`offload_purge_requests_total{provider="cloudfront",target="cf",outcome="ok"}`: 1,
		`offload_purge_paths_total{provider="cloudfront",target="cf",outcome="ok"}`:    4,
		`offload_purge_retries_total{provider="cloudfront",target="cf"}`:               1,
		`offload_purge_requests_total{provider="varnish",target="edge",outcome="ok"}`:  2,
		`offload_purge_paths_total{provider="varnish",target="edge",outcome="ok"}`:     5,
		`offload_purge_paths_total{provider="varnish",target="edge",outcome="failed"}`: 1,
		`offload_purge_requests_planned_total`:                                         2,
		`offload_purge_requests_per_event_total`:                                       6,
		`offload_cloudfront_billed_paths_total`:                                        4,
		`offload_cloudfront_billed_paths_per_event_total`:                              4,
		`offload_cache_hits_total{entry="offload-token"}`:                              3,
		`offload_cache_misses_total{entry="offload-token"}`:                            1,
		`offload_inbox_depth`:                                             0,
		`offload_inbox_oldest_age_seconds`:                                0,
		`offload_http_requests_total{route="POST /v1/events",code="202"}`: 1,
		`offload_http_requests_total{route="POST /v1/purges",code="200"}`: 1,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", rec.Body)
	}
}

func TestMetricsInboxAge(t *testing.T) {
	e := newEnv(t)
	e.do(req{method: "POST", target: "/v1/events", body: `{"Records":[]}`})
	rec := e.do(req{method: "GET", target: "/metrics"})
	got := parseExposition(t, rec.Body.String())
	if got["offload_inbox_depth"] != 1 {
		t.Errorf("depth %v, want 1", got["offload_inbox_depth"])
	}
	if _, ok := got["offload_inbox_oldest_age_seconds"]; !ok {
		t.Error("no offload_inbox_oldest_age_seconds")
	}
}
