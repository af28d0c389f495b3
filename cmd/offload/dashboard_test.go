//go:build !offload_lambda

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/varnishtest"
)

// chromiumBin is Debian's chromium, installed by scripts/test-deps.sh.
const chromiumBin = "/usr/bin/chromium"

// The dashboard, loaded in headless Chromium from a running `offload
// serve` that has applied real events through a real Varnish and
// CloudFront (moto): it shows the changes, their decisions and what the
// batching saved. The screenshot goes to a temporary directory, or to
// docs/dashboard.png with OFFLOAD_UPDATE_SCREENSHOT=1.
func TestDashboardInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Fatalf("%s is missing (%v): the dashboard test needs Debian's chromium; run scripts/test-deps.sh", chromiumBin, err)
	}
	moto := awstest.SharedMoto(t)
	dist := moto.CreateDistribution(t)
	origin := varnishtest.NewOrigin(t)
	for _, p := range []string{"/", "/index.html", "/docs/a%20b.html", "/css/site.css"} {
		origin.Set("www.example.com", p, "content of "+p)
	}
	v := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})

	dir := t.TempDir()
	cfg := writeFile(t, "offload.yaml", fmt.Sprintf(`auth:
  rate: 50
  burst: 100
state: {path: %s}
batch: {window: 1s}
sites:
  - {name: www, bucket: my-site, targets: [cf, edge]}
targets:
  - {name: cf, provider: cloudfront, distribution_id: %s}
  - {name: edge, provider: varnish, endpoints: [%s], host: www.example.com}
`, filepath.Join(dir, "offload.db"), dist, v.URL))
	env := []string{
		"AWS_ENDPOINT_URL=" + moto.URL, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=testing", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
	srv := startServe(t, offloadBinary(t), cfg, env...)
	base := "http://" + srv.Addr

	// Real traffic: every fixture, as webhook deliveries, within one
	// batching window; then a manual purge. sqs-mixed.json holds two
	// records that can never be read: it is refused at the door, 400, and
	// nothing of it stored.
	fixtures, err := filepath.Glob("../../event/testdata/*.json")
	if err != nil || len(fixtures) < 5 {
		t.Fatalf("fixtures: %v, %v", fixtures, err)
	}
	for _, f := range fixtures {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := http.StatusAccepted
		if filepath.Base(f) == "sqs-mixed.json" {
			want = http.StatusBadRequest
		}
		if code, err := postEvent(http.DefaultClient, srv.Addr, "", body); err != nil || code != want {
			t.Fatalf("POST %s: got %d, %v; want %d", filepath.Base(f), code, err, want)
		}
	}
	waitLog(t, srv.log, "inbox batch applied", 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		depth, failing := srv.inbox(t, "")
		if depth == 0 && failing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox depth %d (%d failing) after 30s", depth, failing)
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, err := http.Post(base+"/v1/purges", "application/json", strings.NewReader(`{"target":"edge","paths":["/docs/a%20b.html"]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/purges: %s %s", resp.Status, b)
	}
	// The first delivery finds the inbox idle and is applied at once; the
	// others are gathered while they keep arriving, so how many batches
	// they make depends on this machine's pace (the request floor under a
	// burst is TestWorkerBurstAtTheRequestFloor's, on a fake clock). What
	// holds on any machine: each changed path invalidated exactly once.
	invs := moto.Invalidations(t, dist)
	seen := map[string]int{}
	for _, inv := range invs {
		for _, path := range inv {
			seen[path]++
		}
	}
	wantPaths := []string{"/", "/css/site.css", "/docs/a%20b+c%20%C3%BC%7E%2A.html", "/docs/a%20b.html", "/img/a%20b+c.png", "/index.html", "/old/page.html"}
	for _, path := range wantPaths {
		if seen[path] != 1 {
			t.Errorf("CloudFront invalidated %s %d times, want once (invalidations %v)", path, seen[path], invs)
		}
	}
	if len(seen) != len(wantPaths) {
		t.Errorf("CloudFront invalidated %d paths, want %d: %v", len(seen), len(wantPaths), invs)
	}

	// The DOM, as Chromium renders it.
	dom := chromium(t, "--dump-dom", base+"/")
	for _, want := range []string{
		"Recent changes", "docs/a b.html", "index.html", "css/site.css", "img/a b+c.png", // the changes
		`<span class="tag purge">purge</span>`, `<span class="tag skip">skip</span>`, // the decisions
		"<td>new</td>", "<td>removed</td>", "<td>test-event</td>",
		"Purge requests", "saved", // what batching saved
		"Recent purges", "cloudfront", "varnish", "<td>api</td>",
		"CloudFront paths billed", "Cache hit ratio", "Inbox",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered dashboard lacks %q", want)
		}
	}
	var saved struct{ batched, perEvent int }
	if i := strings.Index(dom, `id="saved-requests"`); i < 0 {
		t.Error("no saved-requests card")
	} else if _, err := fmt.Sscanf(dom[i:][strings.Index(dom[i:], `class="big">`)+len(`class="big">`):], `%d <span class="note">vs %d`, &saved.batched, &saved.perEvent); err != nil {
		t.Errorf("saved requests: %v", err)
	} else if saved.batched <= 0 || saved.perEvent <= saved.batched {
		t.Errorf("requests: %d batched vs %d one per event; want fewer batched", saved.batched, saved.perEvent)
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	// The screenshot.
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	chromium(t, "--screenshot="+shot, "--window-size=1280,900", base+"/")
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s: %d bytes, %v", shot, len(png), err)
	}
	if os.Getenv("OFFLOAD_UPDATE_SCREENSHOT") == "1" {
		if err := os.MkdirAll("../../docs", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/dashboard.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/dashboard.png (%d bytes)", len(png))
	}

	// The counters agree.
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf("offload_events_received_total %d", len(fixtures)-1),                                          // sqs-mixed.json refused
		fmt.Sprintf(`offload_purge_requests_total{provider="cloudfront",target="cf",outcome="ok"} %d`, len(invs)), // as moto saw them
		`offload_decisions_total{decision="skip",reason="test-event"}`,
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
}

// chromium runs headless Chromium with args and returns its standard output.
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, chromiumBin, all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
