//go:build !offload_lambda

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/internal/natstest"
	"github.com/offload-dev/offload/internal/varnishtest"
	"github.com/offload-dev/offload/plan"
)

// cluster is the real deployment of docs/jetstream.md on loopback: MinIO
// publishing its bucket notifications to JetStream, three `offload serve`
// replicas sharing the inbox and the key-value ledger, and Varnish in front
// of MinIO, purged by the replicas.
type cluster struct {
	nats     *natstest.Server
	minio    *miniotest.MinIO
	cache    *varnishtest.Varnish
	replicas []*serveProcess
	bin      string
	cfgs     []string
	js       jetstream.JetStream
	purging  atomic.Int64 // PURGE requests of the first replica in progress
}

const (
	clusterToken  = "cluster-token"
	clusterHost   = "www.example.com"
	clusterBucket = "site"
)

// startCluster starts everything. The first replica purges through a slow
// proxy, so that it is almost always in the middle of a batch: the one a
// test kills.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{bin: offloadBinary(t), nats: natstest.Start(t, natstest.Options{})}
	minioAddr := miniotest.FreeAddress(t)
	c.cache = varnishtest.Start(t, minioAddr, varnishtest.Options{TTL: 24 * time.Hour})

	target, _ := url.Parse(c.cache.URL)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.purging.Add(1)
		defer c.purging.Add(-1)
		time.Sleep(100 * time.Millisecond)
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)

	dir := t.TempDir()
	for i, edge := range []string{slow.URL, c.cache.URL, c.cache.URL} {
		cfg := filepath.Join(dir, fmt.Sprintf("replica%d.yaml", i))
		err := os.WriteFile(cfg, fmt.Appendf(nil, `auth:
  tokens: [env:OFFLOAD_TEST_TOKEN]
state:
  driver: nats
inbox:
  driver: nats
  url: %s
  ack_wait: 2s
batch:
  window: 200ms
sites:
  - name: www
    bucket: %s
    targets: [edge]
targets:
  - {name: edge, provider: varnish, endpoints: [%s], host: %s, base_url: "http://%s/%s"}
`, c.nats.URL, clusterBucket, edge, clusterHost, clusterHost, clusterBucket), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		c.cfgs = append(c.cfgs, cfg)
		c.replicas = append(c.replicas, startServe(t, c.bin, cfg, "OFFLOAD_TEST_TOKEN="+clusterToken))
	}
	// The replicas made the stream; MinIO publishes to it.
	c.minio = miniotest.Start(t, miniotest.Options{Address: minioAddr, NATS: []miniotest.NATS{{
		ID: "offload", Address: c.nats.Addr, Subject: "offload.events", QueueDir: filepath.Join(dir, "minio-queue"),
	}}})
	c.minio.CreateBucket(t, clusterBucket)
	c.minio.AllowAnonymousRead(t, clusterBucket)
	if err := c.minio.SetNotifyARN(context.Background(), clusterBucket, miniotest.NATSQueueARN("offload")); err != nil {
		t.Fatal(err)
	}

	nc, err := nats.Connect(c.nats.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c.js, _ = jetstream.New(nc)
	return c
}

func (c *cluster) put(key, body string) error {
	_, err := c.minio.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(clusterBucket), Key: aws.String(key), Body: strings.NewReader(body), ContentType: aws.String("text/plain"),
	})
	return err
}

func (c *cluster) get(t *testing.T, key string) (string, string) {
	t.Helper()
	body, xcache, err := c.cache.Get(clusterHost, "/"+clusterBucket+plan.URLPath("/"+key))
	if err != nil {
		t.Fatalf("GET %s through varnish: %v", key, err)
	}
	return body, xcache
}

// queue reads GET /v1/inbox from a replica.
func (c *cluster) queue(t *testing.T, p *serveProcess) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.Addr+"/v1/inbox", nil)
	req.Header.Set("Authorization", "Bearer "+clusterToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// ledgerWrites is how many records the replicas committed to the shared
// ledger: every write is a message of the bucket's stream.
func (c *cluster) ledgerWrites(t *testing.T) uint64 {
	t.Helper()
	s, err := c.js.Stream(context.Background(), "KV_offload-ledger")
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.LastSeq
}

// logSum adds up an attribute of the "inbox batch applied" lines of logs.
func logSum(attr string, logs ...string) int {
	n := 0
	for _, l := range logs {
		for line := range strings.Lines(l) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "inbox batch applied" {
				v, _ := m[attr].(float64)
				n += int(v)
			}
		}
	}
	return n
}

