package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/eventgen"
	"github.com/offload-dev/offload/internal/lambdatest"
	"github.com/offload-dev/offload/ledger/dynamo"
)

// TestLambda runs the real bootstrap binary under the Runtime API emulator,
// with moto for AWS, and invokes it as Lambda does.
func TestLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap binary")
	}
	moto := awstest.SharedMoto(t)
	bin := buildBootstrap(t)
	if st, err := os.Stat(bin); err == nil {
		t.Logf("bootstrap binary (test build, %s, with symbols): %.1f MB", bootstrapTags, float64(st.Size())/(1<<20))
	}
	ctx := context.Background()

	t.Run("sqs partial batch", func(t *testing.T) {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
		payload := sqsEvent(
			sqsMessage{"m-good-1", s3Notification("my-site", "docs/a+b.html", "e1", "0001")},
			sqsMessage{"m-bad", `{"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "my-site"}, "object": {"key": 7}}`},
			sqsMessage{"m-good-2", snsEnvelope("sns-1", s3Notification("my-site", "img/logo.png", "e2", "0002"))},
		)
		out := invokeOK(t, rt, payload, 10*time.Second)
		if got, want := batchFailures(t, out), []string{"m-bad"}; !slices.Equal(got, want) {
			t.Errorf("got batch item failures %v, want %v (response %s)", got, want, out)
		}
		logs := waitLogs(t, rt, 1)
		purged := loggedPurges(t, logs)
		for _, want := range []string{"http://localhost/docs/a%20b.html", "http://localhost/img/logo.png"} {
			if !slices.Contains(purged, want) {
				t.Errorf("got dry-run purges %v, want %s among them", purged, want)
			}
		}
		checkLogLines(t, logs, 1)
		logColdStart(t, rt)
	})

	t.Run("s3 event", func(t *testing.T) {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
		out := invokeOK(t, rt, []byte(s3Notification("my-site", "index.html", "e1", "0001")), 10*time.Second)
		var sum invocationSummary
		if err := json.Unmarshal(out, &sum); err != nil {
			t.Fatalf("response %s: %v", out, err)
		}
		if sum.Changes != 1 || sum.Purged != 1 || sum.Failed != 0 || sum.Committed != 1 {
			t.Errorf("got %+v, want one change purged and committed", sum)
		}
		// The same event again: the ledger (memory, kept across
		// invocations in the environment) has it.
		out = invokeOK(t, rt, []byte(s3Notification("my-site", "index.html", "e1", "0001")), 10*time.Second)
		if err := json.Unmarshal(out, &sum); err != nil || sum.Skipped != 1 || sum.Purged != 0 {
			t.Errorf("second delivery: got %s, want the change skipped", out)
		}
		logs := waitLogs(t, rt, 2)
		if got := loggedPurges(t, logs); !slices.Equal(got, []string{"http://localhost/", "http://localhost/index.html"}) {
			t.Errorf("got dry-run purges %v, want / and /index.html once", got)
		}
		checkLogLines(t, logs, 2)
	})

	t.Run("s3 event that fails", func(t *testing.T) {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
		_, errPayload, err := rt.Invoke(ctx, []byte(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"}}}]}`), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(errPayload), "1 of 1 changes failed") || !strings.Contains(string(errPayload), "s3.object.key is missing") ||
			!strings.Contains(string(errPayload), `"errorType":"Offload.ChangesFailed"`) {
			t.Errorf("got error payload %s, want the failure and why, so Lambda retries", errPayload)
		}
	})

	t.Run("sns event", func(t *testing.T) {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
		payload := fmt.Sprintf(`{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","EventSubscriptionArn":"arn:aws:sns:us-east-1:123456789012:site:1","Sns":%s}]}`,
			snsEnvelope("sns-direct-1", s3Notification("my-site", "docs/%C3%BC.html", "e1", "0001")))
		out := invokeOK(t, rt, []byte(payload), 10*time.Second)
		if !strings.Contains(string(out), `"purged":1`) {
			t.Errorf("got %s, want one change purged", out)
		}
		if got := loggedPurges(t, waitLogs(t, rt, 1)); !slices.Equal(got, []string{"http://localhost/docs/%C3%BC.html"}) {
			t.Errorf("got dry-run purges %v, want /docs/%%C3%%BC.html", got)
		}
	})

	t.Run("eventbridge event", func(t *testing.T) {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
		payload := `{"version":"0","id":"eb-1","detail-type":"Object Deleted","source":"aws.s3","account":"123456789012","time":"2026-11-20T10:00:05Z","region":"us-east-1","resources":["arn:aws:s3:::my-site"],` +
			`"detail":{"version":"0","bucket":{"name":"my-site"},"object":{"key":"old/page.html","sequencer":"617f08299329d189"},"request-id":"N4N7","requester":"123456789012","reason":"DeleteObject","deletion-type":"Permanently Deleted"}}`
		out := invokeOK(t, rt, []byte(payload), 10*time.Second)
		if !strings.Contains(string(out), `"purged":1`) {
			t.Errorf("got %s, want the removal purged", out)
		}
		if got := loggedPurges(t, waitLogs(t, rt, 1)); !slices.Equal(got, []string{"http://localhost/old/page.html"}) {
			t.Errorf("got dry-run purges %v, want /old/page.html", got)
		}
	})

	t.Run("warm-up ping", func(t *testing.T) {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
		for _, ping := range []string{
			`{"warmup": true}`,
			`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-20T10:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/warm"],"detail":{}}`,
		} {
			out := invokeOK(t, rt, []byte(ping), 5*time.Second)
			if !strings.Contains(string(out), `"warmup":true`) {
				t.Errorf("ping %s: got %s, want a warm-up response", ping, out)
			}
		}
		logs, err := rt.WaitOutput(ctx, `"message":"warm-up"`, 2)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(logs, []byte(`"message":"invocation"`)) || bytes.Contains(logs, []byte("pipeline built")) {
			t.Errorf("a warm-up ping processed something:\n%s", logs)
		}
		// Each ping refreshes the configuration: its max age (60s) is
		// within the warm-up horizon (5m). The first comes with the cold
		// start, while the bootstrap's own load of the configuration at
		// init may still run: a ping that finds that load in flight waits
		// for it rather than fetching again, and counts 0.
		got := logValues(t, logs, "warm-up", "refreshed")
		if len(got) != 2 || (got[0] != "0" && got[0] != "1") || got[1] != "1" {
			t.Errorf("got refreshed %v, want [1 1] (or [0 1], the first ping joining the load at init)", got)
		}
		checkLogLines(t, logs, 2)
	})

	t.Run("deadline too near to start work", func(t *testing.T) {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
		payload := sqsEvent(
			sqsMessage{"m-1", s3Notification("my-site", "a.html", "e1", "0001")},
			sqsMessage{"m-2", s3Notification("my-site", "b.html", "e2", "0002")},
		)
		// 1.5s to go, less the answer margin, is within the pipeline's 2s
		// reserve: nothing starts, everything goes back to the queue.
		begin := time.Now()
		out := invokeOK(t, rt, payload, 1500*time.Millisecond)
		if got, want := batchFailures(t, out), []string{"m-1", "m-2"}; !slices.Equal(got, want) {
			t.Errorf("got batch item failures %v, want %v", got, want)
		}
		if took := time.Since(begin); took > time.Second {
			t.Errorf("answered after %s, want at once", took)
		}
		logs := waitLogs(t, rt, 1)
		if got := loggedPurges(t, logs); len(got) != 0 {
			t.Errorf("got purges %v, want none started", got)
		}
		if !bytes.Contains(logs, []byte("the deadline is near")) {
			t.Errorf("the logs do not say why the changes failed:\n%s", logs)
		}
	})

	t.Run("deadline reached with a purge in flight", func(t *testing.T) {
		// A Varnish that accepts connections and never answers.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		cfg := writeConfig(t, fmt.Sprintf(`state: {driver: memory}
sites: [{name: www, bucket: my-site, targets: [edge]}]
targets: [{name: edge, provider: varnish, endpoints: ["http://%s"], host: www.example.com}]
`, ln.Addr()))
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg)
		payload := sqsEvent(sqsMessage{"m-slow", s3Notification("my-site", "a.html", "e1", "0001")})
		timeout := 3 * time.Second
		begin := time.Now()
		out, errPayload, err := rt.Invoke(ctx, payload, timeout)
		took := time.Since(begin)
		if err != nil {
			t.Fatalf("got %v (%s) after %s, want an answer before the %s deadline", err, errPayload, took, timeout)
		}
		if got, want := batchFailures(t, out), []string{"m-slow"}; !slices.Equal(got, want) {
			t.Errorf("got batch item failures %v, want %v", got, want)
		}
		if took < timeout-answerMargin-200*time.Millisecond || took >= timeout {
			t.Errorf("answered after %s, want between %s and %s: the purge runs until the margin", took, timeout-answerMargin, timeout)
		}
	})

	t.Run("deadline passed before the ledger was read", func(t *testing.T) {
		table := fmt.Sprintf("offload-late-%d", time.Now().UnixNano())
		if err := dynamo.CreateTable(ctx, dynamodb.NewFromConfig(moto.Config()), table, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		cfg := writeConfig(t, fmt.Sprintf("state: {driver: dynamodb, table: %s}\n", table))
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg)
		payload := sqsEvent(
			sqsMessage{"m-1", s3Notification("my-site", "a.html", "e1", "0001")},
			sqsMessage{"m-2", `not json`},
		)
		// A timeout shorter than the answer margin: the pipeline's context
		// has expired before it starts, the ledger read fails, and the
		// whole batch goes back.
		out := invokeOK(t, rt, payload, 300*time.Millisecond)
		if got, want := batchFailures(t, out), []string{"m-1", "m-2"}; !slices.Equal(got, want) {
			t.Errorf("got batch item failures %v, want %v", got, want)
		}
		logs, err := rt.WaitOutput(ctx, `"message":"apply"`, 1)
		if err != nil || !bytes.Contains(logs, []byte("context deadline exceeded")) {
			t.Errorf("the logs do not show the ledger read failing for the deadline (%v):\n%s", err, logs)
		}
	})

	t.Run("config error", func(t *testing.T) {
		cfg := writeConfig(t, "state: {driver: memory}\nsites:\n  - name: www\n    bucket: my-site\n    targets: [nowhere]\n")
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg)
		e := invokeFailing(t, rt)
		if e.ErrorType != "Offload.ConfigError" {
			t.Errorf("got errorType %q, want Offload.ConfigError", e.ErrorType)
		}
		if !strings.Contains(e.ErrorMessage, cfg+":5:15: sites[0].targets[0]") || !strings.Contains(e.ErrorMessage, "nowhere") {
			t.Errorf("got error %q, want the file, line 5, column 15, the field sites[0].targets[0] and the bad name", e.ErrorMessage)
		}
	})

	// The Lambda-only build has no NATS client: a configuration that
	// names the NATS ledger fails with what to do instead.
	t.Run("nats ledger in the Lambda-only build", func(t *testing.T) {
		cfg := writeConfig(t, "inbox: {driver: nats, url: nats://127.0.0.1:1}\nstate: {driver: nats}\n")
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg)
		e := invokeFailing(t, rt)
		want := "state: driver nats is not in this bootstrap (built with -tags offload_lambda, for Lambda): use state.driver dynamodb"
		if e.ErrorType != "Offload.PipelineError" || !strings.Contains(e.ErrorMessage, want) {
			t.Errorf("got errorType %q, error %q; want Offload.PipelineError with %q", e.ErrorType, e.ErrorMessage, want)
		}
	})

	// The Lambda-only build reads its AWS settings from the environment
	// Lambda sets (awsenv.go): one it does not read fails the invocation
	// with its name, rather than being ignored.
	t.Run("AWS setting the Lambda-only build does not read", func(t *testing.T) {
		table := fmt.Sprintf("offload-profile-%d", time.Now().UnixNano())
		cfg := writeConfig(t, fmt.Sprintf("state: {driver: dynamodb, table: %s}\n", table))
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg, "AWS_PROFILE=dev")
		e := invokeFailing(t, rt)
		want := "state: aws: AWS_PROFILE is set, which the Lambda build (-tags offload_lambda) does not read"
		if e.ErrorType != "Offload.PipelineError" || !strings.Contains(e.ErrorMessage, want) {
			t.Errorf("got errorType %q, error %q; want Offload.PipelineError with %q", e.ErrorType, e.ErrorMessage, want)
		}
	})

	t.Run("config error in SSM", func(t *testing.T) {
		name := fmt.Sprintf("/offload/test-%d/bad", time.Now().UnixNano())
		putParameter(t, moto, name, "state: {driver: memory}\ntargets:\n  - {name: cf, provider: cloudfront}\n")
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG_SSM="+name)
		_, errPayload, err := rt.Invoke(ctx, []byte(s3Notification("my-site", "a.html", "e1", "0001")), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := "ssm:" + name + ":3:5: targets[0].distribution_id"; !strings.Contains(string(errPayload), want) {
			t.Errorf("got error payload %s, want it to name %s", errPayload, want)
		}
	})

	t.Run("config from SSM read once", func(t *testing.T) {
		counter := awstest.NewCounter()
		proxy := countingProxy(t, moto.URL, counter)
		name := fmt.Sprintf("/offload/test-%d/config", time.Now().UnixNano())
		putParameter(t, moto, name, "state: {driver: memory}\nsites: [{name: www, bucket: my-site, targets: [one]}]\ntargets: [{name: one, provider: log, base_url: https://one.example.com}]\n")
		rt := startLambda(t, bin, motoEnv(t, proxy), "OFFLOAD_CONFIG_SSM="+name, "OFFLOAD_CACHE_MAX_AGE=2")
		for i := range 3 {
			invokeOK(t, rt, []byte(s3Notification("my-site", fmt.Sprintf("p%d.html", i), "e", "0001")), 10*time.Second)
		}
		if n := counter.Count("GetParameters"); n != 1 {
			t.Errorf("got %d GetParameters calls for 3 invocations, want 1 (%s)", n, counter)
		}
		// A new version is picked up after the max age, and the pipeline
		// is rebuilt for it.
		putParameter(t, moto, name, "state: {driver: memory}\nsites: [{name: www, bucket: my-site, targets: [two]}]\ntargets: [{name: two, provider: log, base_url: https://two.example.com}]\n")
		time.Sleep(2100 * time.Millisecond)
		invokeOK(t, rt, []byte(s3Notification("my-site", "new.html", "e", "0001")), 10*time.Second)
		if n := counter.Count("GetParameters"); n != 2 {
			t.Errorf("got %d GetParameters calls, want 2 after the max age (%s)", n, counter)
		}
		logs := waitLogs(t, rt, 4)
		if got := logValues(t, logs, "pipeline built", "config"); !slices.Equal(got, []string{"ssm:" + name + ":1", "ssm:" + name + ":2"}) {
			t.Errorf("got pipelines built for %v, want versions 1 and 2", got)
		}
		if got := loggedPurges(t, logs); !slices.Contains(got, "https://two.example.com/new.html") {
			t.Errorf("got purges %v, want the new config's target to purge new.html", got)
		}
	})

	t.Run("dynamodb ledger and cloudfront", func(t *testing.T) {
		table := fmt.Sprintf("offload-%d", time.Now().UnixNano())
		if err := dynamo.CreateTable(ctx, dynamodb.NewFromConfig(moto.Config()), table, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		dist := moto.CreateDistribution(t)
		cfg := writeConfig(t, fmt.Sprintf(`state: {driver: dynamodb, table: %s}
sites: [{name: www, bucket: my-site, targets: [cf]}]
targets: [{name: cf, provider: cloudfront, distribution_id: %s}]
`, table, dist))
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg)
		body := s3Notification("my-site", "docs/index.html", "0123456789abcdef0123456789abcdef", "0A1B2C3D4E5F678901")
		out := invokeOK(t, rt, sqsEvent(sqsMessage{"m-1", body}), 15*time.Second)
		if got := batchFailures(t, out); len(got) != 0 {
			t.Fatalf("got batch item failures %v, want none", got)
		}
		logColdStart(t, rt)
		invs := moto.Invalidations(t, dist)
		if len(invs) != 1 || !slices.Equal(sorted(invs[0]), []string{"/docs/", "/docs/index.html"}) {
			t.Fatalf("got invalidations %v, want one of /docs/ and /docs/index.html", invs)
		}
		// SQS delivers at least once: the same notification again, in a
		// new message, and in a new execution environment.
		rt2 := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg)
		out = invokeOK(t, rt2, sqsEvent(sqsMessage{"m-2", body}), 15*time.Second)
		if got := batchFailures(t, out); len(got) != 0 {
			t.Fatalf("redelivery: got batch item failures %v, want none", got)
		}
		if invs := moto.Invalidations(t, dist); len(invs) != 1 {
			t.Errorf("redelivery: got invalidations %v, want still one (the ledger has the change)", invs)
		}
		if got := logValues(t, waitLogs(t, rt2, 1), "invocation", "skipped"); !slices.Equal(got, []string{"1"}) {
			t.Errorf("redelivery: got skipped %v, want 1", got)
		}
	})
}

// TestLambdaColdStart measures the bootstrap's cold start under the
// emulator, built as the deployment package is (stripped, -trimpath) but
// for this machine: the time from starting the process to its first
// response, for an SQS batch with a DynamoDB ledger and a CloudFront
// target in moto.
func TestLambdaColdStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap binary")
	}
	moto := awstest.SharedMoto(t)
	bin := buildBootstrap(t, "-trimpath", "-ldflags=-s -w")
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	table := fmt.Sprintf("offload-cold-%d", time.Now().UnixNano())
	if err := dynamo.CreateTable(ctx, dynamodb.NewFromConfig(moto.Config()), table, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`state: {driver: dynamodb, table: %s}
sites: [{name: www, bucket: my-site, targets: [cf]}]
targets: [{name: cf, provider: cloudfront, distribution_id: %s}]
`, table, moto.CreateDistribution(t)))

	const runs = 5
	var inits, firsts, warms []time.Duration
	for i := range runs {
		rt := startLambda(t, bin, motoEnv(t, moto.URL), "OFFLOAD_CONFIG="+cfg)
		ev := sqsEvent(sqsMessage{fmt.Sprintf("m-%d", i), s3Notification("my-site", fmt.Sprintf("cold/%d.html", i), "e", "0001")})
		if got := batchFailures(t, invokeOK(t, rt, ev, 15*time.Second)); len(got) != 0 {
			t.Fatalf("got batch item failures %v", got)
		}
		begin := time.Now()
		ev = sqsEvent(sqsMessage{fmt.Sprintf("w-%d", i), s3Notification("my-site", fmt.Sprintf("warm/%d.html", i), "e", "0001")})
		invokeOK(t, rt, ev, 15*time.Second)
		warms = append(warms, time.Since(begin))
		p := rt.Processes()[0]
		inits, firsts = append(inits, p.Init), append(firsts, p.FirstAnswer)
		rt.Close()
	}
	med := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2].Round(100 * time.Microsecond)
	}
	t.Logf("binary %.1f MB (linux/%s, stripped); over %d cold starts, median: init %s, first response %s; a warm invocation %s",
		float64(st.Size())/(1<<20), runtime.GOARCH, runs, med(inits), med(firsts), med(warms))
	if m := med(firsts); m > 5*time.Second {
		t.Errorf("median cold start %s, want well under 5s", m)
	}
}

// TestBootstrapNoSchemaTables checks that the bootstrap, as deployed, links
// no AWS SDK schemas package: the schema-based serde of newer SDK service
// releases builds its tables in package init, most of the cold start's
// package init (see go.mod), and an upgrade would bring them back unseen.
// (The credential chain's sso, ssooidc and signin have them; the
// bootstrap links none of those, TestBootstrapLinksOnlyTheFunction.)
func TestBootstrapNoSchemaTables(t *testing.T) {
	var got []string
	for _, p := range bootstrapDeps(t, bootstrapTags) {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/") && strings.HasSuffix(p, "/schemas") {
			got = append(got, p)
		}
	}
	if len(got) > 0 {
		t.Errorf("got the bootstrap linking %v, want none: hold those modules at their last release before schema-based serde (go.mod says which)", got)
	}
}

// bootstrapTags are the build tags of the deployment package's bootstrap
// (the Makefile's bootstrap target, the harness's measurement 4):
// lambda.norpc, and offload_lambda, which leaves out what only the
// commands and offload serve use.
const bootstrapTags = "lambda.norpc,offload_lambda"

// buildBootstrap builds this package as the deployment package holds it,
// for this machine; more go build flags may follow.
func buildBootstrap(t *testing.T, flags ...string) string {
	t.Helper()
	return lambdatest.Build(t, ".", append([]string{"-tags=" + bootstrapTags}, flags...)...)
}

// bootstrapDeps lists the packages this package links with the build
// tags, for linux/arm64 as deployed.
func bootstrapDeps(t *testing.T, tags string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", tags, "-deps", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -tags %s: %v", tags, err)
	}
	return strings.Fields(string(out))
}

// TestBootstrapLinksOnlyTheFunction checks that the Lambda-only build
// links none of what only offload serve and the commands use: every
// package linked runs its init on every cold start (nats.go's and the
// encoding/gob it brings were about 2 ms). The same list without
// offload_lambda must hold them, or the check would prove nothing.
func TestBootstrapLinksOnlyTheFunction(t *testing.T) {
	serverOnly := []string{
		"github.com/nats-io/nats.go",
		"github.com/nats-io/nats.go/jetstream",
		"encoding/gob",
		"github.com/offload-dev/offload/ledger/natskv",
		"github.com/offload-dev/offload/pipeline/natsinbox",
	}
	// The SDK's config package and the clients of its credential chain:
	// the Lambda-only build reads the environment Lambda sets instead
	// (awsenv.go), and their init was about 3 ms of each cold start.
	serverOnly = append(serverOnly,
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/aws/aws-sdk-go-v2/service/sso",
		"github.com/aws/aws-sdk-go-v2/service/ssooidc",
		"github.com/aws/aws-sdk-go-v2/service/sts",
		"github.com/aws/aws-sdk-go-v2/service/signin",
	)
	// Neither build needs these, whose init is dear: httpapi's /metrics
	// writes its text itself (httpapi/metrics.go says why).
	neither := []string{"runtime/metrics", "github.com/VictoriaMetrics/metrics", "google.golang.org/protobuf/proto"}
	for _, c := range []struct {
		name, tags string
		linked     bool
	}{
		{"Lambda-only build", bootstrapTags, false},
		{"full build", "lambda.norpc", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			deps := bootstrapDeps(t, c.tags)
			for _, p := range serverOnly {
				if got := slices.Contains(deps, p); got != c.linked {
					t.Errorf("-tags %s: got %s linked %v, want %v", c.tags, p, got, c.linked)
				}
			}
			for _, p := range neither {
				if slices.Contains(deps, p) {
					t.Errorf("-tags %s: got %s linked, want it not", c.tags, p)
				}
			}
		})
	}
}

// TestBootstrapBuiltAsTested checks that make bootstrap and the harness's
// measurement 4 build the bootstrap with the tags these tests build it
// with: the line of each that builds it names them.
func TestBootstrapBuiltAsTested(t *testing.T) {
	for _, c := range []struct{ file, line, want string }{
		{"../../Makefile", "-o dist/bootstrap", "-tags " + bootstrapTags + " "},
		{"../../bench/lambda.go", "goBuild(out, ", `"-tags", "` + bootstrapTags + `"`},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for l := range strings.Lines(string(b)) {
				if strings.Contains(l, c.line) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Errorf("got the lines of %s with %q: %q; want one, with %s", c.file, c.line, lines, c.want)
			}
		})
	}
}

// TestFullBuildRunsAsBootstrap checks what the README promises of the
// build without offload_lambda: set AWS_LAMBDA_RUNTIME_API, and it is the
// function.
func TestFullBuildRunsAsBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap binary")
	}
	moto := awstest.SharedMoto(t)
	rt := startLambda(t, lambdatest.Build(t, "."), motoEnv(t, moto.URL), "OFFLOAD_STATE_DRIVER=memory")
	out := invokeOK(t, rt, []byte(s3Notification("my-site", "index.html", "e1", "0001")), 10*time.Second)
	var sum invocationSummary
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	if sum.Changes != 1 || sum.Purged != 1 || sum.Failed != 0 || sum.Committed != 1 {
		t.Errorf("got %+v, want one change purged and committed", sum)
	}
}

// TestBootstrapOutsideLambda checks that the Lambda-only build, run as a
// command, says what it is and exits 2 rather than doing nothing.
func TestBootstrapOutsideLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap binary")
	}
	cmd := exec.Command(buildBootstrap(t), "version")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("got %v, want exit status 2", err)
	}
	if want := "it runs only as a Lambda function, where AWS_LAMBDA_RUNTIME_API is set"; !strings.Contains(stderr.String(), want) {
		t.Errorf("got stderr %q, want it to say %q", stderr.String(), want)
	}
}

// startLambda starts the emulator for bin; the process starts with the
// first invocation.
func startLambda(t *testing.T, bin string, env []string, more ...string) *lambdatest.Runtime {
	t.Helper()
	rt, err := lambdatest.Start(lambdatest.Options{Path: bin, Env: append(env, more...), MemoryMB: 256})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.Close()
		if t.Failed() {
			t.Logf("bootstrap output:\n%s", rt.Logs())
		}
	})
	return rt
}

// motoEnv is the bootstrap's AWS environment: moto (or a proxy in front of
// it) for every service, and nothing from the machine's own settings.
func motoEnv(t *testing.T, endpoint string) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=testing",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"TMPDIR=" + t.TempDir(),
	}
}

func invokeOK(t *testing.T, rt *lambdatest.Runtime, payload []byte, timeout time.Duration) []byte {
	t.Helper()
	out, errPayload, err := rt.Invoke(context.Background(), payload, timeout)
	if err != nil || errPayload != nil {
		t.Fatalf("invoke: got error %v, error payload %s", err, errPayload)
	}
	return out
}

// invokeFailing invokes rt with one S3 notification and returns the error
// the function answered with (zero if it answered without one).
func invokeFailing(t *testing.T, rt *lambdatest.Runtime) (e struct{ ErrorMessage, ErrorType string }) {
	t.Helper()
	_, errPayload, err := rt.Invoke(context.Background(), []byte(s3Notification("my-site", "a.html", "e1", "0001")), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(errPayload, &e)
	return e
}

// waitLogs returns the bootstrap's output once it holds the summary lines
// of n invocations, which each writes last.
func waitLogs(t *testing.T, rt *lambdatest.Runtime, n int) []byte {
	t.Helper()
	logs, err := rt.WaitOutput(context.Background(), `"message":"invocation"`, n)
	if err != nil {
		t.Fatal(err)
	}
	return logs
}

func logColdStart(t *testing.T, rt *lambdatest.Runtime) {
	t.Helper()
	if ps := rt.Processes(); len(ps) > 0 {
		t.Logf("cold start: init %s, first response %s after the process started", ps[0].Init.Round(time.Millisecond), ps[0].FirstAnswer.Round(time.Millisecond))
	}
}

func batchFailures(t *testing.T, out []byte) []string {
	t.Helper()
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s is not a partial batch response: %v", out, err)
	}
	if !bytes.Contains(out, []byte(`"batchItemFailures":[`)) {
		t.Fatalf("response %s has no batchItemFailures list", out)
	}
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

// logLines parses the bootstrap's output, every line of which must be JSON.
func logLines(t *testing.T, logs []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("log line is not JSON: %s", sc.Bytes())
			continue
		}
		out = append(out, m)
	}
	return out
}

// checkLogLines checks that every line logged from the first invocation on
// carries a request id, and that there are as many ids as invocations.
func checkLogLines(t *testing.T, logs []byte, invocations int) {
	t.Helper()
	ids := map[string]bool{}
	started := false
	for _, m := range logLines(t, logs) {
		id, _ := m["requestId"].(string)
		if id != "" {
			started = true
			ids[id] = true
		} else if started {
			t.Errorf("log line without a requestId: %v", m)
		}
		for _, k := range []string{"timestamp", "level", "message"} {
			if _, ok := m[k]; !ok {
				t.Errorf("log line without %s: %v", k, m)
			}
		}
	}
	if len(ids) != invocations {
		t.Errorf("got request ids %v in the logs, want %d", ids, invocations)
	}
}

// logValues returns the values of key in the lines whose message is msg.
func logValues(t *testing.T, logs []byte, msg, key string) []string {
	t.Helper()
	var out []string
	for _, m := range logLines(t, logs) {
		if m["message"] == msg {
			out = append(out, fmt.Sprint(m[key]))
		}
	}
	return out
}

// loggedPurges returns what the dry-run targets would have purged.
func loggedPurges(t *testing.T, logs []byte) []string {
	t.Helper()
	var out []string
	for _, m := range logLines(t, logs) {
		if m["message"] != "dry run: would purge" {
			continue
		}
		items, _ := m["items"].([]any)
		for _, it := range items {
			out = append(out, fmt.Sprint(it))
		}
	}
	slices.Sort(out)
	return out
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "offload.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func putParameter(t *testing.T, moto *awstest.Moto, name, value string) {
	t.Helper()
	_, err := ssm.NewFromConfig(moto.Config()).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("put parameter %s: %v", name, err)
	}
}

// countingProxy forwards to moto and counts the API calls that pass.
func countingProxy(t *testing.T, target string, c *awstest.Counter) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = c
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

type sqsMessage struct{ id, body string }

// sqsEvent is an SQS event as Lambda's event source mapping sends it.
func sqsEvent(msgs ...sqsMessage) []byte {
	ev := events.SQSEvent{}
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: m.id, ReceiptHandle: "rh-" + m.id, Body: m.body, Md5OfBody: "x",
			Attributes:     map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1763632800000"},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:offload",
			AWSRegion:      "us-east-1",
		})
	}
	b, _ := json.Marshal(ev)
	return b
}

// s3Notification is an S3 event notification for one put, with the key
// form-encoded as S3 sends it.
func s3Notification(bucket, key, etag, sequencer string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-20T10:00:00.123Z","eventName":"ObjectCreated:Put",`+
		`"userIdentity":{"principalId":"EXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"EXAMPLE"},`+
		`"s3":{"s3SchemaVersion":"1.0","configurationId":"offload","bucket":{"name":%q,"ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::%s"},`+
		`"object":{"key":%q,"size":1024,"eTag":%q,"sequencer":%q}}}]}`, bucket, bucket, key, etag, sequencer)
}

// snsEnvelope is an SNS notification carrying message, as SNS delivers it
// to SQS (and, as the Sns field, to Lambda).
func snsEnvelope(id, message string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": id, "TopicArn": "arn:aws:sns:us-east-1:123456789012:site",
		"Subject": "Amazon S3 Notification", "Message": message, "Timestamp": "2026-11-20T10:00:00.200Z",
	})
	return string(b)
}

func TestSniffEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		kind    string
		ids     []string
	}{
		{"sqs", string(sqsEvent(sqsMessage{"a", "{}"}, sqsMessage{"b", "x"})), "sqs", []string{"a", "b"}},
		{"sqs with a broken record", `{"Records":[{"eventSource":"aws:sqs","messageId":"a","body":"{}"},7,{"eventSource":"aws:sqs","messageId":"c"}]}`, "sqs", []string{"a", "c"}},
		{"s3", s3Notification("b", "k", "e", "1"), "s3", nil},
		{"sns", `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{}"}}]}`, "sns", nil},
		{"eventbridge", `{"detail-type":"Object Created","source":"aws.s3","detail":{}}`, "eventbridge", nil},
		{"not json", `nope`, "unknown", nil},
		{"other", `{"hello":"world"}`, "unknown", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sniffEvent([]byte(tt.payload))
			if got.kind != tt.kind || !slices.Equal(got.messageIDs, tt.ids) {
				t.Errorf("got %s %v, want %s %v", got.kind, got.messageIDs, tt.kind, tt.ids)
			}
		})
	}
}

