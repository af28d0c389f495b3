package main

// The Lambda bootstrap: when AWS_LAMBDA_RUNTIME_API is set, main hands the
// process to runLambda, which serves S3, SNS, SQS and EventBridge events
// through the same pipeline `offload apply` runs, and HTTP requests through
// the same handler `offload serve` mounts (lambda_http.go):
//
//	API Gateway REST API (v1)   proxy integration events; answered as a v1 proxy response
//	API Gateway HTTP API (v2)   payload format 2.0 (1.0 is served as v1); a v2 response
//	Application Load Balancer   target group requests, with or without multi-value headers
//	Function URL                BUFFERED invoke mode (payload format 2.0); a v2 response
//
// aws-lambda-go-api-proxy's httpadapter converts them, base64 bodies and
// repeated headers included. An API Gateway stage whose stage variable
// offloadConfig names an SSM parameter is served with the configuration in
// it, cached per parameter like the function's own; other requests use the
// function's own configuration. A stage whose configuration cannot be used
// answers 500 with the JSON error shape, and the log names the parameter,
// the line and the field. On Lambda, POST /v1/events applies the event
// before answering (202 once applied, 503 to send it again); there is no
// inbox, so GET /v1/inbox and DELETE /v1/inbox/{id} answer 501. Callers are
// never loopback: configure auth.tokens, or every /v1/ route refuses them.
//
// Configuration, first found wins:
//
//	OFFLOAD_CONFIG_SSM=/name   an SSM parameter holding the YAML (decrypted if a SecureString)
//	OFFLOAD_CONFIG=path        a YAML file (setting both is an error)
//	offload.yaml               next to the bootstrap, in the deployment package
//	(none)                     the embedded defaults, a dry run; the state from
//	                           OFFLOAD_STATE_DRIVER, OFFLOAD_STATE_TABLE, OFFLOAD_STATE_PATH
//
// The configuration is cached across invocations for the cache's max age
// (OFFLOAD_CACHE_MAX_AGE, default 60s) and the pipeline is rebuilt only when
// its content changes (the parameter's version, the file's hash). A
// configuration error fails the invocation with the file, line and field.
//
// Answers: an SQS batch gets a partial batch response naming the messages
// whose changes failed (the event source mapping needs
// ReportBatchItemFailures); any other event fails the invocation when a
// change failed, so Lambda retries it. A warm-up ping ({"warmup": true}, or
// an EventBridge scheduled event) refreshes the caches and processes
// nothing. Logs are JSON lines on stdout, each with the requestId; the level
// follows AWS_LAMBDA_LOG_LEVEL.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/redact"
	"github.com/offload-dev/offload/pipeline"
)

// The environment the Lambda handler reads, besides the AWS SDK's own.
const (
	envConfigFile = "OFFLOAD_CONFIG"     // a YAML file; default offload.yaml next to the binary, when present
	envConfigSSM  = "OFFLOAD_CONFIG_SSM" // an SSM parameter holding the YAML
	envStateDrv   = "OFFLOAD_STATE_DRIVER"
	envStateTable = "OFFLOAD_STATE_TABLE"
	envStatePath  = "OFFLOAD_STATE_PATH"
)

// answerMargin is taken off the invocation's deadline for the pipeline's
// context, so that work in flight is cancelled, and reported failed, early
// enough for the handler to answer: a function cut off by its timeout
// reports nothing, and SQS would redeliver the whole batch.
const answerMargin = 500 * time.Millisecond

func runLambda() {
	current := &atomic.Pointer[string]{}
	red := redact.New()
	logger := slog.New(newLambdaLogHandler(red.Writer(os.Stdout), current))
	// The runtime's own log.Printf lines (an invocation's error, a panic)
	// go through it too.
	slog.SetDefault(logger)
	log.SetFlags(0)
	log.SetOutput(slog.NewLogLogger(logger.Handler(), slog.LevelError).Writer())
	h := newLambdaHandler(logger, current)
	h.redact = red
	if os.Getenv(envConfigSSM) == "" {
		// A file's or the environment's configuration is read and parsed
		// while the runtime asks for the first event, not after: nothing
		// in it waits on the network, so no deadline is missed. The first
		// invocation's Get finds it loaded, or joins the load.
		go h.config.Get(context.Background())
	}
	lambda.Start(h)
}

