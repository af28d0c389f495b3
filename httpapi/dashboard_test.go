package httpapi_test

import (
	"strings"
	"testing"
)

func TestDashboard(t *testing.T) {
	e := newEnv(t)
	e.apply(testdata(t, "s3-put.json"))
	e.apply(`{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2026-01-02T03:04:05Z","s3":{"bucket":{"name":"my-site"},` +
		`"object":{"key":"%3Cscript%3Ealert(1)%3C%2Fscript%3E.html","eTag":"e1","sequencer":"01"}}}]}`)
	rec := e.do(req{method: "GET", target: "/"})
	body := rec.Body.String()
	for _, want := range []string{
		"docs/a b+c ü~*.html", // the changes, decoded
		"index.html",
		`<span class="tag purge">purge</span>`, // decisions and reasons
		"<td>removed</td>",
		"<td>filtered</td>",
		`purge · new · 2`,
		`id="saved-requests"><h2>Purge requests</h2><div class="big">4 <span class="note">vs 8</span>`, // what batching saved
		"50% saved",
		`<div class="big">75%</div>`, // cache hit ratio: 3 of 4
		"<rect ",                     // the chart
		"&lt;script&gt;alert(1)&lt;/script&gt;.html",
		"in_progress", // the CloudFront purge, not yet complete
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("a key is not escaped")
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if t.Failed() {
		t.Log(body)
	}
}
