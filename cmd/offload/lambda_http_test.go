package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/lambdatest"
)

// The configuration the HTTP tests give the function: one token, and a
// dry-run target whose name GET /v1/status reports and whose base URL the
// logged purges show.
func httpConfig(target string) string {
	return fmt.Sprintf(`state: {driver: memory}
auth: {tokens: ["env:OFFLOAD_TEST_TOKEN"]}
sites: [{name: www, bucket: my-site, targets: [%[1]s]}]
targets: [{name: %[1]s, provider: log, base_url: https://%[1]s.example.com}]
`, target)
}

const testToken = "s3cret" // as the fixtures send it

// TestLambdaHTTP runs the real bootstrap binary under the Runtime API
// emulator with API Gateway, ALB and Function URL requests shaped as AWS
// sends them (testdata/, after aws-lambda-go's events/testdata), served by
// httpapi's handler.
func TestLambdaHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap binary")
	}
	moto := awstest.SharedMoto(t)
	bin := buildBootstrap(t)
	ctx := context.Background()
	cfg := writeConfig(t, httpConfig("fallback"))
	env := func(more ...string) []string {
		return append(motoEnv(t, moto.URL), append([]string{"OFFLOAD_TEST_TOKEN=" + testToken}, more...)...)
	}

	t.Run("api gateway v1", func(t *testing.T) {
		rt := startLambda(t, bin, env(), "OFFLOAD_CONFIG="+cfg)
		// POST /v1/events, as the fixture has it: applied before the answer.
		var resp events.APIGatewayProxyResponse
		invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", nil), &resp)
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 202, `{"id":1}`)
		if got := loggedPurges(t, waitLogs(t, rt, 1)); !slices.Equal(got, []string{"https://fallback.example.com/docs/", "https://fallback.example.com/docs/index.html"}) {
			t.Errorf("got purges %v, want /docs/ and /docs/index.html through the config's target", got)
		}

		invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", map[string]any{
			"httpMethod": "GET", "path": "/v1/status", "body": nil, "requestContext.path": "/prod/v1/status", "requestContext.httpMethod": "GET",
		}), &resp)
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 200, `"targets":["fallback"]`)

		// No token: refused, in httpapi's error shape.
		invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", map[string]any{
			"headers.Authorization": nil, "multiValueHeaders.Authorization": nil,
		}), &resp)
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 401, `{"error":{"code":"unauthorized",`)

		// A path no route takes: httpapi's 404, through the adapter, with
		// a query string and repeated headers.
		invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", map[string]any{
			"httpMethod": "GET", "path": "/v2/nothing", "body": nil,
			"multiValueQueryStringParameters": map[string]any{"a": []string{"1", "2"}},
			"multiValueHeaders.Accept":        []string{"application/json", "*/*"},
		}), &resp)
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 404, `"code":"not_found"`)
		checkLogLines(t, waitLogs(t, rt, 4), 4)
	})

	t.Run("api gateway v2", func(t *testing.T) {
		rt := startLambda(t, bin, env(), "OFFLOAD_CONFIG="+cfg)
		// The fixture's body is base64, as HTTP APIs send a body they
		// take for binary.
		var resp events.APIGatewayV2HTTPResponse
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", nil), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 202, `{"id":1}`)
		logColdStart(t, rt)
		if got := loggedPurges(t, waitLogs(t, rt, 1)); !slices.Contains(got, "https://fallback.example.com/docs/index.html") {
			t.Errorf("got purges %v, want docs/index.html purged", got)
		}
		// The same event again: the ledger has it, nothing to purge, and
		// still accepted.
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", nil), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 202, `{"id":2}`)
		if got := logValues(t, waitLogs(t, rt, 2), "event applied", "skipped"); !slices.Equal(got, []string{"0", "1"}) {
			t.Errorf("got skipped %v, want [0 1]", got)
		}

		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{
			"rawPath": "/healthz", "requestContext.http.method": "GET", "requestContext.http.path": "/healthz", "body": nil, "isBase64Encoded": false,
		}), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 200, `"status":"ok"`)

		// A body that is not JSON: httpapi's 400.
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{
			"body": base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0x01}),
		}), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 400, `"code":"invalid_json"`)
		// A body that says it is base64 and is not: the adapter cannot
		// make a request of it.
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{"body": "not base64!"}), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 400, `"code":"bad_request"`)

		// A record that can never be applied is refused at the door, as
		// serve refuses it: 400 saying what is wrong, nothing applied.
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{
			"isBase64Encoded": false, "body": `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"}}}]}`,
		}), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 400, `"code":"invalid_event"`)
		checkLogLines(t, waitLogs(t, rt, 6), 6)
	})

	// Every route of the API, through an HTTP API (v2) request under the
	// emulator: the same handler `offload serve` mounts.
	t.Run("every route through api gateway v2", func(t *testing.T) {
		rt := startLambda(t, bin, env(), "OFFLOAD_CONFIG="+cfg)
		s3event := `{"Records":[{"eventSource":"aws:s3","eventTime":"2026-11-20T10:00:00Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{"key":"a+b.html","eTag":"e1","sequencer":"01"}}}]}`
		call := func(method, path, body string) events.APIGatewayV2HTTPResponse {
			t.Helper()
			var resp events.APIGatewayV2HTTPResponse
			invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{
				"rawPath": path, "requestContext.http.method": method, "requestContext.http.path": path,
				"body": body, "isBase64Encoded": false,
			}), &resp)
			return resp
		}
		purged := call("POST", "/v1/purges", `{"target":"fallback","urls":["https://fallback.example.com/a.html"]}`)
		var pr struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(purged.Body), &pr); err != nil || pr.ID == "" {
			t.Fatalf("POST /v1/purges: %d %s", purged.StatusCode, purged.Body)
		}
		for _, tt := range []struct {
			method, path, body string
			status             int
			contentType, has   string
		}{
			{"GET", "/healthz", "", 200, "application/json", `{"status":"ok"}`},
			{"GET", "/v1/status", "", 200, "application/json", `"targets":["fallback"]`},
			{"POST", "/v1/events", s3event, 202, "application/json", `{"id":`},
			{"POST", "/v1/plan", s3event, 200, "application/json", `"reason":"duplicate"`},
			{"GET", "/v1/purges/" + pr.ID, "", 200, "application/json", `"target":"fallback"`},
			{"GET", "/v1/purges/nope", "", 404, "application/json", `"code":"not_found"`},
			{"GET", "/v1/inbox", "", 501, "application/json", `"code":"not_configured"`},
			{"GET", "/metrics", "", 200, "text/plain", "offload_"},
			{"GET", "/openapi.yaml", "", 200, "application/yaml", "openapi: 3."},
			{"GET", "/", "", 200, "text/html", "<h1>offload</h1>"},
		} {
			resp := call(tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Headers["Content-Type"], tt.contentType) || !strings.Contains(resp.Body, tt.has) {
				t.Errorf("%s %s: got %d %q %.200s, want %d %s with %q", tt.method, tt.path, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, tt.status, tt.contentType, tt.has)
			}
		}
	})

	t.Run("alb", func(t *testing.T) {
		rt := startLambda(t, bin, env(), "OFFLOAD_CONFIG="+cfg)
		// A target group without multi-value headers: the answer's
		// headers must be in "headers".
		out := invokeOK(t, rt, httpFixture(t, "alb-request.json", nil), 10*time.Second)
		var resp events.ALBTargetGroupResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 202, `{"id":1}`)
		if strings.Contains(string(out), `"multiValueHeaders":{`) {
			t.Errorf("got %s, want no multiValueHeaders for a target group without them", out)
		}
		// With multi-value headers: the answer's are there too.
		out = invokeOK(t, rt, httpFixture(t, "alb-request-multivalue.json", nil), 10*time.Second)
		resp = events.ALBTargetGroupResponse{}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 200, `{"status":"ok"}`)
		if resp.StatusDescription != "200 OK" {
			t.Errorf("got statusDescription %q, want 200 OK", resp.StatusDescription)
		}
	})

	t.Run("function url", func(t *testing.T) {
		rt := startLambda(t, bin, env(), "OFFLOAD_CONFIG="+cfg)
		var resp events.LambdaFunctionURLResponse
		invokeHTTP(t, rt, httpFixture(t, "function-url-request.json", nil), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 200, `{"status":"ok"}`)
		// There is no inbox on Lambda: its routes say so.
		for _, m := range []string{"GET", "DELETE"} {
			path := map[string]string{"GET": "/v1/inbox", "DELETE": "/v1/inbox/7"}[m]
			invokeHTTP(t, rt, httpFixture(t, "function-url-request.json", map[string]any{
				"rawPath": path, "requestContext.http.path": path, "requestContext.http.method": m, "headers.authorization": "Bearer " + testToken,
			}), &resp)
			checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 501, `{"error":{"code":"not_configured","message":"there is no inbox on Lambda`)
		}
		// Without a token the webhook is refused.
		invokeHTTP(t, rt, httpFixture(t, "function-url-request.json", map[string]any{
			"rawPath": "/v1/events", "requestContext.http.path": "/v1/events", "requestContext.http.method": "POST", "body": "{}",
		}), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 401, `"code":"unauthorized"`)
		logs, err := rt.WaitOutput(ctx, `"message":"invocation"`, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got := logValues(t, logs, "invocation", "source"); !slices.Equal(got, []string{httpFunctionURL, httpFunctionURL, httpFunctionURL, httpFunctionURL}) {
			t.Errorf("got sources %v, want function-url", got)
		}
	})

	t.Run("no tokens configured", func(t *testing.T) {
		// The embedded defaults: no tokens, and no caller of a Lambda is
		// loopback, so the API refuses everyone; /healthz still answers.
		rt := startLambda(t, bin, env(), "OFFLOAD_STATE_DRIVER=memory")
		var resp events.APIGatewayV2HTTPResponse
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", nil), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 403, `"code":"forbidden"`)
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{
			"rawPath": "/healthz", "requestContext.http.method": "GET", "body": nil, "isBase64Encoded": false,
		}), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 200, `{"status":"ok"}`)
		if !strings.Contains(string(rt.Logs()), "no auth tokens configured") {
			t.Errorf("the logs do not warn that no tokens are configured:\n%s", rt.Logs())
		}
	})

	t.Run("stage configurations", func(t *testing.T) {
		counter := awstest.NewCounter()
		proxy := countingProxy(t, moto.URL, counter)
		base := fmt.Sprintf("/offload/test-%d", time.Now().UnixNano())
		prod, beta := base+"/prod", base+"/beta"
		putParameter(t, moto, prod, httpConfig("prodcdn"))
		putParameter(t, moto, beta, httpConfig("betacdn"))
		rt := startLambda(t, bin, motoEnv(t, proxy), "OFFLOAD_TEST_TOKEN="+testToken, "OFFLOAD_CONFIG="+cfg, "OFFLOAD_CACHE_MAX_AGE=3")

		// GET /v1/status names the targets of the configuration that
		// served it.
		targets := func(kind, stage, param string) string {
			t.Helper()
			var body string
			switch kind {
			case httpAPIGatewayV1:
				var resp events.APIGatewayProxyResponse
				invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", map[string]any{
					"httpMethod": "GET", "path": "/v1/status", "body": nil, "requestContext.stage": stage, "stageVariables": stageVars(param),
				}), &resp)
				body = resp.Body
			default:
				var resp events.APIGatewayV2HTTPResponse
				invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{
					"rawPath": "/v1/status", "requestContext.http.method": "GET", "body": nil, "isBase64Encoded": false,
					"requestContext.stage": stage, "stageVariables": stageVars(param),
				}), &resp)
				body = resp.Body
			}
			var h struct{ Targets []string }
			if err := json.Unmarshal([]byte(body), &h); err != nil {
				t.Fatalf("GET /v1/status: %s: %v", body, err)
			}
			return strings.Join(h.Targets, ",")
		}
		calls := []struct{ kind, stage, param, want string }{
			{httpAPIGatewayV1, "prod", prod, "prodcdn"},
			{httpAPIGatewayV2, "beta", beta, "betacdn"},
			{httpAPIGatewayV1, "dev", "", "fallback"},
			{httpAPIGatewayV2, "prod", prod, "prodcdn"},
			{httpAPIGatewayV1, "beta", beta, "betacdn"},
			{httpAPIGatewayV1, "prod", prod, "prodcdn"},
			{httpAPIGatewayV2, "beta", beta, "betacdn"},
		}
		for _, c := range calls {
			if got := targets(c.kind, c.stage, c.param); got != c.want {
				t.Errorf("%s stage %s: got targets %s, want %s", c.kind, c.stage, got, c.want)
			}
		}
		// The webhook on the beta stage purges through beta's target.
		var resp events.APIGatewayV2HTTPResponse
		invokeHTTP(t, rt, httpFixture(t, "apigw-v2-request.json", map[string]any{"requestContext.stage": "beta", "stageVariables": stageVars(beta)}), &resp)
		checkAnswer(t, resp.StatusCode, resp.Headers["Content-Type"], resp.Body, 202, `{"id":1}`)

		if n := counter.Count("GetParameters"); n != 2 {
			t.Errorf("got %d GetParameters calls for %d requests on two stages, want 2: one per stage (%s)", n, len(calls)+1, counter)
		}
		logs := waitLogs(t, rt, len(calls)+1)
		if got := loggedPurges(t, logs); !slices.Equal(got, []string{"https://betacdn.example.com/docs/", "https://betacdn.example.com/docs/index.html"}) {
			t.Errorf("got purges %v, want beta's target only", got)
		}
		if got := logValues(t, logs, "invocation", "config"); len(got) != len(calls)+1 || got[0] != "ssm:"+prod+":1" || got[1] != "ssm:"+beta+":1" || !strings.HasPrefix(got[2], "file:") {
			t.Errorf("got configurations %v, want prod's, beta's, then the function's own", got)
		}
		if got := logValues(t, logs, "pipeline built", "config"); len(got) != 3 {
			t.Errorf("got pipelines built for %v, want one per configuration", got)
		}
		checkLogLines(t, logs, len(calls)+1)

		// A new version of beta's configuration is served once its max
		// age has passed, by a pipeline built for it; prod's is unchanged.
		putParameter(t, moto, beta, httpConfig("betacdn2"))
		time.Sleep(3100 * time.Millisecond)
		if got := targets(httpAPIGatewayV2, "beta", beta); got != "betacdn2" {
			t.Errorf("beta after the max age: got targets %s, want betacdn2", got)
		}
		if got := targets(httpAPIGatewayV1, "prod", prod); got != "prodcdn" {
			t.Errorf("prod after the max age: got targets %s, want prodcdn", got)
		}
		logs = waitLogs(t, rt, len(calls)+3)
		if got := logValues(t, logs, "pipeline built", "config"); len(got) != 4 || got[3] != "ssm:"+beta+":2" {
			t.Errorf("got pipelines built for %v, want a fourth for beta's version 2 alone", got)
		}
	})

	t.Run("stage configuration error", func(t *testing.T) {
		bad := fmt.Sprintf("/offload/test-%d/bad", time.Now().UnixNano())
		putParameter(t, moto, bad, "state: {driver: memory}\ntargets:\n  - {name: cf, provider: cloudfront}\n")
		rt := startLambda(t, bin, env(), "OFFLOAD_CONFIG="+cfg)
		var resp events.APIGatewayProxyResponse
		invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", map[string]any{"requestContext.stage": "bad", "stageVariables": stageVars(bad)}), &resp)
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 500, `{"error":{"code":"internal",`)
		if strings.Contains(resp.Body, bad) {
			t.Errorf("got %s, want the parameter's name kept out of the answer", resp.Body)
		}
		// A parameter that does not exist.
		missing := bad + "-missing"
		invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", map[string]any{"requestContext.stage": "gone", "stageVariables": stageVars(missing)}), &resp)
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 500, `"code":"internal"`)
		// The other stages are unaffected.
		invokeHTTP(t, rt, httpFixture(t, "apigw-v1-request.json", nil), &resp)
		checkAnswer(t, resp.StatusCode, first(resp.MultiValueHeaders["Content-Type"]), resp.Body, 202, `{"id":1}`)

		logs := waitLogs(t, rt, 3)
		var found []string
		for _, m := range logLines(t, logs) {
			if m["message"] == "configuration for an HTTP request" {
				found = append(found, fmt.Sprint(m["parameter"], " ", m["stage"], " ", m["error"]))
			}
		}
		if len(found) != 2 || !strings.HasPrefix(found[0], bad+" bad ") || !strings.Contains(found[0], "ssm:"+bad+":3:5: targets[0].distribution_id") {
			t.Errorf("got error lines %q, want the parameter, the stage, and ssm:%s:3:5: targets[0].distribution_id", found, bad)
		}
		if len(found) == 2 && (!strings.HasPrefix(found[1], missing+" gone ") || !strings.Contains(found[1], "does not exist")) {
			t.Errorf("got %q, want the missing parameter named as not found", found[1])
		}
	})
}

