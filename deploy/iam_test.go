package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/lambdatest"
	"github.com/offload-dev/offload/ledger/dynamo"
)

func TestMain(m *testing.M) { os.Exit(awstest.RunMain(m)) }

// allowedNotCalled are actions the policy allows that the function never
// sends, each with the reason it is allowed anyway. Each must be in the
// policy, so the list cannot outlive the reason.
var allowedNotCalled = map[string]string{
	"s3:ListBucket": "without it, S3 answers a GetObject of a missing key 403 AccessDenied instead of 404 NoSuchKey",
}

// linkedNotCalled are AWS clients the bootstrap links that send nothing the
// function's role must allow: the SDK's credential chain (on Lambda the
// credentials come from the environment).
var linkedNotCalled = []string{"signin", "sso", "ssooidc", "sts"}

// The function's role allows exactly what the function calls. The real
// bootstrap runs under the Runtime API emulator with the environment the
// template gives it, against moto through a proxy that records the IAM
// action of every request, and does every kind of work the template wires
// to it: an SQS batch (mirror from the bucket, purge, ledger), the warm-up
// schedule, and the HTTP API (a purge and its status, with the stage's
// configuration). The actions are collected here, in one process, rather
// than from the other packages' tests: those run in processes of their own,
// in any order, and call AWS for their own set-up too, so a list gathered
// from them could be stale, partial or padded without anyone seeing it.
func TestIAMAllowsWhatTheFunctionCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap binary")
	}
	root := loadTemplate(t)
	allowed := functionActions(t, root)
	// As make bootstrap builds it: the Lambda-only build.
	bin := lambdatest.Build(t, "github.com/offload-dev/offload/cmd/offload", "-tags=lambda.norpc,offload_lambda")
	moto := awstest.SharedMoto(t)
	rec := awstest.NewActionRecorder(moto.URL)
	defer rec.Close()
	f := newFunctionWorld(t, moto)

	env := []string{
		"AWS_ENDPOINT_URL=" + rec.URL,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=testing",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"OFFLOAD_S3_PATH_STYLE=true", // moto's addressing; S3 itself takes either
		"TMPDIR=" + t.TempDir(),
	}
	fnEnv := get(resource(t, root, "OffloadFunction", "AWS::Serverless::Function"), "Environment", "Variables")
	for i := 0; i+1 < len(fnEnv.Content); i += 2 {
		k, v := fnEnv.Content[i].Value, fnEnv.Content[i+1]
		if v.Tag == "!Ref" {
			v = get(root, "Parameters", v.Value, "Default")
		}
		env = append(env, k+"="+v.Value)
	}
	rt, err := lambdatest.Start(lambdatest.Options{Path: bin, Env: env, MemoryMB: 256})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		rt.Close()
		if t.Failed() {
			t.Logf("bootstrap output:\n%s", rt.Logs())
		}
	}()
	ctx := context.Background()
	invoke := func(payload []byte) []byte {
		t.Helper()
		out, errPayload, err := rt.Invoke(ctx, payload, 20*time.Second)
		if err != nil || errPayload != nil {
			t.Fatalf("invoke: got %v, error payload %s", err, errPayload)
		}
		return out
	}

	// A batch from the site's queue: a put (mirrored from the bucket, then
	// purged) and a remove, both recorded in the ledger.
	out := invoke(f.sqsBatch(f.object))
	if !strings.Contains(string(out), `"batchItemFailures":[]`) {
		t.Fatalf("got %s, want no batch item failures", out)
	}
	// A change purged at CloudFront and refused at the other target fails,
	// and its receipt is recorded for its redelivery.
	out = invoke(f.sqsBatch(f.refused))
	if !strings.Contains(string(out), `"itemIdentifier":"m0"`) {
		t.Fatalf("got %s, want m0 failed (refused at edge)", out)
	}
	// The HTTP API: a purge, then its status.
	var resp events.APIGatewayV2HTTPResponse
	decode(t, invoke(f.httpRequest("POST", "/v1/purges", `{"target":"cf","paths":["/docs/a.html"]}`)), &resp)
	var purge struct{ ID string }
	if resp.StatusCode/100 != 2 || json.Unmarshal([]byte(resp.Body), &purge) != nil || purge.ID == "" {
		t.Fatalf("POST /v1/purges: got %d %s, want the purge's id", resp.StatusCode, resp.Body)
	}
	decode(t, invoke(f.httpRequest("GET", "/v1/purges/"+purge.ID, "")), &resp)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/purges/%s: got %d %s, want 200", purge.ID, resp.StatusCode, resp.Body)
	}

	// The ledger: the refused change's receipt, and an operator's reset.
	ledgerKey := "/v1/ledger?bucket=my-site&key=" + url.QueryEscape(f.refused.key)
	decode(t, invoke(f.httpRequest("GET", ledgerKey, "")), &resp)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"receipt"`) {
		t.Fatalf("GET %s: got %d %s, want 200 with the receipt", ledgerKey, resp.StatusCode, resp.Body)
	}
	decode(t, invoke(f.httpRequest("DELETE", ledgerKey, "")), &resp)
	if resp.StatusCode != 200 {
		t.Fatalf("DELETE %s: got %d %s, want 200", ledgerKey, resp.StatusCode, resp.Body)
	}

	// The warm-up schedule's ping, with its input from the template: it
	// refreshes the configuration and both secrets, due together.
	invoke([]byte(get(resource(t, root, "OffloadFunction", "AWS::Serverless::Function"), "Events", "WarmUp", "Properties", "Input").Value))

	called := rec.Actions()
	t.Logf("the function called %s", strings.Join(called, ", "))
	if u := rec.Unnamed(); len(u) > 0 {
		t.Errorf("got requests no IAM action is known for: %q; teach awstest.Actions their action", u)
	}
	for _, a := range called {
		if !slices.Contains(allowed, a) {
			t.Errorf("the function calls %s, which the template does not allow", a)
		}
	}
	for _, a := range allowed {
		if _, ok := allowedNotCalled[a]; !ok && !slices.Contains(called, a) {
			t.Errorf("the template allows %s, which the function never called", a)
		}
	}
	for a := range allowedNotCalled {
		if !slices.Contains(allowed, a) {
			t.Errorf("allowedNotCalled lists %s, which the template does not allow", a)
		}
	}
	// A client on a path the test does not drive would call a service
	// not seen here.
	services := map[string]bool{}
	for _, a := range called {
		services[a[:strings.IndexByte(a, ':')]] = true
	}
	for _, svc := range linkedServices(t) {
		if !services[svc] && !slices.Contains(linkedNotCalled, svc) {
			t.Errorf("the bootstrap links the %s client, which sent nothing here: drive the path that uses it", svc)
		}
	}
}

// linkedServices lists the AWS SDK service clients the bootstrap links.
func linkedServices(t *testing.T) []string {
	out, err := exec.Command("go", "list", "-deps", "github.com/offload-dev/offload/cmd/offload").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const svc = "github.com/aws/aws-sdk-go-v2/service/"
	var names []string
	for _, p := range strings.Fields(string(out)) {
		if name, ok := strings.CutPrefix(p, svc); ok && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatal("go list: the bootstrap links no AWS client; the check would prove nothing")
	}
	return names
}

func decode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("answer %s: %v", data, err)
	}
}

// functionWorld is what the function works on, made in moto directly (not
// through the recorder): the site's bucket with an object, the ledger
// table, the distribution, the configuration parameter and the secrets,
// and a NetStorage test server to mirror to.
type functionWorld struct {
	object  object // mirrored and purged
	refused object // mirrored, purged at cf, refused at edge
	param   string
	token   string
}

type object struct{ key, etag string }

func newFunctionWorld(t *testing.T, moto *awstest.Moto) *functionWorld {
	ctx := context.Background()
	cfg := moto.Config()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("my-site")}); err != nil {
		t.Fatal(err)
	}
	put := func(key string) object {
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String(key), Body: strings.NewReader("<p>" + key + "</p>")})
		if err != nil {
			t.Fatal(err)
		}
		return object{key, strings.Trim(aws.ToString(out.ETag), `"`)}
	}
	// A cache in front of the site that refuses to purge one page.
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/docs/refused.html" {
			http.Error(w, "not allowed", http.StatusBadRequest)
		}
	}))
	t.Cleanup(edge.Close)
	if err := dynamo.CreateTable(ctx, dynamodb.NewFromConfig(cfg), "offload-ledger", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	dist := moto.CreateDistribution(t)
	ns := akamaitest.NewNetStorage("123456", "uploader", "ns-secret-key")
	t.Cleanup(ns.Close)
	f := &functionWorld{object: put("docs/a b.html"), refused: put("docs/refused.html"), param: "/offload/config", token: "api-token-for-the-test"}

	sm := secretsmanager.NewFromConfig(cfg)
	for name, value := range map[string]string{
		"offload/netstorage": `{"key":"ns-secret-key"}`,
		"offload/api":        fmt.Sprintf(`{"token":%q}`, f.token),
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	yaml := fmt.Sprintf(`auth: {tokens: ["secretsmanager:offload/api#token"]}
state: {driver: dynamodb, table: offload-ledger}
sites: [{name: www, bucket: my-site, mirrors: [ns], targets: [cf, edge]}]
targets:
  - {name: cf, provider: cloudfront, distribution_id: %s}
  - {name: edge, provider: varnish, endpoints: [%s], base_url: "http://www.example.com"}
mirrors:
  - {name: ns, provider: netstorage, host: example-nsu.akamaihd.net, api_url: %s, cpcode: "123456", dir: /site, keyname: uploader, key: "secretsmanager:offload/netstorage#key"}
`, dist, edge.URL, ns.URL)
	_, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(f.param), Value: aws.String(yaml), Type: ssmtypes.ParameterTypeString})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sqsBatch is a batch from the site's queue: a put of obj and a remove.
