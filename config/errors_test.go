package config_test

import (
	"strings"
	"testing"

	"github.com/offload-dev/offload/config"
)

// The acceptance case: three different mistakes, three errors, one run.
func TestThreeMistakesThreeErrors(t *testing.T) {
	const yaml = `sites:
  - name: www
    buckt: my-site
    bucket: my-site
    targets: [cf, edge]
targets:
  - name: cf
    provider: cloudfront
    distribution_id: [E8F6HK73EP0LT]
`
	checkErrors(t, yaml, []string{
		`bad.yaml:3:5: sites[0].buckt: unknown field; did you mean "bucket"? (fields here: name, bucket, prefix, index, purge_new, mirrors, targets)`,
		`bad.yaml:5:19: sites[0].targets[1]: no target is named "edge" (configured: "cf")`,
		`bad.yaml:9:22: targets[0].distribution_id: want a string, got a list`,
	})
}

// A value of the wrong type names the field and the type it wants, and
// does not stop the fields after it from being read and checked.
func TestWrongTypes(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"list for a string", "sites:\n  - name: www\n    bucket: [a, b]\n", []string{"bad.yaml:3:13: sites[0].bucket: want a string, got a list"}},
		{"string for a list", "sites:\n  - name: www\n    bucket: b\n    targets: cf\n",
			[]string{`bad.yaml:4:14: sites[0].targets: want a list, got "cf" (write [cf])`}},
		{"word for a number", "auth:\n  rate: fast\n  burst: 1.5\n",
			[]string{`bad.yaml:2:9: auth.rate: want a number, got "fast"`, "bad.yaml:3:10: auth.burst: want a whole number, got 1.5"}},
		{"quoted number", "targets:\n  - {name: c, provider: cloudflare, zone_id: z, token: env:T, base_url: https://x.com, urls_per_request: \"100\"}\n",
			[]string{`bad.yaml:2:106: targets[0].urls_per_request: want a whole number, got "100" (write it without quotes)`}},
		{"not a boolean", "sites:\n  - name: www\n    bucket: b\n    purge_new: maybe\n", []string{`bad.yaml:4:16: sites[0].purge_new: want true or false, got "maybe"`}},
		{"list for a mapping", "state: [bolt]\n", []string{"bad.yaml:1:8: state: want a mapping, got a list"}},
		{"mapping for a list", "targets:\n  cf: {provider: cloudfront}\n", []string{"bad.yaml:2:3: targets: want a list, got a mapping"}},
		{"not a mapping at all", "- listen\n", []string{"bad.yaml:1:1: want a mapping of settings (listen, auth, state, inbox, batch, sites, targets, mirrors), got a list"}},
		{"a field the provider does not use", "targets:\n  - {name: cf, provider: cloudfront, distribution_id: E1, api_url: http://127.0.0.1:5000}\n",
			[]string{"bad.yaml:2:59: targets[0].api_url: not used by provider cloudfront (its fields: name, provider, distribution_id, collapse, timeout)"}},
		{"a field set twice", "state:\n  driver: bolt\n  driver: memory\n", []string{"bad.yaml:3:3: state.driver: set twice (first at line 2, column 3)"}},
		{"decode and validation together", "state:\n  driver: x\nbatch:\n  window: [1s]\nsites:\n  - name: www\n",
			[]string{`bad.yaml:2:11: state.driver: "x" is not a driver`, "bad.yaml:4:11: batch.window: want a duration such as 500ms or 2s, got a list", "bad.yaml:6:5: sites[0].bucket: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.yaml, tt.want) })
	}
}

// YAML syntax errors are placed where the parser found them, and a second
// document is an error rather than ignored.
func TestSyntaxErrorsAtTheirPlace(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"bad indentation on line 3", "sites:\n  - name: www\n   bucket: b\n",
			[]string{"bad.yaml:3:4: YAML syntax: did not find expected '-' indicator (while parsing a block collection at line 2, column 3)"}},
		{"bad indentation of a key", "listen: x\nstate:\n  driver: bolt\n path: y\n", []string{"bad.yaml:4:2: YAML syntax: "}},
		{"a tab", "listen: x\n\tstate: {}\n", []string{"bad.yaml:2:1: YAML syntax: found a tab character"}},
		{"unclosed flow list", "sites: [a, b\nlisten: x\n", []string{"bad.yaml:2:7: YAML syntax: "}},
		{"second document", "listen: a\n---\nlisten: b\n", []string{"bad.yaml:2:1: a second YAML document starts here"}},
		{"second document, empty", "listen: a\n---\n", []string{"bad.yaml:2:1: a second YAML document starts here"}},
		{"errors in the first document and a second", "listen: a\nlissen: b\n---\nlisten: b\n",
			[]string{`bad.yaml:2:1: lissen: unknown field; did you mean "listen"?`, "bad.yaml:3:1: a second YAML document starts here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.yaml, tt.want) })
	}
}

