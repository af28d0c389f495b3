package plan_test

import (
	"testing"

	"github.com/offload-dev/offload/plan"
)

func TestTypedPath(t *testing.T) {
	cf := plan.Target{Name: "cf", Provider: "cloudfront"}
	edge := plan.Target{Name: "edge", Provider: "varnish", BaseURL: "http://www.example.com"}
	tests := []struct {
		name   string
		target plan.Target
		in     string
		want   string
	}{
		{"CloudFront: a space", cf, "/a b.html", "/a%20b.html"},
		{"CloudFront: no leading slash", cf, "docs/a.html", "/docs/a.html"},
		{"CloudFront: a wildcard at the end stays one", cf, "/docs/*", "/docs/*"},
		{"CloudFront: a star inside is a key's", cf, "/a*b", "/a%2Ab"},
		{"CloudFront: a wildcard after a space", cf, "/my docs/*", "/my%20docs/*"},
		{"CloudFront: ~ and unicode", cf, "/~x/é", "/%7Ex/%C3%A9"},
		{"CloudFront: + stays", cf, "/a+b", "/a+b"},
		{"CloudFront: already encoded, kept", cf, "/a%20b.html", "/a%20b.html"},
		{"CloudFront: a lone % is a key's", cf, "/100%", "/100%25"},
		{"URL provider: a space", edge, "/a b.html", "/a%20b.html"},
		{"URL provider: ~ and + stay", edge, "/~x/a+b", "/~x/a+b"},
		{"URL provider: already encoded, kept", edge, "/a%2Fb", "/a%2Fb"},
		{"URL provider: unicode", edge, "/é", "/%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.target.TypedPath(tt.in); got != tt.want {
				t.Errorf("%s.TypedPath(%q): got %q, want %q", tt.target.Provider, tt.in, got, tt.want)
			}
		})
	}
}