// httpFixture reads testdata/name and sets the fields edits names, by
// dotted path ("requestContext.http.method"); a nil value deletes the field.
func httpFixture(t *testing.T, name string, edits map[string]any) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for path, v := range edits {
		keys := strings.Split(path, ".")
		m := ev
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		if v == nil {
			delete(m, keys[len(keys)-1])
		} else {
			m[keys[len(keys)-1]] = v
		}
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func stageVars(param string) any {
	if param == "" {
		return nil
	}
	return map[string]string{stageConfigVar: param}
}

// invokeHTTP invokes rt with payload and decodes its answer into resp.
func invokeHTTP(t *testing.T, rt *lambdatest.Runtime, payload []byte, resp any) {
	t.Helper()
	out := invokeOK(t, rt, payload, 10*time.Second)
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
}

func checkAnswer(t *testing.T, status int, contentType, body string, wantStatus int, wantBody string) {
	t.Helper()
	if status != wantStatus || !strings.Contains(body, wantBody) {
		t.Errorf("got %d %s, want %d with %s", status, body, wantStatus, wantBody)
	}
	if contentType != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", contentType)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestSniffHTTPEvent(t *testing.T) {
	gomod := ""
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		gomod = filepath.Join(strings.TrimSpace(string(out)), "github.com/aws/aws-lambda-go@v1.55.1/events/testdata")
	}
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"v1 fixture", "testdata/apigw-v1-request.json", httpAPIGatewayV1},
		{"v2 fixture", "testdata/apigw-v2-request.json", httpAPIGatewayV2},
		{"alb fixture", "testdata/alb-request.json", httpALB},
		{"alb multi-value fixture", "testdata/alb-request-multivalue.json", httpALB},
		{"function url fixture", "testdata/function-url-request.json", httpFunctionURL},
		{"v1 payload from an HTTP API", `{"version":"1.0","resource":"/healthz","path":"/healthz","httpMethod":"GET","requestContext":{"stage":"$default","resourcePath":"/healthz"}}`, httpAPIGatewayV1},
		{"function url elsewhere", `{"version":"2.0","routeKey":"$default","rawPath":"/","requestContext":{"domainName":"x.lambda-url.eu-west-1.on.aws","http":{"method":"GET"}}}`, httpFunctionURL},
		{"custom domain on an HTTP API", `{"version":"2.0","routeKey":"$default","rawPath":"/","requestContext":{"domainName":"api.lambda-url.example.com","http":{"method":"GET"}}}`, httpAPIGatewayV2},
		{"sqs", string(sqsEvent(sqsMessage{"a", `{"requestContext":{"stage":"x"},"httpMethod":"GET"}`})), ""},
		{"s3", s3Notification("b", "k", "e", "1"), ""},
		{"eventbridge", `{"detail-type":"Object Created","source":"aws.s3","detail":{}}`, ""},
		{"warm-up", `{"warmup": true}`, ""},
		{"websocket", `{"requestContext":{"routeKey":"$connect","eventType":"CONNECT","stage":"prod","connectionId":"x"},"isBase64Encoded":false}`, ""},
		{"not json", `nope`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(tt.payload)
			if strings.HasPrefix(tt.payload, "testdata/") {
				var err error
				if payload, err = os.ReadFile(tt.payload); err != nil {
					t.Fatal(err)
				}
			}
			if got := sniffHTTPEvent(payload); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.want != "" {
				if got := sniffEvent(payload).kind; got != "unknown" {
					t.Errorf("sniffEvent: got %q, want unknown for an HTTP request", got)
				}
			}
		})
	}
	// aws-lambda-go's own fixtures, where the module cache has them.
	for file, want := range map[string]string{
		"apigw-request.json":                                httpAPIGatewayV1,
		"apigw-v2-request-no-authorizer.json":               httpAPIGatewayV2,
		"apigw-v2-request-iam.json":                         httpAPIGatewayV2,
		"alb-lambda-target-request-headers-only.json":       httpALB,
		"alb-lambda-target-request-multivalue-headers.json": httpALB,
		"lambda-urls-request.json":                          httpFunctionURL, // no routeKey: the domain tells
		"apigw-websocket-request-send-message.json":         "",
		"apigw-websocket-request.json":                      "",
		"sqs-event.json":                                    "",
	} {
		data, err := os.ReadFile(filepath.Join(gomod, file))
		if err != nil {
			continue
		}
		if got := sniffHTTPEvent(data); got != want {
			t.Errorf("aws-lambda-go's %s: got %q, want %q", file, got, want)
		}
	}
}

// A request from an ALB is given the client's address the ALB added last
// to X-Forwarded-For: httpapi counts failed authentications by it.
func TestALBClient(t *testing.T) {
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"one hop", "", []string{"25.12.198.67"}, "25.12.198.67"},
		{"the ALB's hop is the last", "", []string{"10.0.0.1, 198.51.100.7", "203.0.113.9"}, "203.0.113.9"},
		{"within one header", "", []string{"10.0.0.1,  198.51.100.7"}, "198.51.100.7"},
		{"none", "", nil, ""},
		{"already set", "192.0.2.1:5", []string{"203.0.113.9"}, "192.0.2.1:5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/healthz", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			var got string
			albClient(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr })).ServeHTTP(httptest.NewRecorder(), r)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