func (f *functionWorld) sqsBatch(obj object) []byte {
	record := func(name, key, etag string) events.S3EventRecord {
		return events.S3EventRecord{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: awstest.Region, EventName: name,
			EventTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
			S3:        events.S3Entity{Bucket: events.S3Bucket{Name: "my-site"}, Object: events.S3Object{Key: key, ETag: etag, Sequencer: "0A1B2C3D4E5F678901"}}}
	}
	var ev events.SQSEvent
	for i, r := range []events.S3EventRecord{record("ObjectCreated:Put", url.QueryEscape(obj.key), obj.etag), record("ObjectRemoved:Delete", "old.html", "")} {
		body, _ := json.Marshal(events.S3Event{Records: []events.S3EventRecord{r}})
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint("m", i), EventSource: "aws:sqs", Body: string(body)})
	}
	out, _ := json.Marshal(ev)
	return out
}

// httpRequest is a request through the template's HTTP API (payload format
// 2.0), on the stage whose variable names the configuration.
func (f *functionWorld) httpRequest(method, path, body string) []byte {
	path, query, _ := strings.Cut(path, "?")
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /v1/{proxy+}", RawPath: path, RawQueryString: query,
		Headers: map[string]string{"authorization": "Bearer " + f.token, "content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "live", DomainName: "abcdef.execute-api.us-east-1.amazonaws.com", RequestID: "req-" + method,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "198.51.100.7"},
		},
		StageVariables: map[string]string{"offloadConfig": f.param},
		Body:           body,
	}
	out, _ := json.Marshal(ev)
	return out
}