// sniffEventJSON is what sniffEvent did before it read the payload token
// by token: encoding/json, the whole payload and then each record. The
// differential tests hold sniffEvent to it.
func sniffEventJSON(payload []byte) eventSource {
	var env struct {
		Records    []json.RawMessage `json:"Records"`
		DetailType string            `json:"detail-type"`
		Source     string            `json:"source"`
	}
	if json.Unmarshal(payload, &env) != nil {
		return eventSource{kind: "unknown"}
	}
	if env.DetailType != "" && env.Source != "" {
		return eventSource{kind: "eventbridge", records: 1}
	}
	s := eventSource{kind: "unknown", records: len(env.Records)}
	for _, raw := range env.Records {
		var r struct {
			EventSource  string `json:"eventSource"`
			EventSource2 string `json:"EventSource"`
			MessageID    string `json:"messageId"`
		}
		if json.Unmarshal(raw, &r) != nil {
			continue
		}
		switch {
		case r.EventSource == "aws:sqs":
			s.kind = "sqs"
			if r.MessageID != "" {
				s.messageIDs = append(s.messageIDs, r.MessageID)
			}
		case s.kind == "unknown" && r.EventSource == "aws:s3":
			s.kind = "s3"
		case s.kind == "unknown" && r.EventSource2 == "aws:sns":
			s.kind = "sns"
		}
	}
	return s
}