// warm puts version 1 of every key, waits until the replicas recorded
// them, and caches each in Varnish.
func (c *cluster) warm(t *testing.T, keys []string) {
	t.Helper()
	for _, k := range keys {
		if err := c.put(k, "v1 "+k); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 30*time.Second, "the first versions recorded", func() bool { return c.ledgerWrites(t) >= uint64(len(keys)) })
	for _, k := range keys {
		if body, _ := c.get(t, k); body != "v1 "+k {
			t.Fatalf("%s through varnish: got %q, want v1", k, body)
		}
		if _, xc := c.get(t, k); xc != "HIT" {
			t.Fatalf("%s: second read X-Cache %s, want HIT", k, xc)
		}
	}
}

// burst puts version 2 of every key from 8 senders, calling during once
// a third of them are in.
func (c *cluster) burst(t *testing.T, keys []string, during func()) {
	t.Helper()
	next := make(chan string)
	var done atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	for range 8 {
		wg.Go(func() {
			for k := range next {
				// MinIO keeps an event it cannot publish in its queue and
				// sends it later; a put it refused is sent again.
				for attempt := 0; ; attempt++ {
					err := c.put(k, "v2 "+k)
					if err == nil {
						break
					}
					if attempt == 20 {
						t.Errorf("put %s: %v", k, err)
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if done.Add(1) == int64(len(keys)/3) {
					once.Do(during)
				}
			}
		})
	}
	for _, k := range keys {
		next <- k
	}
	close(next)
	wg.Wait()
}

// fresh checks that every key is served at version 2 through Varnish
// (purged at the edge), that each change was recorded once, and that
// nothing is left in the inbox, in flight or dead-lettered.
func (c *cluster) fresh(t *testing.T, keys []string, alive *serveProcess) {
	t.Helper()
	waitUntil(t, 60*time.Second, "every key fresh at the edge", func() bool {
		for _, k := range keys {
			if body, _ := c.get(t, k); body != "v2 "+k {
				return false
			}
		}
		return true
	})
	waitUntil(t, 30*time.Second, "the inbox empty and nothing unacked", func() bool {
		st := c.queue(t, alive)
		return st["depth"] == 0.0 && st["pending"] == 0.0 && st["in_flight"] == 0.0
	})
	st := c.queue(t, alive)
	if st["driver"] != "nats" || st["dead_lettered"] != 0.0 || st["redelivered"] != 0.0 {
		t.Errorf("GET /v1/inbox at the end: got %v; want driver nats, nothing dead-lettered or redelivered", st)
	}
	if got, want := c.ledgerWrites(t), uint64(2*len(keys)); got != want {
		t.Errorf("ledger writes: got %d, want %d (every change recorded once)", got, want)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not yet %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func clusterKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("burst/%03d page.html", i)
	}
	return keys
}

// Kill -9 one of three replicas in the middle of a burst MinIO publishes
// to JetStream: its batch in hand goes to the others after ack_wait, and
// every change is purged at the edge and recorded once.
func TestServeNATSKill9OneReplica(t *testing.T) {
	c := startCluster(t)
	keys := clusterKeys(120)
	c.warm(t, keys)
	victim := c.replicas[0]
	c.burst(t, keys, func() {
		// In the middle of a batch: purging, so not yet acked.
		deadline := time.Now().Add(20 * time.Second)
		for c.purging.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		_ = victim.cmd.Process.Signal(syscall.SIGKILL)
	})
	<-victim.done
	c.fresh(t, keys, c.replicas[1])
	survivors := []string{c.replicas[1].log.String(), c.replicas[2].log.String()}
	redelivered := logSum("redelivered", survivors...)
	t.Logf("the killed replica had applied %d purges; the others %d, %d of their messages redelivered",
		logSum("purge", victim.log.String()), logSum("purge", survivors...), redelivered)
	if redelivered == 0 {
		t.Errorf("no message was delivered again: the kill did not land while the replica held a batch")
	}
	for _, p := range c.replicas[1:] {
		p.stop(t, syscall.SIGTERM)
		if p.err != nil {
			t.Errorf("replica after SIGTERM: %v, want exit 0", p.err)
		}
	}
}

// Stop nats-server for a few seconds in the middle of a burst: MinIO keeps
// what it cannot publish, the replicas reconnect, and nothing is lost.
func TestServeNATSRestart(t *testing.T) {
	c := startCluster(t)
	keys := clusterKeys(90)
	c.warm(t, keys)
	c.burst(t, keys, func() {
		c.nats.Close()
		time.Sleep(3 * time.Second) // the outage
		if err := c.nats.Restart(); err != nil {
			t.Errorf("restart nats-server: %v", err)
		}
	})
	c.fresh(t, keys, c.replicas[2])
	logs := ""
	for _, p := range c.replicas {
		logs += p.log.String()
	}
	if !strings.Contains(logs, "nats: reconnected") {
		t.Errorf("no replica logged a reconnection")
	}
	for _, p := range c.replicas {
		if st := c.queue(t, p); st["driver"] != "nats" {
			t.Errorf("replica %s answers GET /v1/inbox with %v", p.Addr, st)
		}
	}
}
