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
	e.spec.check(t, "GET", "/", rec)
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

// The schema checker catches what it is there to catch.
func TestSpecCheckerRejects(t *testing.T) {
	s := loadSpec(t)
	purgeRef := map[string]any{"$ref": "#/components/schemas/Error"}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"missing required", map[string]any{"error": map[string]any{"code": "internal"}}, `required property "message"`},
		{"undocumented property", map[string]any{"error": map[string]any{"code": "internal", "message": "m", "extra": 1.0}}, `"extra" is not documented`},
		{"not in enum", map[string]any{"error": map[string]any{"code": "oops", "message": "m"}}, "is not one of"},
		{"wrong type", map[string]any{"error": "flat"}, "want an object"},
		{"null", nil, "not nullable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := s.validate(purgeRef, tt.v, "$")
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Errorf("got %v, want an error with %q", errs, tt.want)
			}
		})
	}
	if errs := s.validate(map[string]any{"$ref": "#/components/schemas/Nope"}, 1.0, "$"); len(errs) == 0 {
		t.Error("an unresolved $ref is not reported")
	}
	if errs := s.validate(map[string]any{"$ref": "#/components/schemas/InboxStats"},
		map[string]any{"depth": 1.5, "oldest_age_seconds": 0.0, "failing": 0.0, "failures": []any{}}, "$"); len(errs) == 0 {
		t.Error("a fractional integer is not reported")
	}
}