// sniffSeeds are payloads sniffEvent is held to encoding/json on: every
// event and HTTP request in testdata, and the edges of its matching.
func sniffSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, glob := range []string{"../../event/testdata/*.json", "testdata/*.json"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	for _, p := range []string{
		string(sqsEvent(sqsMessage{"a", "{}"}, sqsMessage{"b", "x"})),
		s3Notification("b", "k", "e", "1"),
		`{"Records":[{"eventSource":"aws:sqs","messageId":"a","body":"{}"},7,{"eventSource":"aws:sqs","messageId":"c"}]}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":5},{"eventSource":"aws:sqs","messageId":"b"}]}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":null},{"eventSource":null,"messageId":"b"}]}`,
		`{"records":[{"EVENTSOURCE":"aws:sqs","MessageID":"a"}]}`,
		`{"Records":[{"EventSource":"aws:sns"},{"eventSource":"aws:s3"}]}`,
		`{"Records":[{"eventSource":"aws:s3"},{"EventSource":"aws:sns"},{"eventSource":"aws:sqs","messageId":"m"}]}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"a","messageId":"b"}]}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"a"}],"Records":[{"eventSource":"aws:sqs","messageId":"z"}]}`,
		`{"Records":null}`, `{"Records":{}}`, `{"Records":"x"}`, `{"Records":[]}`,
		`{"Records":[[1],"x",null,{}]}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"a"}]} trailing`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"a"}]}{}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"a"}]`,
		`{"detail-type":"Object Created","source":"aws.s3","detail":{}}`,
		`{"detail-type":"Object Created","source":""}`,
		`{"detail-type":5,"source":"aws.s3"}`,
		`{"Detail-Type":"x","SOURCE":"y","Records":[{"eventSource":"aws:sqs","messageId":"a"}]}`,
		`{"Records":[{"eventSource":"aws:sqs","messageId":"caf\u00e9"}]}`,
		"{\"Records\":[{\"eventSource\":\"aws:sqs\",\"messageId\":\"\xff\"}]}",
		`nope`, ``, `[]`, `null`, `"x"`, `{}`, `{"hello":"world"}`, ` {"Records":[]} `,
	} {
		out = append(out, []byte(p))
	}
	return out
}

// TestSniffEventAsEncodingJSON holds sniffEvent to what encoding/json made
// of the same payloads.
func TestSniffEventAsEncodingJSON(t *testing.T) {
	for _, p := range sniffSeeds(t) {
		got, want := sniffEvent(p), sniffEventJSON(p)
		if got.kind != want.kind || got.records != want.records || !slices.Equal(got.messageIDs, want.messageIDs) {
			t.Errorf("%.200s:\ngot  %+v\nwant %+v", p, got, want)
		}
	}
}

func FuzzSniffEvent(f *testing.F) {
	for _, p := range sniffSeeds(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		got, want := sniffEvent(p), sniffEventJSON(p)
		if got.kind != want.kind || got.records != want.records || !slices.Equal(got.messageIDs, want.messageIDs) {
			t.Errorf("%q:\ngot  %+v\nwant %+v", p, got, want)
		}
	})
}

func TestLambdaEnvConfig(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	tests := []struct {
		name, driver, table, path string
		want                      string // version, or the error
	}{
		{"defaults", "", "", "", "env:bolt:offload:" + filepath.Join(tmp, "offload.db")},
		{"dynamodb", "dynamodb", "ledger", "", "env:dynamodb:ledger:" + filepath.Join(tmp, "offload.db")},
		{"bolt path", "bolt", "", "/mnt/efs/offload.db", "env:bolt:offload:/mnt/efs/offload.db"},
		{"bad driver", "redis", "", "", `environment: OFFLOAD_STATE_DRIVER: "redis" is not a state driver: use bolt, dynamodb or memory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envStateDrv, tt.driver)
			t.Setenv(envStateTable, tt.table)
			t.Setenv(envStatePath, tt.path)
			lc, err := lambdaEnvConfig(context.Background())
			got := lc.version
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLambdaConfigBothSet(t *testing.T) {
	t.Setenv(envConfigFile, "/var/task/offload.yaml")
	t.Setenv(envConfigSSM, "/offload/config")
	var logs bytes.Buffer
	h := newLambdaHandler(slog.New(slog.NewJSONHandler(&logs, nil)), &atomic.Pointer[string]{})
	_, err := h.Invoke(context.Background(), []byte(s3Notification("b", "k", "e", "1")))
	if err == nil || !strings.Contains(err.Error(), "OFFLOAD_CONFIG and OFFLOAD_CONFIG_SSM are both set") {
		t.Fatalf("got %v, want an error saying both are set", err)
	}
}

