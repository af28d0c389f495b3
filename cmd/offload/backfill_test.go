package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/pipeline"
)

func seedBucket(t *testing.T, moto *awstest.Moto, n int) map[string]string {
	t.Helper()
	c := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("my-site")}); err != nil {
		t.Fatal(err)
	}
	etags := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("public/p%03d.html", i)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String(key), Body: strings.NewReader(fmt.Sprint("page ", i))})
		if err != nil {
			t.Fatal(err)
		}
		etags[key] = strings.Trim(aws.ToString(out.ETag), `"`)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String("private/x"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	return etags
}

// --seed-ledger records what exists, so the first events for existing
// objects do not purge them.
func TestBackfillSeedLedger(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	etags := seedBucket(t, moto, 25)
	dir := t.TempDir()
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {path: %s}
sites:
  - {name: www, bucket: my-site, prefix: public/, targets: [dry]}
targets:
  - {name: dry, provider: log, base_url: https://www.example.com}
`, filepath.Join(dir, "offload.db")))
	code, out, errs := offload(t, "", "backfill", "--config", cfg, "--site", "www", "--seed-ledger")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum backfillSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Objects != 25 || sum.Recorded != 25 || sum.Mirrored != 0 {
		t.Fatalf("summary: %+v (%v)\n%s", sum, err, out)
	}
	if !strings.Contains(errs, "25/25 objects (100%)") {
		t.Fatalf("progress: %q", errs)
	}

	// An event for an existing, unchanged object is skipped; a changed one purges.
	ev := fmt.Sprintf(`{"Records":[
	 {"eventSource":"aws:s3","eventTime":"2099-01-01T00:00:00Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{"key":"public/p001.html","eTag":%q,"sequencer":"01"}}},
	 {"eventSource":"aws:s3","eventTime":"2099-01-01T00:00:00Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{"key":"public/p002.html","eTag":"different","sequencer":"01"}}}]}`, etags["public/p001.html"])
	code, out, errs = offload(t, ev, "apply", "--config", cfg, "--events", "-")
	if code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, errs)
	}
	var res pipeline.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if r0, r1 := res.Changes[0].Reason, res.Changes[1].Reason; r0 != "unchanged" || r1 != "changed" {
		t.Fatalf("reasons: got %s and %s, want unchanged and changed", r0, r1)
	}
}

// Without --seed-ledger every object is mirrored, streamed from S3.
func TestBackfillMirrors(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsEnv(t, moto)
	seedBucket(t, moto, 12)
	ns := akamaitest.NewNetStorage("123456", "uploader", "ns-secret-key")
	defer ns.Close()
	t.Setenv("NS_KEY", "ns-secret-key")
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`state: {driver: memory}
sites:
  - {name: www, bucket: my-site, prefix: public/, mirrors: [ns], targets: []}
mirrors:
  - {name: ns, provider: netstorage, host: example-nsu.akamaihd.net, api_url: %s, cpcode: "123456", dir: /site, keyname: uploader, key: "env:NS_KEY"}
`, ns.URL))
	code, out, errs := offload(t, "", "backfill", "--config", cfg, "--site", "www")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for i := range 12 {
		if _, ok := ns.File(fmt.Sprintf("/123456/site/p%03d.html", i)); !ok {
			t.Fatalf("p%03d.html was not mirrored", i)
		}
	}
	if _, ok := ns.File("/123456/site/private/x"); ok {
		t.Fatal("an object outside the prefix was mirrored")
	}
	if strings.Contains(errs+out, "ns-secret-key") {
		t.Fatal("the NetStorage key reached the output")
	}

	// NetStorage refuses everything: the failures are listed, exit 1.
	ns.Fail(403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403)
	code, out, _ = offload(t, "", "backfill", "--config", cfg, "--site", "www", "--concurrency", "1")
	var sum backfillSummary
	_ = json.Unmarshal([]byte(out), &sum)
	if code != exitFailed || len(sum.Failed) == 0 || !strings.Contains(sum.Failed[0].Error, "403") {
		t.Fatalf("with NetStorage refusing: exit %d, %+v", code, sum)
	}
}