// lambdaHandler is the function. Across invocations it keeps the
// configuration (in a cache entry, refreshed after its max age) and the
// pipeline built from it (rebuilt when the configuration changes).
type lambdaHandler struct {
	logger  *slog.Logger
	cache   *cache.Cache
	config  *cache.Entry[lambdaConfig]
	current *atomic.Pointer[string] // the request id, for log lines without a context
	redact  *redact.Redactor        // told every secret value resolved; the logs and HTTP answers go through it
	cold    atomic.Bool

	mu      sync.Mutex
	version string // of the configuration the pipeline was built from
	deps    *deps
	pipe    *pipeline.Pipeline

	web lambdaWeb // HTTP requests (lambda_http.go)
}

// lambdaConfig is a loaded configuration and what identifies its content.
type lambdaConfig struct {
	cfg     *config.Config
	version string
}

func newLambdaHandler(logger *slog.Logger, current *atomic.Pointer[string]) *lambdaHandler {
	c, err := cache.New(cache.Options{Logger: logger})
	spec := lambdaConfigSpec(logger)
	if err != nil {
		// A bad $OFFLOAD_CACHE_MAX_AGE fails every invocation with the
		// reason, as a bad configuration does.
		c, _ = cache.New(cache.Options{Logger: logger, MaxAge: cache.DefaultMaxAge})
		spec = cache.Func("offload-config", func(context.Context) (lambdaConfig, error) { return lambdaConfig{}, err })
	}
	h := &lambdaHandler{logger: logger, cache: c, current: current, redact: redact.New()}
	h.cold.Store(true)
	h.config = cache.MustAdd(c, spec, cache.Name("config"))
	return h
}

// lambdaConfigSpec says where the configuration comes from: an SSM parameter
// (OFFLOAD_CONFIG_SSM), a file (OFFLOAD_CONFIG, or offload.yaml next to the
// binary when it is there), or else the embedded defaults with the state
// taken from the environment.
func lambdaConfigSpec(logger *slog.Logger) cache.Spec[lambdaConfig] {
	param := os.Getenv(envConfigSSM)
	file := os.Getenv(envConfigFile)
	switch {
	case param != "" && file != "":
		err := fmt.Errorf("config: %s and %s are both set; set one", envConfigFile, envConfigSSM)
		return cache.Func("offload-config", func(context.Context) (lambdaConfig, error) { return lambdaConfig{}, err })
	case param != "":
		awsCfg, err := loadAWS(context.Background())
		if err != nil {
			err = fmt.Errorf("config: ssm:%s: load AWS configuration: %w", param, err)
			return cache.Func("offload-config", func(context.Context) (lambdaConfig, error) { return lambdaConfig{}, err })
		}
		logger.Info("configuration from SSM", "parameter", param)
		params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(awsCfg)})
		if err != nil {
			return cache.Func("offload-config", func(context.Context) (lambdaConfig, error) { return lambdaConfig{}, err })
		}
		return ssmConfigSpec(params, param)
	}
	if file == "" {
		if exe, err := os.Executable(); err == nil {
			if p := filepath.Join(filepath.Dir(exe), "offload.yaml"); isRegularFile(p) {
				file = p
			}
		}
	}
	if file != "" {
		logger.Info("configuration from a file", "file", file)
		return cache.Func("offload-config:"+file, func(context.Context) (lambdaConfig, error) {
			data, err := os.ReadFile(file)
			if err != nil {
				return lambdaConfig{}, fmt.Errorf("config: %w", err)
			}
			cfg, err := config.Parse(file, data)
			if err != nil {
				return lambdaConfig{}, err
			}
			sum := sha256.Sum256(data)
			return lambdaConfig{cfg: cfg, version: "file:" + file + ":" + hex.EncodeToString(sum[:8])}, nil
		})
	}
	logger.Info("no configuration file or parameter: embedded defaults; purges are logged, not sent (a dry run)")
	return cache.Func("offload-config:env", lambdaEnvConfig)
}

// lambdaEnvConfig is the embedded defaults with the state from the environment:
// OFFLOAD_STATE_DRIVER (bolt, dynamodb or memory), OFFLOAD_STATE_TABLE
// and OFFLOAD_STATE_PATH. A bolt file goes in the temporary directory by
// default, the only writable place in Lambda.
func lambdaEnvConfig(context.Context) (lambdaConfig, error) {
	cfg := config.Default()
	drv, table, path := os.Getenv(envStateDrv), os.Getenv(envStateTable), os.Getenv(envStatePath)
	switch drv {
	case "", "bolt", "dynamodb", "memory":
	default:
		return lambdaConfig{}, &config.Error{File: "environment", Field: envStateDrv,
			Msg: fmt.Sprintf("%q is not a state driver: use bolt, dynamodb or memory", drv)}
	}
	if drv != "" {
		cfg.State.Driver = drv
	}
	if table != "" {
		cfg.State.Table = table
	}
	cfg.State.Path = filepath.Join(os.TempDir(), "offload.db")
	if path != "" {
		cfg.State.Path = path
	}
	return lambdaConfig{cfg: cfg, version: "env:" + cfg.State.Driver + ":" + cfg.State.Table + ":" + cfg.State.Path}, nil
}

func isRegularFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// invocationSummary is the response to an event that is not from SQS.
type invocationSummary struct {
	Changes   int `json:"changes"`
	Purged    int `json:"purged"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
	Purges    int `json:"purges"`
	Committed int `json:"committed"`
}

// Invoke handles one invocation: a warm-up ping, or an event to apply.
func (h *lambdaHandler) Invoke(ctx context.Context, payload []byte) (_ []byte, err error) {
	defer func() {
		// The error leaves the process: a provider's message in it may
		// echo a credential.
		var ie messages.InvokeResponse_Error
		if errors.As(err, &ie) {
			ie.Message = h.redact.String(ie.Message)
			err = ie
		}
	}()
	begin := time.Now()
	if lc, ok := lambdacontext.FromContext(ctx); ok && lambdacontext.MaxConcurrency() <= 1 {
		id := lc.AwsRequestID
		h.current.Store(&id)
	}
	cold := h.cold.Swap(false)

	if lambdacache.IsScheduledEvent(payload) {
		return h.warm(ctx, cold, begin)
	}
	if kind := sniffHTTPEvent(payload); kind != "" {
		return h.serveHTTP(ctx, kind, payload, cold, begin)
	}

	// The configuration is loaded with the invocation's own deadline: a
	// fetch cut short by the margin would count as a failure in the cache,
	// and the next invocation would wait out its backoff.
	// Errors returned are logged by the runtime, with the request id.
	lc, err := h.config.Get(ctx)
	if err != nil {
		return nil, invokeError("Offload.ConfigError", configProblem(err))
	}
	p, err := h.pipeline(ctx, lc)
	if err != nil {
		return nil, invokeError("Offload.PipelineError", fmt.Errorf("config %s: %w", lc.version, err))
	}

	// The pipeline stops at the margin: work it has not started, and work
	// in flight at the margin, is reported failed, and the handler answers
	// before Lambda cuts it off.
	work := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, dl.Add(-answerMargin))
		defer cancel()
	}
	src := sniffEvent(payload)
	changes := event.Decode(payload)
	res, err := p.Apply(work, changes)
	if err != nil {
		// The whole batch failed (the ledger could not be read).
		h.logger.ErrorContext(ctx, "apply", "source", src.kind, "changes", len(changes), "error", err.Error())
		if src.kind == "sqs" && len(src.messageIDs) > 0 {
			return json.Marshal(sqsBatchResponse(src.messageIDs))
		}
		return nil, invokeError("Offload.BatchFailed", err)
	}

	sum := summarizeResult(res)
	failedMsgs := res.FailedMessages()
	attrs := []any{"source", src.kind, "records", src.records, "changes", sum.Changes, "purged", sum.Purged,
		"skipped", sum.Skipped, "failed", sum.Failed, "purges", sum.Purges, "committed", sum.Committed,
		"config", lc.version, "cold", cold, "duration_ms", time.Since(begin).Milliseconds()}
	if len(failedMsgs) > 0 {
		attrs = append(attrs, "failed_messages", failedMsgs)
	}
	for _, c := range res.Changes {
		if c.Status == pipeline.StatusFailed {
			h.logger.WarnContext(ctx, "change failed", "bucket", c.Bucket, "key", c.Key, "message_id", c.MessageID, "error", c.Error)
		}
	}
	h.logger.InfoContext(ctx, "invocation", attrs...)

	if src.kind == "sqs" {
		if hasUnattributedFailure(res) {
			// A failure with no message id cannot go in a partial batch
			// response; failing the invocation redelivers the batch.
			return nil, invokeError("Offload.ChangesFailed", fmt.Errorf("%d of %d changes failed, some in records without a message id", sum.Failed, sum.Changes))
		}
		return json.Marshal(sqsBatchResponse(failedMsgs))
	}
	if sum.Failed > 0 {
		return nil, invokeError("Offload.ChangesFailed", fmt.Errorf("%d of %d changes failed: %s", sum.Failed, sum.Changes, firstFailure(res)))
	}
	return json.Marshal(sum)
}

// configProblem returns the configuration's own error (file, line, field)
// from inside the cache's wrapping, which would name the file twice.
func configProblem(err error) error {
	var errs config.Errors
	if errors.As(err, &errs) {
		return errs
	}
	var e *config.Error
	if errors.As(err, &e) {
		return e
	}
	return err
}

// invokeError is an error as the function reports it: with an errorType
// that says what failed, for alarms and metric filters, rather than the
// Go type's name.
func invokeError(typ string, err error) error {
	return messages.InvokeResponse_Error{Type: typ, Message: "offload: " + err.Error()}
}

// warm answers a warm-up ping: it refreshes the cached configuration and
// the pipeline's cached secrets that are about to expire, and nothing else.
func (h *lambdaHandler) warm(ctx context.Context, cold bool, begin time.Time) ([]byte, error) {
	n, err := h.cache.Warm(ctx)
	h.mu.Lock()
	d := h.deps
	h.mu.Unlock()
	if d != nil {
		m, derr := d.cache.Warm(ctx)
		n, err = n+m, errors.Join(err, derr)
	}
	if err != nil {
		// The ping has no caller to tell; real invocations fail or serve
		// a stale value as usual.
		h.logger.WarnContext(ctx, "warm-up could not refresh every entry", "error", err.Error())
	}
	h.logger.InfoContext(ctx, "warm-up", "refreshed", n, "cold", cold, "duration_ms", time.Since(begin).Milliseconds())
	return json.Marshal(lambdacache.WarmupResponse{Warmup: true, Refreshed: n})
}

// pipeline returns the pipeline for lc, building it when the configuration
// changed. The old one's resources (a bolt file) are released first, since
// a bolt file cannot be opened twice; with AWS_LAMBDA_MAX_CONCURRENCY above
// one, an invocation still running on the old pipeline may then fail its
// ledger commit, and its changes are redelivered.
func (h *lambdaHandler) pipeline(ctx context.Context, lc lambdaConfig) (*pipeline.Pipeline, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pipe != nil && h.version == lc.version {
		return h.pipe, nil
	}
	if h.deps != nil {
		h.deps.close()
		h.deps, h.pipe, h.version = nil, nil, ""
	}
	if lc.cfg.State.Driver == "bolt" {
		h.logger.WarnContext(ctx, "state in a bolt file lasts only as long as this execution environment; use state.driver dynamodb in Lambda",
			"path", lc.cfg.State.Path)
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
	h.deps, h.pipe, h.version = d, p, lc.version
	h.logger.InfoContext(ctx, "pipeline built", "config", lc.version, "state", lc.cfg.State.Driver,
		"targets", len(lc.cfg.Targets), "mirrors", len(lc.cfg.Mirrors))
	return p, nil
}

// eventSource is what an event payload is, as far as answering it goes.
type eventSource struct {
	kind       string // sqs, s3, sns, eventbridge, or unknown
	records    int
	messageIDs []string // sqs: every message in the batch
}

// sniffEvent reads just enough of the payload to say where it came from and,
// for SQS, which messages it holds. A malformed record does not stop it; a
// payload that is not one JSON object is "unknown". It reads the payload
// once, token by token, and keeps only the message ids, where
// encoding/json validated the whole payload, then decoded it record by
// record (BenchmarkSniffEvent10k: 13 MB of SQS records, 170 ms and 18.7 MB
// allocated with encoding/json, 13 ms and 0.8 MB this way).
// Names match as encoding/json matches them: the same name first, then one
// equal under case folding; a repeated name's last value wins.
func sniffEvent(payload []byte) eventSource {
	dec := jsontext.NewDecoder(bytes.NewReader(payload), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	unknown := eventSource{kind: "unknown"}
	if dec.PeekKind() != '{' {
		return unknown
	}
	if _, err := dec.ReadToken(); err != nil {
		return unknown
	}
	var detailType, source string
	s := unknown
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return unknown
		}
		switch n := name.String(); {
		case sameName(n, "Records"):
			if s, err = sniffRecords(dec); err != nil {
				return unknown
			}
		case sameName(n, "detail-type"):
			if detailType, err = sniffString(dec); err != nil {
				return unknown
			}
		case sameName(n, "source"):
			if source, err = sniffString(dec); err != nil {
				return unknown
			}
		default:
			if dec.SkipValue() != nil {
				return unknown
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return unknown
	}
	if _, err := dec.ReadToken(); err != io.EOF { // nothing after the object
		return unknown
	}
	if detailType != "" && source != "" {
		return eventSource{kind: "eventbridge", records: 1}
	}
	return s
}

// sniffRecords reads a Records array for sniffEvent: null is no records,
// a value that is not an array an error, as for encoding/json.
func sniffRecords(dec *jsontext.Decoder) (eventSource, error) {
	s := eventSource{kind: "unknown"}
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return s, err
	case '[':
	default:
		return s, errors.New("Records is not an array")
	}
	if _, err := dec.ReadToken(); err != nil {
		return s, err
	}
	for dec.PeekKind() != ']' {
		s.records++
		if dec.PeekKind() != '{' {
			// Not an object: encoding/json fails the record alone.
			if err := dec.SkipValue(); err != nil {
				return s, err
			}
			continue
		}
		if _, err := dec.ReadToken(); err != nil {
			return s, err
		}
		var src, src2, id string
		ok := true // every field read is a string or null
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return s, err
			}
			var dst *string
			switch n := name.String(); {
			case n == "eventSource":
				dst = &src
			case n == "EventSource":
				dst = &src2
			case sameName(n, "eventSource"):
				dst = &src
			case sameName(n, "messageId"):
				dst = &id
			}
			if dst == nil {
				if err := dec.SkipValue(); err != nil {
					return s, err
				}
				continue
			}
			v, err := sniffString(dec)
			switch {
			case errors.Is(err, errNotString):
				ok = false
			case err != nil:
				return s, err
			default:
				*dst = v
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return s, err
		}
		if !ok {
			continue
		}
		switch {
		case src == "aws:sqs":
			s.kind = "sqs"
			if id != "" {
				s.messageIDs = append(s.messageIDs, id)
			}
		case s.kind == "unknown" && src == "aws:s3":
			s.kind = "s3"
		case s.kind == "unknown" && src2 == "aws:sns":
			s.kind = "sns"
		}
	}
	_, err := dec.ReadToken()
	return s, err
}

var errNotString = errors.New("not a string")

// sniffString reads a string ("" for null); a value of another kind is
// skipped and errNotString.
func sniffString(dec *jsontext.Decoder) (string, error) {
	switch dec.PeekKind() {
	case '"':
		t, err := dec.ReadToken()
		return t.String(), err
	case 'n':
		_, err := dec.ReadToken()
		return "", err
	}
	if err := dec.SkipValue(); err != nil {
		return "", err
	}
	return "", errNotString
}

// sameName reports whether a JSON member name stands for field, as
// encoding/json matches names: the same, or equal under case folding.
func sameName(name, field string) bool {
	return name == field || strings.EqualFold(name, field)
}

func sqsBatchResponse(ids []string) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, id := range ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	return resp
}

func summarizeResult(res *pipeline.Result) invocationSummary {
	s := invocationSummary{Changes: len(res.Changes), Purges: len(res.Purges), Committed: res.Committed}
	for _, c := range res.Changes {
		switch c.Status {
		case pipeline.StatusFailed:
			s.Failed++
		case pipeline.StatusSkipped:
			s.Skipped++
		default:
			s.Purged++
		}
	}
	return s
}

func hasUnattributedFailure(res *pipeline.Result) bool {
	for _, c := range res.Changes {
		if c.Status == pipeline.StatusFailed && c.MessageID == "" {
			return true
		}
	}
	return false
}

func firstFailure(res *pipeline.Result) string {
	for _, c := range res.Changes {
		if c.Status == pipeline.StatusFailed {
			where := c.Bucket + "/" + c.Key
			if c.Key == "" {
				where = "record " + strconv.Itoa(c.Record)
			}
			return where + ": " + c.Error
		}
	}
	return ""
}

// lambdaLogHandler writes JSON log lines in Lambda's format (timestamp,
// level, message) with the invocation's requestId: from the context when
// the caller passed one, else the current invocation's, since code below
// the handler logs without a context.
type lambdaLogHandler struct {
	slog.Handler
	current *atomic.Pointer[string]
}

func newLambdaLogHandler(w io.Writer, current *atomic.Pointer[string]) slog.Handler {
	level := slog.LevelInfo
	switch strings.ToUpper(os.Getenv("AWS_LAMBDA_LOG_LEVEL")) {
	case "DEBUG", "TRACE":
		level = slog.LevelDebug
	case "WARN":
		level = slog.LevelWarn
	case "ERROR", "FATAL":
		level = slog.LevelError
	}
	j := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})
	return &lambdaLogHandler{Handler: j, current: current}
}

func (h *lambdaLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	} else if id := h.current.Load(); id != nil {
		r.AddAttrs(slog.String("requestId", *id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *lambdaLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lambdaLogHandler{Handler: h.Handler.WithAttrs(attrs), current: h.current}
}

func (h *lambdaLogHandler) WithGroup(name string) slog.Handler {
	return &lambdaLogHandler{Handler: h.Handler.WithGroup(name), current: h.current}
}

var _ lambda.Handler = (*lambdaHandler)(nil)