func TestLambdaLogHandler(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	current := &atomic.Pointer[string]{}
	logger := slog.New(newLambdaLogHandler(f, current))
	logger.Info("before any invocation")
	id := "req-current"
	current.Store(&id)
	logger.Info("no context", "k", 1)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-ctx"})
	logger.With("a", "b").InfoContext(ctx, "with context")
	f.Close()
	data, _ := os.ReadFile(f.Name())
	lines := logLines(t, data)
	want := []string{"", "req-current", "req-ctx"}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), data)
	}
	for i, m := range lines {
		got, _ := m["requestId"].(string)
		if got != want[i] {
			t.Errorf("line %d: got requestId %q, want %q", i, got, want[i])
		}
		if m["message"] == nil || m["timestamp"] == nil {
			t.Errorf("line %d: got %v, want Lambda's keys message and timestamp", i, m)
		}
	}
}

// BenchmarkSniffEvent10k sniffs an SQS batch of 10,000 S3 notifications,
// as delivered (eventgen's full records), token by token and, side by side,
// the encoding/json way it replaced.
func BenchmarkSniffEvent10k(b *testing.B) {
	var buf bytes.Buffer
	if err := eventgen.WriteSQS(&buf, 10000, eventgen.Options{}); err != nil {
		b.Fatal(err)
	}
	for _, f := range []struct {
		name  string
		sniff func([]byte) eventSource
	}{{"tokens", sniffEvent}, {"encoding-json", sniffEventJSON}} {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if s := f.sniff(buf.Bytes()); s.kind != "sqs" || len(s.messageIDs) != 10000 {
					b.Fatalf("got %s with %d ids", s.kind, len(s.messageIDs))
				}
			}
		})
	}
}
