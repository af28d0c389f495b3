package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/config"
)

// The annotated example is a configuration offload accepts, with the
// defaults filled in where it leaves a field out.
func TestExampleLoads(t *testing.T) {
	c, err := config.Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sites) != 1 || len(c.Targets) != 6 || len(c.Mirrors) != 3 {
		t.Fatalf("got %d sites, %d targets, %d mirrors; want 1, 6, 3", len(c.Sites), len(c.Targets), len(c.Mirrors))
	}
	s := c.Sites[0]
	if s.IndexDocument() != "index.html" || !s.PurgesNew() || s.Prefix != "public/" {
		t.Errorf("site: got %+v", s)
	}
	if c.Batch.Window.Duration != 500*time.Millisecond || c.State.Driver != "bolt" {
		t.Errorf("got window %s, driver %s; want 500ms, bolt", c.Batch.Window, c.State.Driver)
	}
	if got := c.Targets[0].Collapse; got != 10 {
		t.Errorf("targets[0].collapse: got %d, want 10", got)
	}
	if c.Targets[3].URLsPerRequest != 30 || c.Targets[4].Method != "PURGE" || c.Targets[1].Network != "production" {
		t.Errorf("targets: got %+v", c.Targets)
	}
	if m := c.Mirrors[0]; m.CPCode != "123456" {
		t.Errorf("cpcode: got %q, want 123456", m.CPCode)
	}
	if m := c.Mirrors[2]; !m.PathStyle || m.APIURL != "http://127.0.0.1:9000" {
		t.Errorf("mirrors[2]: got %+v, want path_style and api_url set", m)
	}
	if st := c.Auth.ScopedTokens; len(st) != 1 || st[0].Rate != 500 || st[0].Burst != 1000 {
		t.Errorf("auth.scoped_tokens: got %+v", st)
	}
	fromBytes, err := config.Parse("example.yaml", config.ExampleYAML())
	if err != nil {
		t.Fatalf("ExampleYAML: %v", err)
	}
	if len(fromBytes.Targets) != len(c.Targets) {
		t.Errorf("ExampleYAML has %d targets, example.yaml %d", len(fromBytes.Targets), len(c.Targets))
	}
}

func TestDefaults(t *testing.T) {
	c := config.Default()
	if c.Listen != "127.0.0.1:8080" || c.State.Driver != "bolt" || c.State.Path != "offload.db" || c.Batch.Window.Duration != 500*time.Millisecond {
		t.Fatalf("got %+v", c)
	}
	if c.Auth.Rate != 10 || c.Auth.Burst != 20 {
		t.Fatalf("auth: got rate %v burst %d, want 10 and 20", c.Auth.Rate, c.Auth.Burst)
	}
	empty, err := config.Parse("empty.yaml", nil)
	if err != nil || empty.State.Path != "offload.db" {
		t.Fatalf("empty file: %+v, %v", empty, err)
	}
	off := false
	idx := ""
	s := config.Site{PurgeNew: &off, Index: &idx}
	if s.PurgesNew() || s.IndexDocument() != "" {
		t.Fatal("explicit false and empty index are kept")
	}
}

// errorLines returns each error Parse found, as printed.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %T %v, want config.Errors", err, err)
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return lines
}

// checkErrors fails unless Parse reports exactly one error per want, in
// order, each starting with its want (file:line:column: field: message).
func checkErrors(t *testing.T, yaml string, want []string) {
	t.Helper()
	_, err := config.Parse("bad.yaml", []byte(yaml))
	if err == nil {
		t.Fatalf("got no error, want %q", want)
	}
	got := errorLines(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d errors:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d: got\n  %s\nwant it to start with\n  %s", i, got[i], want[i])
		}
	}
}

