//go:build !offload_lambda

package main

import (
	"encoding/json"
	"encoding/pem"
	"flag"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/varnishtest"
	"github.com/offload-dev/offload/purge"
)

func TestPurgeTargetCloudFrontAndWait(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	dist := moto.CreateDistribution(t)
	cfg := writeFile(t, "offload.yaml", "targets:\n  - {name: cf, provider: cloudfront, distribution_id: "+dist+"}\n")

	code, out, errs := offload(t, "", "purge", "--config", cfg, "--target", "cf", "/docs/", "/a b.html", "--wait", "--poll", "10ms")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res purge.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not a purge result: %v\n%s", err, out)
	}
	if len(res.Calls) != 1 || res.Calls[0].ID == "" || len(res.Outcomes) != 2 || !res.Outcomes[1].OK {
		t.Fatalf("result: %+v", res)
	}
	if !strings.Contains(errs, res.Calls[0].ID) || !strings.Contains(strings.ToLower(errs), "completed") || !strings.Contains(errs, "done in") {
		t.Fatalf("--wait progress: %q", errs)
	}
	got := moto.Invalidations(t, dist)
	if len(got) != 1 || !slices.Equal(got[0], []string{"/a%20b.html", "/docs/"}) && !slices.Equal(got[0], []string{"/docs/", "/a%20b.html"}) {
		t.Fatalf("invalidations in moto: %q", got)
	}
}

// A provider's refusal reaches the user with its own message and ids.
func TestPurgeProviderErrorReachesTheUser(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	dist := moto.CreateDistribution(t)
	proxy := awstest.NewFaultProxy(moto.URL)
	defer proxy.Close()
	awsEnv(t, moto)
	t.Setenv("AWS_ENDPOINT_URL", proxy.URL)
	proxy.Inject(awstest.Fault{Times: -1, Status: 403, Code: "AccessDenied", Message: "User is not authorized to perform: cloudfront:CreateInvalidation"})

	code, _, errs := offload(t, "", "purge", "--provider", "cloudfront", "--distribution-id", dist, "/x.html")
	if code != exitFailed {
		t.Fatalf("exit: got %d, want %d (%s)", code, exitFailed, errs)
	}
	for _, want := range []string{"AccessDenied", "not authorized to perform: cloudfront:CreateInvalidation", "awstest-fault"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// Ad hoc, against a real Varnish: the cached page is gone after the purge.
func TestPurgeAdhocVarnish(t *testing.T) {
	origin := varnishtest.NewOrigin(t)
	origin.Set("www.example.com", "/a%20b.html", "v1")
	v := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})
	get := func() string {
		t.Helper()
		body, cache, err := v.Get("www.example.com", "/a%20b.html")
		if err != nil {
			t.Fatal(err)
		}
		return body + " " + cache
	}
	get()
	if got := get(); got != "v1 HIT" {
		t.Fatalf("second read: got %q, want a HIT", got)
	}
	origin.Set("www.example.com", "/a%20b.html", "v2")
	code, _, errs := offload(t, "", "purge", "--provider", "varnish", "--endpoint", v.URL, "--host", "www.example.com", "/a b.html")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := get(); got != "v2 MISS" {
		t.Fatalf("after the purge: got %q, want the new content", got)
	}
}

func TestPurgeUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"purge", "/x"}, []string{"--target NAME"}},
		{[]string{"purge", "--target", "a", "--provider", "log", "/x"}, []string{"exclude each other"}},
		{[]string{"purge", "--target", "dry-run", "--endpoint", "http://127.0.0.1:6081", "/x"}, []string{"--endpoint is a provider flag"}},
		{[]string{"purge", "--provider", "log", "--base-url", "http://x"}, []string{"nothing to purge"}},
		{[]string{"purge", "--provider", "cloudflare", "--zone-id", "z", "--base-url", "https://x", "/a"}, []string{"--token: required by provider cloudflare"}},
		{[]string{"purge", "--provider", "fastly", "--service-id", "s", "--base-url", "https://x", "--token", "abc", "/a"}, []string{"--token: a secret is a reference"}},
		{[]string{"purge", "--provider", "cloudfront", "/a"}, []string{"--distribution-id: required by provider cloudfront"}},
		{[]string{"purge", "--provider", "varnish", "--host", "www.example.com", "/a"}, []string{"offload purge: --endpoint: required by provider varnish\n"}},
		{[]string{"purge", "--provider", "varnish", "--endpoint", "http://127.0.0.1:6081", "--endpoint", "nope", "--host", "h", "/a"}, []string{`--endpoint: "nope" is not an absolute http(s) URL`}},
		{[]string{"purge", "--provider", "varnish", "--endpoint", "http://127.0.0.1:6081", "/a"}, []string{"--host: set --host", "or --base-url"}},
		{[]string{"purge", "--provider", "varnish", "--endpoint", "http://127.0.0.1:6081", "--host", "h", "--zone-id", "z", "/a"},
			[]string{"--zone-id: not used by provider varnish (its fields: --base-url, --endpoint, --method, --host)"}},
		{[]string{"purge", "--provider", "akamai", "--base-url", "https://x", "--network", "prod", "/a"}, []string{`--network: "prod": use production or staging`}},
		{[]string{"purge", "--provider", "cdn77", "/a"}, []string{`--provider: "cdn77" is not a provider`}},
		{[]string{"purge", "--wait", "--poll", "0s", "--target", "dry-run", "/a"}, []string{"--poll must be more than 0"}},
	} {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			code, out, errs := offload(t, "", tt.args...)
			if code != exitUsage || out != "" {
				t.Fatalf("got exit %d, stdout %q, stderr %q; want exit 2 and nothing on stdout", code, out, errs)
			}
			for _, want := range tt.want {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr: got %q, want %q in it", errs, want)
				}
			}
			if strings.Contains(errs, "targets[0]") || strings.Contains(errs, "_") {
				t.Errorf("stderr: got %q; it speaks of configuration fields, not of flags", errs)
			}
			if !strings.HasSuffix(errs, "Run 'offload purge --help'.\n") {
				t.Errorf("stderr: got %q, want the hint to run offload purge --help last", errs)
			}
		})
	}
	// A target missing from the configuration is a mistake in the
	// configuration's use, not of the flags: no hint, but the targets there are.
	code, _, errs := offload(t, "", "purge", "--target", "nope", "/x")
	if want := `no target "nope" in the embedded defaults (targets: dry-run)`; code != exitUsage || !strings.Contains(errs, want) {
		t.Errorf("got %d %q, want %d and %q", code, errs, exitUsage, want)
	}
}

// Each provider flag sets the target field of its name, so a reader of
// the configuration can guess the flag and the reverse: --distribution-id
// sets distribution_id, --endpoint (repeated) endpoints.
func TestProviderFlagsMatchTargetFields(t *testing.T) {
	fields := map[string]bool{}
	tt := reflect.TypeFor[config.Target]()
	for i := range tt.NumField() {
		name, _, _ := strings.Cut(tt.Field(i).Tag.Get("yaml"), ",")
		fields[name] = true
	}
	// name and provider are purge's own --provider (and "adhoc"); collapse
	// is the planner's, and purge purges exactly what it is given; purge's
	// own --timeout is how long --wait waits, so an ad-hoc target keeps
	// the default request timeout.
	notFlags := map[string]bool{"name": true, "provider": true, "collapse": true, "timeout": true}
	flagged := map[string]bool{}
	providerFlags().VisitAll(func(f *flag.Flag) {
		field := providerFlagField(f.Name)
		if !fields[field] {
			t.Errorf("--%s sets %s, which is not a field of a target", f.Name, field)
		}
		if f.Name != field && f.Name+"s" != field && strings.ReplaceAll(f.Name, "-", "_") != field {
			t.Errorf("--%s sets %s: the names differ", f.Name, field)
		}
		flagged[field] = true
	})
	for field := range fields {
		if !flagged[field] && !notFlags[field] {
			t.Errorf("a target's field %s has no provider flag", field)
		}
	}
}

// AWS_CA_BUNDLE reaches the CloudFront client, which has an HTTP client of
// its own (its answer timeout): moto behind TLS with a certificate only
// the bundle trusts.
func TestPurgeCloudFrontTrustsTheCABundle(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	dist := moto.CreateDistribution(t)
	target, err := url.Parse(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	tlsMoto := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	defer tlsMoto.Close()
	bundle := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsMoto.Certificate().Raw})))
	t.Setenv("AWS_ENDPOINT_URL", tlsMoto.URL)
	cfg := writeFile(t, "offload.yaml", "targets:\n  - {name: cf, provider: cloudfront, distribution_id: "+dist+"}\n")

	for _, c := range []struct {
		bundle string
		want   int
		errs   string
	}{{"", exitFailed, "certificate signed by unknown authority"}, {bundle, exitOK, ""}} {
		t.Setenv("AWS_CA_BUNDLE", c.bundle)
		code, _, errs := offload(t, "", "purge", "--config", cfg, "--target", "cf", "/a.html")
		if code != c.want || !strings.Contains(errs, c.errs) {
			t.Errorf("AWS_CA_BUNDLE %q: got exit %d, want %d with %q: %s", c.bundle, code, c.want, c.errs, errs)
		}
	}
	if got := moto.Invalidations(t, dist); len(got) != 1 {
		t.Errorf("invalidations in moto: got %q, want the one made with the bundle", got)
	}
}
