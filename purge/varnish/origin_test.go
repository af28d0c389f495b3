package varnish_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/internal/varnishtest"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/varnish"
)

// A purged object Varnish still holds is revalidated with both of its
// validators. MinIO answers 304 when If-Modified-Since holds even though
// If-None-Match does not, so a new version written in the same second as
// the cached one was kept out for the whole TTL (2 to 7 purges in 300 with
// a reader at the edge every millisecond). The VCL's vcl_backend_fetch
// leaves the ETag to decide. A soft purge keeps the purged object for
// revalidation, which a hard purge does only for a moment, so the test
// fails every time without the fix rather than now and then.
func TestPurgeSameSecondVersionMinIO(t *testing.T) {
	ctx := context.Background()
	m := miniotest.Start(t, miniotest.Options{})
	const bucket = "site"
	m.CreateBucket(t, bucket)
	m.AllowAnonymousRead(t, bucket)
	v := varnishtest.Start(t, varnishtest.HostPort(m.URL), varnishtest.Options{SoftPurge: true})
	c, err := varnish.New(varnish.Options{Endpoints: []string{v.URL}, Host: host})
	if err != nil {
		t.Fatal(err)
	}
	// Both versions must carry the same Last-Modified: a try that
	// crosses a second uses a key of its own.
	for try := range 5 {
		key := fmt.Sprintf("pages/%d.html", try)
		path := "/" + bucket + "/" + key
		m.Put(t, bucket, key, "old")
		warm(t, v, path, "old")
		before := lastModified(t, m, bucket, key)
		m.Put(t, bucket, key, "new")
		if lastModified(t, m, bucket, key) != before {
			continue
		}
		res, err := c.Purge(ctx, purge.Request{Items: purge.Paths(path)})
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if !res.Outcomes[0].OK {
			t.Fatalf("outcome: got %+v, want OK", res.Outcomes[0])
		}
		body, cache, err := v.Get(host, path)
		if err != nil {
			t.Fatal(err)
		}
		if body != "new" || cache != "MISS" {
			t.Fatalf("GET %s after the purge: got %q %s, want %q MISS", path, body, cache, "new")
		}
		return
	}
	t.Fatal("5 tries each wrote the two versions in different seconds")
}

func lastModified(t *testing.T, m *miniotest.MinIO, bucket, key string) string {
	t.Helper()
	out, err := m.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToTime(out.LastModified).UTC().Format(http.TimeFormat)
}
