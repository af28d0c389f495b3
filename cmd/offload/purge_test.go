package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

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
		want string
	}{
		{[]string{"purge", "/x"}, "--target NAME"},
		{[]string{"purge", "--target", "a", "--provider", "log", "/x"}, "exclude each other"},
		{[]string{"purge", "--provider", "log", "--base-url", "http://x"}, "nothing to purge"},
		{[]string{"purge", "--provider", "cloudflare", "--zone-id", "z", "--base-url", "https://x", "/a"}, "--token: required by provider cloudflare"},
		{[]string{"purge", "--provider", "fastly", "--service-id", "s", "--base-url", "https://x", "--token", "abc", "/a"}, "--token: a secret is a reference"},
		{[]string{"purge", "--target", "nope", "/x"}, `no target "nope" in the embedded defaults`},
	} {
		code, _, errs := offload(t, "", tt.args...)
		if code != exitUsage || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: got %d %q, want %d and %q", tt.args, code, errs, exitUsage, tt.want)
		}
	}
}
