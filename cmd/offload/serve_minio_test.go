//go:build !offload_lambda

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/internal/varnishtest"
	"github.com/offload-dev/offload/plan"
)

// purgesApplied sums the purge decisions of the batches serve has applied,
// from its JSON log.
func purgesApplied(log string) int {
	n := 0
	for line := range strings.Lines(log) {
		var m struct {
			Msg   string `json:"msg"`
			Purge int    `json:"purge"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "inbox batch applied" {
			n += m.Purge
		}
	}
	return n
}

// TestServeMinIOVarnishEndToEnd runs the real components: MinIO is the
// origin and sends its notifications to `offload serve`, which purges a
// real Varnish in front of MinIO. A new version of an object is served
// through the cache within seconds, though the cache's TTL is a day.
func TestServeMinIOVarnishEndToEnd(t *testing.T) {
	bin := offloadBinary(t)
	minioAddr := miniotest.FreeAddress(t)
	cache := varnishtest.Start(t, minioAddr, varnishtest.Options{TTL: 24 * time.Hour})

	const token, host, bucket = "e2e-token", "www.example.com", "site"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "offload.yaml")
	// MinIO serves path-style, so the site's URLs start with the bucket.
	err := os.WriteFile(cfg, fmt.Appendf(nil, `auth:
  tokens: [env:OFFLOAD_TEST_TOKEN]
state:
  path: %s
batch:
  window: 100ms
sites:
  - name: www
    bucket: %s
    targets: [edge]
targets:
  - {name: edge, provider: varnish, endpoints: [%s], host: %s, base_url: "http://%s/%s"}
`, filepath.Join(dir, "offload.db"), bucket, cache.URL, host, host, bucket), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, bin, cfg, "OFFLOAD_TEST_TOKEN="+token)

	m := miniotest.Start(t, miniotest.Options{
		Address:  minioAddr,
		Webhooks: []miniotest.Webhook{{ID: "offload", Endpoint: "http://" + srv.Addr + "/v1/events", AuthToken: token}},
	})
	m.CreateBucket(t, bucket)
	m.AllowAnonymousRead(t, bucket)
	m.Notify(t, bucket, "offload")

	puts := 0
	// put writes an object and waits until serve has applied its event, so
	// that a purge of it cannot land after the reads that follow.
	put := func(key, body string) {
		t.Helper()
		m.Put(t, bucket, key, body)
		puts++
		deadline := time.Now().Add(10 * time.Second)
		for purgesApplied(srv.log.String()) < puts {
			if time.Now().After(deadline) {
				t.Fatalf("put %d (%s): serve applied %d purges after 10s\nminio log:\n%s", puts, key, purgesApplied(srv.log.String()), m.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	get := func(path string) (string, string) {
		t.Helper()
		body, xcache, err := cache.Get(host, path)
		if err != nil {
			t.Fatalf("GET %s through varnish: %v\n%s", path, err, body)
		}
		return body, xcache
	}

	for _, key := range []string{"docs/page.html", "docs/a b.html", "ünïcode/çafé.txt", "a+plus.txt"} {
		t.Run(key, func(t *testing.T) {
			path := "/" + bucket + plan.URLPath("/"+key)
			put(key, "version 1 of "+key)
			if body, _ := get(path); body != "version 1 of "+key {
				t.Fatalf("first read: %q, want version 1", body)
			}
			if body, xc := get(path); body != "version 1 of "+key || xc != "HIT" {
				t.Fatalf("second read: %q, X-Cache %s; want version 1 and HIT", body, xc)
			}

			put(key, "version 2 of "+key)
			deadline := time.Now().Add(10 * time.Second)
			for {
				body, _ := get(path)
				if body == "version 2 of "+key {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("10s after the new version: %q through varnish, want version 2", body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if body, xc := get(path); body != "version 2 of "+key || xc != "HIT" {
				t.Errorf("read after the purge: %q, X-Cache %s; want version 2 and HIT", body, xc)
			}
		})
	}
	if depth, failing := srv.inbox(t, token); depth != 0 || failing != 0 {
		t.Errorf("inbox depth %d, failing %d at the end; want 0 and 0", depth, failing)
	}
}