// Every error names the file, the line, the column and the field, and
// says what is allowed.
func TestErrorsSayWhereAndWhat(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level field", "listen: x\nsitez: []\n",
			[]string{`bad.yaml:2:1: sitez: unknown field; did you mean "sites"? (fields here: listen, auth, state, inbox, batch, sites, targets, mirrors)`}},
		{"syntax", "sites:\n  - name: [\n", []string{"bad.yaml:3:1: YAML syntax: "}},
		{"bad duration", "batch:\n  window: fast\n", []string{`bad.yaml:2:11: batch.window: "fast" is not a duration (write 500ms, 2s, 1m)`}},
		{"bad driver", "state:\n  driver: postgres\n", []string{`bad.yaml:2:11: state.driver: "postgres" is not a driver: use bolt, dynamodb, memory or nats`}},
		{"unknown provider", "targets:\n  - name: x\n    provider: akamia\n",
			[]string{`bad.yaml:3:15: targets[0].provider: "akamia" is not a provider: use cloudfront, akamai, fastly, cloudflare, varnish or log; did you mean "akamai"?`}},
		{"missing required", "targets:\n  - name: cf\n    provider: cloudfront\n", []string{"bad.yaml:2:5: targets[0].distribution_id: required by provider cloudfront"}},
		{"field of another provider", "targets:\n  - name: cf\n    provider: cloudfront\n    distribution_id: E1\n    zone_id: z\n",
			[]string{"bad.yaml:5:5: targets[0].zone_id: not used by provider cloudfront (its fields: name, provider, distribution_id, collapse, timeout)"}},
		{"typo in a provider's field", "targets:\n  - name: cf\n    provider: cloudfront\n    distribution_id: E1\n    colapse: 3\n",
			[]string{`bad.yaml:5:5: targets[0].colapse: unknown field; did you mean "collapse"? (the fields of a cloudfront target: name, provider, distribution_id, collapse, timeout)`}},
		{"bad url", "targets:\n  - name: a\n    provider: akamai\n    base_url: www.example.com\n",
			[]string{`bad.yaml:4:15: targets[0].base_url: "www.example.com" is not an absolute http(s) URL`}},
		{"cloudflare plan", "targets:\n  - {name: c, provider: cloudflare, zone_id: z, token: env:T, base_url: https://x.com, urls_per_request: 50}\n",
			[]string{"bad.yaml:2:106: targets[0].urls_per_request: 50: use 30, 100 or 500"}},
		{"literal secret", "targets:\n  - name: f\n    provider: fastly\n    service_id: s\n    base_url: https://x.com\n    token: abc123\n",
			[]string{"bad.yaml:6:12: targets[0].token: a secret is a reference, not the value: write env:NAME, file:PATH, ssm:/name or secretsmanager:name#key"}},
		{"unknown target", "sites:\n  - name: www\n    bucket: b\n    targets: [cf]\n", []string{`bad.yaml:4:15: sites[0].targets[0]: no target is named "cf" (no targets are configured)`}},
		{"unknown mirror", "mirrors:\n  - {name: copy, provider: s3, bucket: m}\nsites:\n  - name: www\n    bucket: b\n    mirrors: [cpy]\n",
			[]string{`bad.yaml:6:15: sites[0].mirrors[0]: no mirror is named "cpy" (configured: "copy")`}},
		{"duplicate names", "targets:\n  - {name: cf, provider: cloudfront, distribution_id: A}\n  - {name: cf, provider: cloudfront, distribution_id: B}\n",
			[]string{`bad.yaml:3:12: targets[1].name: "cf" is used by another target`}},
		{"site without bucket", "sites:\n  - name: www\n", []string{"bad.yaml:2:5: sites[0].bucket: required"}},
		{"scoped token without routes", "auth:\n  scoped_tokens:\n    - token: env:MINIO_TOKEN\n", []string{"bad.yaml:3:7: auth.scoped_tokens[0].routes: required"}},
		{"scoped token unknown route", "auth:\n  scoped_tokens:\n    - token: env:MINIO_TOKEN\n      routes:\n        - POST /v1/events\n        - POST /v1/event\n",
			[]string{`bad.yaml:6:11: auth.scoped_tokens[0].routes[1]: "POST /v1/event" is not a route: use one of "POST /v1/events"`}},
		{"scoped literal token", "auth:\n  scoped_tokens:\n    - routes: [POST /v1/events]\n      token: abc\n", []string{"bad.yaml:4:14: auth.scoped_tokens[0].token: a secret is a reference"}},
		{"scoped token missing", "auth:\n  scoped_tokens:\n    - routes: [POST /v1/events]\n", []string{"bad.yaml:3:7: auth.scoped_tokens[0].token: required"}},
		{"negative rate", "auth:\n  rate: -1\n  burst: -2\n", []string{"bad.yaml:2:9: auth.rate: must be more than 0", "bad.yaml:3:10: auth.burst: must be 1 or more"}},
		{"negative scoped rate", "auth:\n  scoped_tokens:\n    - token: env:T\n      routes: [GET /metrics]\n      rate: -3\n",
			[]string{"bad.yaml:5:13: auth.scoped_tokens[0].rate: must be more than 0"}},
		{"cloudflare plan name", "targets:\n  - {name: c, provider: cloudflare, zone_id: z, token: env:T, base_url: https://x.com, plan: enterprize}\n",
			[]string{`bad.yaml:2:94: targets[0].plan: "enterprize": use free, pro, business or enterprise, the zone's Cloudflare plan; did you mean "enterprise"?`}},
		{"timeout too long", "targets:\n  - {name: cf, provider: cloudfront, distribution_id: E1, timeout: 10m}\n",
			[]string{"bad.yaml:2:68: targets[0].timeout: 10m0s: use a duration from 1ms to 5m0s (default 30s)"}},
		{"negative timeout", "mirrors:\n  - {name: m, provider: s3, bucket: b, timeout: -1s}\n",
			[]string{"bad.yaml:2:49: mirrors[0].timeout: -1s: use a duration from 1ms to 5m0s (default 30s)"}},
		{"timeout for a dry run", "targets:\n  - {name: d, provider: log, timeout: 1s}\n",
			[]string{"bad.yaml:2:30: targets[0].timeout: not used by provider log (its fields: name, provider, base_url)"}},
		{"prefix with slash", "sites:\n  - name: www\n    bucket: b\n    prefix: /public/\n", []string{`bad.yaml:4:13: sites[0].prefix: "/public/": S3 keys do not start with /; write "public/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.yaml, tt.want) })
	}
}

func TestAuthScopedTokens(t *testing.T) {
	c, err := config.Parse("ok.yaml", []byte(`auth:
  tokens: [env:OFFLOAD_TOKEN]
  scoped_tokens:
    - token: env:MINIO_TOKEN
      routes: ["POST /v1/events", "GET /v1/inbox"]
      rate: 500
      burst: 1000
  rate: 2.5
  burst: 5
`))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Auth
	if len(a.ScopedTokens) != 1 || a.ScopedTokens[0].Token != "env:MINIO_TOKEN" || len(a.ScopedTokens[0].Routes) != 2 || a.ScopedTokens[0].Rate != 500 || a.ScopedTokens[0].Burst != 1000 || a.Rate != 2.5 || a.Burst != 5 {
		t.Errorf("got %+v", a)
	}
}

// recorder is a Redactor that keeps what it is told.
type recorder struct {
	mu   sync.Mutex
	told []string
}

func (r *recorder) Add(s string) {
	r.mu.Lock()
	r.told = append(r.told, s)
	r.mu.Unlock()
}

// Every value resolved is told to the redactor, on every read: an env:
// value may change between reads.
func TestResolverTellsTheRedactor(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("key-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OFFLOAD_TEST_TOKEN", "token-from-env")
	c, err := cache.New(cache.Options{})
	if err != nil {
		panic(err)
	}
	r := config.NewResolver(c, nil)
	rec := &recorder{}
	r.SetRedactor(rec)
	ctx := context.Background()
	for _, ref := range []config.Secret{"env:OFFLOAD_TEST_TOKEN", config.Secret("file:" + file), "env:OFFLOAD_TEST_UNSET"} {
		_, _ = r.Resolve(ctx, ref)
	}
	t.Setenv("OFFLOAD_TEST_TOKEN", "token-rotated")
	if _, err := r.Resolve(ctx, "env:OFFLOAD_TEST_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"token-from-env", "key-from-file", "token-rotated"}; !slices.Equal(rec.told, want) {
		t.Errorf("got %q told, want %q", rec.told, want)
	}
}

func TestResolveSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OFFLOAD_TEST_TOKEN", "from-env")
	c, err := cache.New(cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := config.NewResolver(c, nil)
	ctx := context.Background()
	for _, tt := range []struct {
		ref  config.Secret
		want string
		err  string
	}{
		{"env:OFFLOAD_TEST_TOKEN", "from-env", ""},
		{config.Secret("file:" + file), "from-file", ""},
		{"env:OFFLOAD_TEST_UNSET", "", "env:OFFLOAD_TEST_UNSET: the environment variable OFFLOAD_TEST_UNSET is not set"},
		{"ssm:/x", "", "no AWS configuration"},
		{"plain", "", "a secret is a reference"},
	} {
		got, err := r.Resolve(ctx, tt.ref)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got %q, %v; want an error with %q", tt.ref, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
}