// No part of a secret field's value appears in an error, whatever is wrong
// with it.
func TestErrorsNeverShowSecrets(t *testing.T) {
	const secret = "fySECRETtok:abc"
	tests := []struct{ name, yaml string }{
		{"a literal token with a colon", "targets:\n  - {name: f, provider: fastly, service_id: s, base_url: https://x.com, token: " + secret + "}\n"},
		{"a literal token", "targets:\n  - name: f\n    provider: fastly\n    service_id: s\n    base_url: https://x.com\n    token: fySECRETtok\n"},
		{"in auth.tokens", "auth:\n  tokens: [" + secret + "]\n"},
		{"auth.tokens not a list", "auth:\n  tokens: " + secret + "\n"},
		{"a scoped token", "auth:\n  scoped_tokens:\n    - {token: " + secret + ", routes: [GET /metrics]}\n"},
		{"a netstorage key", "mirrors:\n  - {name: ns, provider: netstorage, host: h, cpcode: 1, keyname: k, key: " + secret + "}\n"},
		{"a token as a list", "targets:\n  - {name: f, provider: fastly, service_id: s, base_url: https://x.com, token: [" + secret + "]}\n"},
		{"a token as a mapping", "auth:\n  tokens:\n    - {value: " + secret + "}\n"},
		{"a token as a number", "auth:\n  tokens: [123456789]\n"},
		{"ssm without a slash", "auth:\n  tokens: [ssm:fySECRETtok]\n"},
		{"secretsmanager without a name", "auth:\n  tokens: [\"secretsmanager:#fySECRETtok\"]\n"},
		{"set twice", "targets:\n  - {name: f, provider: fastly, service_id: s, base_url: https://x.com, token: env:T, token: " + secret + "}\n"},
		{"an unclosed quote", "auth:\n  tokens: [\"fySECRETtok:abc]\n"},
		{"an alias with no anchor", "auth:\n  tokens: [*fySECRETtok]\n"},
		{"a field of another provider", "targets:\n  - {name: cf, provider: cloudfront, distribution_id: E1, token: " + secret + "}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("got no error")
			}
			for _, part := range []string{"fySE", "SECRET", "ETtok", "tok:", ":abc", "123456789", "2345"} {
				if strings.Contains(err.Error(), part) {
					t.Errorf("got %q, which shows %q of the secret", err, part)
				}
			}
		})
	}
}

// A typo close to a valid name is answered with that name.
func TestDidYouMean(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"sites:\n  - {name: w, bucket: b, purgenew: false}\n", `did you mean "purge_new"?`},
		{"sites:\n  - {name: w, bucket: b, Prefix: p/}\n", `did you mean "prefix"?`},
		{"targets:\n  - {name: c, provider: cloudflare, zone-id: z, token: env:T, base_url: https://x.com}\n", `did you mean "zone_id"?`},
		{"auth:\n  scopedtokens: []\n", `did you mean "scoped_tokens"?`},
		{"mirrors:\n  - {name: m, provider: s3, bucket: b, pathstyle: true}\n", `did you mean "path_style"?`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := config.Parse("bad.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	// Nothing close: no guess, but the list of what is allowed.
	_, err := config.Parse("bad.yaml", []byte("colour: blue\n"))
	if err == nil || strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "fields here: listen,") {
		t.Errorf("got %v, want the fields allowed and no guess", err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    config.Error
		want string
	}{
		{config.Error{File: "a.yaml", Line: 3, Column: 5, Field: "sites[0].bucket", Msg: "required"}, "a.yaml:3:5: sites[0].bucket: required"},
		{config.Error{File: "a.yaml", Line: 3, Field: "x", Msg: "m"}, "a.yaml:3: x: m"},
		{config.Error{File: "environment", Field: "OFFLOAD_STATE_DRIVER", Msg: "m"}, "environment: OFFLOAD_STATE_DRIVER: m"},
		{config.Error{Line: 1, Column: 1, Msg: "m"}, "config:1:1: m"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// Anchors and aliases work as YAML has them; merge keys are refused.
func TestAnchorsAndAliases(t *testing.T) {
	c, err := config.Parse("ok.yaml", []byte("sites:\n  - {name: a, bucket: b, targets: &both [cf, edge]}\n  - {name: c, bucket: d, targets: *both}\n"+
		"targets:\n  - {name: cf, provider: cloudfront, distribution_id: E1}\n  - {name: edge, provider: varnish, endpoints: [http://127.0.0.1:6081], host: &h www.example.com}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sites[1].Targets; len(got) != 2 || got[1] != "edge" {
		t.Errorf("sites[1].targets: got %v, want [cf edge]", got)
	}
	checkErrors(t, "defaults: &d {bucket: b}\n", []string{"bad.yaml:1:1: defaults: unknown field"})
	checkErrors(t, "sites:\n  - name: a\n    bucket: b\n    <<: {prefix: p/}\n", []string{"bad.yaml:4:5: sites[0].<<: merge keys (<<) are not supported"})
}
