package main

// HTTP requests on Lambda: API Gateway REST (v1) and HTTP API (v2) events,
// ALB requests and Function URL requests are converted to net/http by
// aws-lambda-go-api-proxy's httpadapter and served by the same handler
// `offload serve` mounts (httpapi). A Function URL in its default BUFFERED
// invoke mode sends API Gateway's payload format 2.0 and takes the same
// answer, so the v2 adapter serves it; aws-lambda-go's lambdaurl answers
// only in the RESPONSE_STREAM mode, which a function that also takes SQS
// batches does not use.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/pipeline"
)

// stageConfigVar is the API Gateway stage variable that names the SSM
// parameter holding that stage's configuration.
const stageConfigVar = "offloadConfig"

// The HTTP event kinds, as sniffHTTPEvent names them and the logs show them.
const (
	httpAPIGatewayV1 = "apigateway-v1"
	httpAPIGatewayV2 = "apigateway-v2"
	httpALB          = "alb"
	httpFunctionURL  = "function-url"
)

// sniffHTTPEvent says which kind of HTTP request payload is, or "" when it
// is not one.
func sniffHTTPEvent(payload []byte) string {
	if !bytes.Contains(payload, []byte(`"requestContext"`)) {
		// Spares SQS batches of up to 6 MB a second parse.
		return ""
	}
	var env struct {
		Version        string `json:"version"`
		RouteKey       string `json:"routeKey"`
		HTTPMethod     string `json:"httpMethod"`
		RequestContext *struct {
			Stage        string          `json:"stage"`
			ResourcePath string          `json:"resourcePath"`
			DomainName   string          `json:"domainName"`
			EventType    string          `json:"eventType"` // WebSocket APIs
			ELB          json.RawMessage `json:"elb"`
			HTTP         *struct {
				Method string `json:"method"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	if json.Unmarshal(payload, &env) != nil || env.RequestContext == nil || env.RequestContext.EventType != "" {
		return ""
	}
	rc := env.RequestContext
	switch {
	case len(rc.ELB) > 0 && string(rc.ELB) != "null" && env.HTTPMethod != "":
		return httpALB
	case env.Version == "2.0" && rc.HTTP != nil && rc.HTTP.Method != "" && isFunctionURLDomain(rc.DomainName):
		return httpFunctionURL
	case env.Version == "2.0" && rc.HTTP != nil && rc.HTTP.Method != "" && env.RouteKey != "":
		return httpAPIGatewayV2
	case env.HTTPMethod != "" && (rc.Stage != "" || rc.ResourcePath != ""):
		// REST APIs, and HTTP APIs sending payload format 1.0.
		return httpAPIGatewayV1
	}
	return ""
}

// isFunctionURLDomain reports whether d is a Function URL's host,
// <url-id>.lambda-url.<region>.on.aws.
func isFunctionURLDomain(d string) bool {
	_, rest, ok := strings.Cut(d, ".lambda-url.")
	if !ok || !strings.HasSuffix(rest, ".on.aws") {
		return false
	}
	region := strings.TrimSuffix(rest, ".on.aws")
	return region != "" && !strings.Contains(region, ".")
}

// lambdaWeb is what the function keeps across invocations to serve HTTP
// requests: the configuration of each stage that names its own (a cache
// entry per SSM parameter) and a handler per configuration, rebuilt when
// that configuration changes. Its zero value is ready to use.
type lambdaWeb struct {
	mu      sync.Mutex
	ssm     *ssmcache.Client
	ssmErr  error
	stages  map[string]*cache.Entry[lambdaConfig] // by parameter name
	servers map[string]*lambdaServer              // by parameter name; "" for the function's own configuration
	events  atomic.Uint64
}

// lambdaServer is the handler built for one configuration.
type lambdaServer struct {
	version string
	pipe    *pipeline.Pipeline
	deps    *deps // owned here for a stage's configuration; the function's own belongs to lambdaHandler
	handler http.Handler
}

// serveHTTP answers an HTTP request: converts it, picks the configuration
// (the stage's, or the function's own), serves it with httpapi's handler
// and returns the answer in the shape the caller wants.
func (h *lambdaHandler) serveHTTP(ctx context.Context, kind string, payload []byte, cold bool, begin time.Time) ([]byte, error) {
	var (
		stage, param, method, path string
		body                       string
		isBase64                   bool
		serve                      func(http.Handler) (any, int, error)
		plain                      func(status int, hdr map[string]string, body string) any // an answer without the adapter
	)
	switch kind {
	case httpAPIGatewayV1:
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, invokeError("Offload.BadRequest", fmt.Errorf("%s event: %w", kind, err))
		}
		stage, param, method, path = ev.RequestContext.Stage, ev.StageVariables[stageConfigVar], ev.HTTPMethod, ev.Path
		body, isBase64 = ev.Body, ev.IsBase64Encoded
		serve = func(hd http.Handler) (any, int, error) {
			resp, err := httpadapter.New(hd).ProxyWithContext(ctx, ev)
			return resp, resp.StatusCode, err
		}
		plain = func(status int, hdr map[string]string, body string) any {
			return events.APIGatewayProxyResponse{StatusCode: status, Headers: hdr, Body: body}
		}
	case httpAPIGatewayV2, httpFunctionURL:
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, invokeError("Offload.BadRequest", fmt.Errorf("%s event: %w", kind, err))
		}
		method, path, body, isBase64 = ev.RequestContext.HTTP.Method, ev.RawPath, ev.Body, ev.IsBase64Encoded
		if path == "" {
			path = ev.RequestContext.HTTP.Path
		}
		if kind == httpAPIGatewayV2 {
			// A Function URL has no stages.
			stage, param = ev.RequestContext.Stage, ev.StageVariables[stageConfigVar]
		}
		serve = func(hd http.Handler) (any, int, error) {
			resp, err := httpadapter.NewV2(hd).ProxyWithContext(ctx, ev)
			return resp, resp.StatusCode, err
		}
		plain = func(status int, hdr map[string]string, body string) any {
			return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: hdr, Body: body}
		}
	case httpALB:
		var ev events.ALBTargetGroupRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, invokeError("Offload.BadRequest", fmt.Errorf("%s event: %w", kind, err))
		}
		method, path, body, isBase64 = ev.HTTPMethod, ev.Path, ev.Body, ev.IsBase64Encoded
		multi := ev.MultiValueHeaders != nil
		if hosts := ev.MultiValueHeaders["host"]; multi && len(hosts) > 0 {
			// The adapter reads the host from the single-value headers
			// alone (awslabs/aws-lambda-go-api-proxy#211).
			ev.Headers = map[string]string{"host": hosts[0]}
		}
		serve = func(hd http.Handler) (any, int, error) {
			resp, err := httpadapter.NewALB(albClient(hd)).ProxyWithContext(ctx, ev)
			if !multi {
				// A target group without multi-value headers reads
				// "headers" only, and answers 502 without them
				// (awslabs/aws-lambda-go-api-proxy#79). ALB keeps the last
				// of repeated request headers; do the same.
				resp.Headers = map[string]string{}
				for k, vs := range resp.MultiValueHeaders {
					resp.Headers[k] = vs[len(vs)-1]
				}
				resp.MultiValueHeaders = nil
			}
			if status := resp.StatusCode; status > 0 {
				// As AWS documents it: "200 OK", not "OK".
				resp.StatusDescription = fmt.Sprintf("%d %s", status, http.StatusText(status))
			}
			return resp, resp.StatusCode, err
		}
		plain = func(status int, hdr map[string]string, body string) any {
			resp := events.ALBTargetGroupResponse{StatusCode: status, StatusDescription: fmt.Sprintf("%d %s", status, http.StatusText(status)), Body: body}
			if multi {
				resp.MultiValueHeaders = map[string][]string{}
				for k, v := range hdr {
					resp.MultiValueHeaders[k] = []string{v}
				}
			} else {
				resp.Headers = hdr
			}
			return resp
		}
	default:
		return nil, invokeError("Offload.BadRequest", fmt.Errorf("unknown HTTP event kind %q", kind))
	}

	if err := convertible(method, path, body, isBase64); err != nil {
		// The caller's fault; the adapter would say so on stdout, in
		// lines that are not JSON.
		h.logger.WarnContext(ctx, "invocation", "source", kind, "method", method, "path", path, "status", http.StatusBadRequest,
			"stage", stage, "error", err.Error(), "cold", cold, "duration_ms", time.Since(begin).Milliseconds())
		return json.Marshal(plain(http.StatusBadRequest, map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
			errorBody("bad_request", err.Error())))
	}

	srv, version, err := h.httpServer(ctx, param)
	var hd http.Handler
	if err != nil {
		// The caller learns that the stage cannot be served; the log says
		// why (file, line and field for a configuration error).
		attrs := []any{"source", kind, "stage", stage, "error", configProblem(err).Error()}
		if param != "" {
			attrs = append(attrs, "parameter", param)
		}
		h.logger.ErrorContext(ctx, "configuration for an HTTP request", attrs...)
		hd = errorHandler(http.StatusInternalServerError, "internal", "this function's configuration for the request cannot be used; its log says why")
	} else {
		hd = srv.handler
	}

	resp, status, err := serve(defaultStatus(hd))
	if err != nil {
		// The adapter could not turn the event into a request (a body
		// that is not base64, say): the caller's fault.
		h.logger.WarnContext(ctx, "HTTP request not converted", "source", kind, "error", err.Error())
		status = http.StatusBadRequest
		resp = plain(status, map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
			errorBody("bad_request", "the request could not be read: "+err.Error()))
	}
	h.logger.InfoContext(ctx, "invocation", "source", kind, "method", method, "path", path, "status", status,
		"stage", stage, "config", version, "cold", cold, "duration_ms", time.Since(begin).Milliseconds())
	return json.Marshal(resp)
}

// albClient gives a request from an ALB its client's address, which the
// adapter leaves empty: the last X-Forwarded-For entry, the one the ALB
// itself added. httpapi counts failed authentications by it.
func albClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RemoteAddr == "" {
			if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				hops := strings.Split(xff[len(xff)-1], ",")
				r.RemoteAddr = strings.TrimSpace(hops[len(hops)-1])
			}
		}
		next.ServeHTTP(w, r)
	})
}

// convertible reports why the adapter could not make a request of an
// event, or nil.
func convertible(method, path, body string, isBase64 bool) error {
	if isBase64 {
		if _, err := base64.StdEncoding.DecodeString(body); err != nil {
			return fmt.Errorf("the request body is marked base64 and is not: %w", err)
		}
	}
	if _, err := http.NewRequest(method, "https://host.invalid/"+strings.TrimPrefix(path, "/"), nil); err != nil {
		return fmt.Errorf("not an HTTP request: %w", err)
	}
	return nil
}

// httpServer returns the handler for the configuration in SSM parameter
// param, or for the function's own configuration when param is "" (or is
// the function's own parameter), and that configuration's version.
func (h *lambdaHandler) httpServer(ctx context.Context, param string) (*lambdaServer, string, error) {
	if param == "" || param == os.Getenv(envConfigSSM) {
		lc, err := h.config.Get(ctx)
		if err != nil {
			return nil, "", err
		}
		// The pipeline the events use: a bolt file cannot be opened twice.
		p, err := h.pipeline(ctx, lc)
		if err != nil {
			return nil, lc.version, fmt.Errorf("config %s: %w", lc.version, err)
		}
		h.mu.Lock()
		d := h.deps
		h.mu.Unlock()
		return h.web.server(h, "", lc, p, d), lc.version, nil
	}
	entry, err := h.web.stageEntry(ctx, h, param)
	if err != nil {
		return nil, "", err
	}
	lc, err := entry.Get(ctx)
	if err != nil {
		return nil, "", err
	}
	srv, err := h.web.stageServer(ctx, h, param, lc)
	if err != nil {
		return nil, lc.version, fmt.Errorf("config %s: %w", lc.version, err)
	}
	return srv, lc.version, nil
}

// stageEntry returns the cache entry of the configuration in param, adding
// it on first use. The entries live in the function's cache, so a warm-up
// ping refreshes them too.
func (w *lambdaWeb) stageEntry(ctx context.Context, h *lambdaHandler, param string) (*cache.Entry[lambdaConfig], error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.stages[param]; ok {
		return e, nil
	}
	if w.ssm == nil && w.ssmErr == nil {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			w.ssmErr = fmt.Errorf("config: load AWS configuration: %w", err)
		} else {
			w.ssm, w.ssmErr = ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(awsCfg)})
		}
	}
	if w.ssmErr != nil {
		return nil, w.ssmErr
	}
	if w.stages == nil {
		w.stages = map[string]*cache.Entry[lambdaConfig]{}
	}
	// A key of its own: the function's own configuration may be the same
	// parameter, read through another client.
	spec := ssmConfigSpec(w.ssm, param)
	spec.Key = spec.Key.WithVariant("stage")
	e, err := cache.Add(h.cache, spec)
	if err != nil {
		return nil, err
	}
	w.stages[param] = e
	h.logger.InfoContext(ctx, "configuration from SSM for a stage", "parameter", param)
	return e, nil
}

// ssmConfigSpec is the configuration in an SSM parameter, identified by the
// parameter's version.
func ssmConfigSpec(c *ssmcache.Client, param string) cache.Spec[lambdaConfig] {
	return cache.Map(c.Parameter(param), func(p ssmcache.Parameter) (lambdaConfig, error) {
		cfg, err := config.Parse("ssm:"+p.Name, []byte(p.Value))
		if err != nil {
			return lambdaConfig{}, err
		}
		return lambdaConfig{cfg: cfg, version: "ssm:" + p.Name + ":" + fmt.Sprint(p.Version)}, nil
	})
}

// stageServer returns the handler for a stage's configuration, building
// its pipeline when the configuration is new or changed.
func (w *lambdaWeb) stageServer(ctx context.Context, h *lambdaHandler, param string, lc lambdaConfig) (*lambdaServer, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.servers[param]; s != nil && s.version == lc.version {
		return s, nil
	}
	if s := w.servers[param]; s != nil {
		// As for the function's own pipeline: a bolt file cannot be
		// opened twice, so the old one is released first.
		s.deps.close()
		delete(w.servers, param)
	}
	d, err := newDeps(lc.cfg, h.logger, h.redact)
	if err != nil {
		return nil, err
	}
	p, err := d.pipeline(ctx, false)
	if err != nil {
		d.close()
		return nil, err
	}
	h.logger.InfoContext(ctx, "pipeline built", "config", lc.version, "parameter", param, "state", lc.cfg.State.Driver,
		"targets", len(lc.cfg.Targets), "mirrors", len(lc.cfg.Mirrors))
	return w.store(h, param, lc, p, d, true), nil
}

// server returns the handler for the function's own configuration, built
// around the pipeline the events use.
func (w *lambdaWeb) server(h *lambdaHandler, param string, lc lambdaConfig, p *pipeline.Pipeline, d *deps) *lambdaServer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.servers[param]; s != nil && s.pipe == p {
		return s
	}
	return w.store(h, param, lc, p, d, false)
}

func (w *lambdaWeb) store(h *lambdaHandler, param string, lc lambdaConfig, p *pipeline.Pipeline, d *deps, owned bool) *lambdaServer {
	opts := lambdaAPIOptions(lc.cfg, d, p, &w.events)
	if opts.Tokens == nil && opts.Credentials == nil {
		h.logger.Warn("no auth tokens configured: on Lambda every caller of /v1/ is refused (none is loopback); set auth.tokens",
			"config", lc.version)
	}
	s := &lambdaServer{version: lc.version, pipe: p, handler: lambdaOnly(httpapi.New(opts))}
	if owned {
		s.deps = d
	}
	if w.servers == nil {
		w.servers = map[string]*lambdaServer{}
	}
	w.servers[param] = s
	return s
}

// lambdaAPIOptions are httpapi's options on Lambda, where events are
// applied as they arrive (applyInbox) rather than kept in an inbox.
func lambdaAPIOptions(cfg *config.Config, d *deps, p *pipeline.Pipeline, ids *atomic.Uint64) httpapi.Options {
	return httpapi.Options{
		Inbox:       &applyInbox{pipe: p, ids: ids, logger: d.logger},
		Pipeline:    p,
		Logger:      d.logger,
		Rate:        cfg.Auth.Rate,
		Burst:       cfg.Auth.Burst,
		CacheStats:  d.cache.Stats,
		Credentials: apiCredentials(cfg, d),
		Redact:      d.redact.String,
	}
}

// applyInbox is httpapi's inbox on Lambda, where there is no durable one:
// an event is applied before the answer, so a 202 means its changes are
// purged and committed, and a failure answers 503, for the sender to send
// it again. It is always empty.
type applyInbox struct {
	pipe   *pipeline.Pipeline
	ids    *atomic.Uint64
	logger *slog.Logger
}

// errNotApplied is what the sender of an event that failed is told to
// retry for; the log has the changes that failed.
var errNotApplied = errors.New("lambda: the event's changes were not all applied")

func (in *applyInbox) Add(ctx context.Context, body []byte) (uint64, error) {
	work := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, dl.Add(-answerMargin))
		defer cancel()
	}
	res, err := in.pipe.Apply(work, event.Decode(body))
	if err != nil {
		return 0, err
	}
	sum := summarizeResult(res)
	in.logger.InfoContext(ctx, "event applied", "changes", sum.Changes, "purged", sum.Purged, "skipped", sum.Skipped,
		"failed", sum.Failed, "purges", sum.Purges, "committed", sum.Committed)
	if sum.Failed > 0 {
		return 0, fmt.Errorf("%w: %d of %d failed: %s", errNotApplied, sum.Failed, sum.Changes, firstFailure(res))
	}
	return in.ids.Add(1), nil
}

func (in *applyInbox) Stats(context.Context, int) (pipeline.InboxStats, error) {
	return pipeline.InboxStats{Failures: []pipeline.Entry{}}, nil
}

func (in *applyInbox) Delete(context.Context, uint64) error { return pipeline.ErrNotFound }

// lambdaOnly answers the routes that have no meaning on Lambda, the
// inbox's, with a JSON error that says so, and passes the rest to next.
func lambdaOnly(next http.Handler) http.Handler {
	noInbox := errorHandler(http.StatusNotImplemented, "not_configured",
		"there is no inbox on Lambda: POST /v1/events applies an event before it answers, and SQS's dead-letter queue keeps what failed")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/inbox" || strings.HasPrefix(r.URL.Path, "/v1/inbox/") {
			noInbox.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errorHandler answers every request with httpapi's error shape,
// {"error": {"code": …, "message": …}}.
func errorHandler(status int, code, msg string) http.Handler {
	body := []byte(errorBody(code, msg))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func errorBody(code, msg string) string {
	b, _ := json.Marshal(map[string]map[string]string{"error": {"code": code, "message": msg}})
	return string(b) + "\n"
}

// defaultStatus answers 200 for a handler that wrote nothing, as net/http
// does; the adapters fail on a response without a status.
func defaultStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &wroteWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if !sw.wrote {
			w.WriteHeader(http.StatusOK)
		}
	})
}

type wroteWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *wroteWriter) WriteHeader(code int) { w.wrote = true; w.ResponseWriter.WriteHeader(code) }
func (w *wroteWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
func (w *wroteWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ httpapi.Inbox = (*applyInbox)(nil)
