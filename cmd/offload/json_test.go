//go:build !offload_lambda

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/schematest"
)

// notProduced are the fields docs/json.md documents that the runs below
// cannot make, and why. Anything else documented must show up in a real
// output, so the doc describes no field offload does not print.
var notProduced = map[string]string{
	// Only Akamai gives an estimate, and its test server speaks TLS with a
	// certificate the command's own HTTP client does not trust.
	"purges[].result.calls[].estimated": "Akamai only",
}

// TestOutputMatchesDocs runs the real `offload plan` and `offload apply` on
// every fixture in event/testdata, through CloudFront (moto), a dry-run
// target, a Cloudflare API that refuses every purge, and an S3 mirror
// (moto) missing one source object, and checks every output against the
// schemas docs/json.md is written from: no field the doc does not describe,
// no required field missing, no null list.
func TestOutputMatchesDocs(t *testing.T) {
	schemas, err := schematest.Load("../../docs")
	if err != nil {
		t.Fatal(err)
	}
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	dist := moto.CreateDistribution(t)
	s3c := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	for _, b := range []string{"my-site", "my-site-mirror"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	// Every object the fixtures put, but img/a b+c.png: its mirror fails.
	for _, k := range []string{"docs/a b.html", "docs/a b+c ü~*.html", "css/site.css"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// Cloudflare's answer to a request it refuses.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"success":false,"errors":[{"code":1012,"message":"Request must contain one of \"purge_everything\", \"files\", \"tags\", \"hosts\" or \"prefixes\""}],"messages":[],"result":null}`)
	}))
	defer refuse.Close()
	t.Setenv("CF_API_TOKEN", "cf-test-token")

	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {path: %s}
sites:
  - {name: www, bucket: my-site, index: index.html, purge_new: true, mirrors: [copy], targets: [cf, dry]}
  - {name: docs, bucket: my-site, prefix: docs/, purge_new: true, targets: [cfl]}
targets:
  - {name: cf, provider: cloudfront, distribution_id: %s}
  - {name: dry, provider: log, base_url: https://www.example.com}
  - {name: cfl, provider: cloudflare, zone_id: 023e105f4ecef8ad9ca31a8372d0c353, token: "env:CF_API_TOKEN", base_url: https://www.example.com, api_url: %s}
mirrors:
  - {name: copy, provider: s3, bucket: my-site-mirror}
`, filepath.Join(t.TempDir(), "offload.db"), dist, refuse.URL))

	fixtures, err := filepath.Glob("../../event/testdata/*.json")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("fixtures: got %d (%v), want every file in event/testdata", len(fixtures), err)
	}
	seen := map[string]map[string]bool{"plan": {}, "result": {}}
	check := func(root, what, out string) {
		t.Helper()
		if err := schemas.Validate(root, []byte(out)); err != nil {
			t.Errorf("%s: the output is not what docs/json.md describes: %v\n%s", what, err, out)
		}
		paths, err := schematest.DocPaths([]byte(out))
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		for _, p := range paths {
			seen[root][p] = true
		}
	}
	// Twice over: the second round meets the ledger the first one wrote.
	for round := 1; round <= 2; round++ {
		for _, f := range fixtures {
			what := fmt.Sprintf("round %d, %s", round, filepath.Base(f))
			code, out, errs := offload(t, "", "plan", "--config", cfg, "--events", f)
			if code != exitOK {
				t.Fatalf("%s: plan: exit %d: %s", what, code, errs)
			}
			check("plan", what+": plan", out)
			code, out, errs = offload(t, "", "apply", "--config", cfg, "--events", f)
			if code != exitOK && code != exitFailed {
				t.Fatalf("%s: apply: exit %d: %s", what, code, errs)
			}
			check("result", what+": apply", out)
			if strings.Contains(out+errs, "cf-test-token") {
				t.Fatalf("%s: the Cloudflare token reached the output", what)
			}
		}
	}

	for root := range seen {
		documented, err := schemas.Paths(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range documented {
			produced := seen[root][p]
			_, excused := notProduced[p]
			switch {
			case !produced && !excused:
				t.Errorf("%s: %s is documented, but no run printed it: got none, want it in some output (or in notProduced, with why)", root, p)
			case produced && excused:
				t.Errorf("%s: %s is printed now: remove it from notProduced", root, p)
			}
		}
		// Every field printed is documented (Validate says so too, with
		// less to read).
		for p := range seen[root] {
			if !slices.Contains(documented, p) && !underMap(p, documented) {
				t.Errorf("%s: %s was printed, but docs/json.md does not describe it", root, p)
			}
		}
	}
}

// underMap reports whether p is a key inside a documented map of counts
// (stats.reasons.new).
func underMap(p string, documented []string) bool {
	i := strings.LastIndexByte(p, '.')
	return i > 0 && slices.Contains([]string{"stats.reasons", "stats.requests", "stats.items"}, p[:i]) && slices.Contains(documented, p[:i])
}
