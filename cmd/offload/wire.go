package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awscloudfront "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/internal/redact"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/bolt"
	"github.com/offload-dev/offload/ledger/dynamo"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
	"github.com/offload-dev/offload/purge/budget"
	"github.com/offload-dev/offload/purge/cloudflare"
	"github.com/offload-dev/offload/purge/cloudfront"
	"github.com/offload-dev/offload/purge/dryrun"
	"github.com/offload-dev/offload/purge/fastly"
	"github.com/offload-dev/offload/purge/varnish"
)

// deps builds what a configuration names: the ledger, purgers, mirrors and
// AWS clients, each once, on first use.
type deps struct {
	cfg     *config.Config
	logger  *slog.Logger
	cache   *cache.Cache
	secrets *config.Resolver
	redact  *redact.Redactor // told every secret value resolved

	awsOnce sync.Once
	awsCfg  aws.Config
	awsErr  error

	boltDB *bolt.Ledger

	natsState // the inbox's NATS connection (nats_wire.go; nats_lambda.go in the Lambda-only build)

	edgercMu sync.Mutex
	edgercs  map[string]*cache.Entry[*edgegrid.Config]
}

// newDeps returns the deps of cfg. Every secret value they resolve is told
// to red, which what the process prints, logs and answers goes through;
// cacheOpts adjust the cache secrets and credentials are read through (a
// test's clock). It fails on a bad $OFFLOAD_CACHE_MAX_AGE.
func newDeps(cfg *config.Config, logger *slog.Logger, red *redact.Redactor, cacheOpts ...func(*cache.Options)) (*deps, error) {
	c, err := cache.New(cache.Options{Logger: logger}, cacheOpts...)
	if err != nil {
		return nil, err
	}
	d := &deps{cfg: cfg, logger: logger, cache: c, redact: red, edgercs: map[string]*cache.Entry[*edgegrid.Config]{}}
	d.secrets = config.NewResolver(d.cache, d.aws)
	d.secrets.SetRedactor(red)
	return d, nil
}

// aws loads the AWS SDK's default configuration (environment, shared
// files, the Lambda role), honouring AWS_ENDPOINT_URL and friends.
func (d *deps) aws(ctx context.Context) (aws.Config, error) {
	d.awsOnce.Do(func() {
		d.awsCfg, d.awsErr = loadAWS(ctx)
		if d.awsErr == nil && d.awsCfg.Region == "" {
			d.awsCfg.Region = "us-east-1"
		}
	})
	return d.awsCfg, d.awsErr
}

// Bounds of every AWS call: the SDK's clients have none of their own.
const (
	awsConnect   = 10 * time.Second // TCP connect, and the TLS handshake
	awsAnswer    = 30 * time.Second // from the request sent to the answer's headers
	awsOperation = time.Minute      // a whole operation, its retries included (not S3, not CloudFront)
)

// awsHTTPClient is the SDK's own HTTP client with connect, TLS and
// answer timeouts.
func awsHTTPClient(answer time.Duration) *awshttp.BuildableClient {
	return withAnswer(awshttp.NewBuildableClient(), answer)
}

// awsClientFor is cfg's HTTP client with answer as its answer timeout:
// the one loadAWS built, with what the SDK's config added to it (the roots
// of AWS_CA_BUNDLE), or a new one.
func awsClientFor(cfg aws.Config, answer time.Duration) aws.HTTPClient {
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		return withAnswer(bc, answer)
	}
	return awsHTTPClient(answer)
}

func withAnswer(c *awshttp.BuildableClient, answer time.Duration) *awshttp.BuildableClient {
	return c.WithDialerOptions(func(d *net.Dialer) { d.Timeout = min(awsConnect, answer) }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = min(awsConnect, answer)
			t.ResponseHeaderTimeout = answer
		})
}

// operationDeadline bounds each operation of the services that answer in
// one piece, retries included.
func operationDeadline(d time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("OffloadOperationDeadline",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				switch awsmiddleware.GetServiceID(ctx) {
				case "S3", "CloudFront":
					return next.HandleInitialize(ctx, in)
				}
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

// httpClient is the HTTP client of one provider or mirror: connect and TLS
// bounded by awsConnect (or the timeout, if shorter), and an answer's
// headers by the timeout. The provider bounds the whole request itself.
func httpClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: min(awsConnect, timeout), KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = min(awsConnect, timeout)
	t.ResponseHeaderTimeout = timeout
	// A target's requests to one host are up to the pipeline's purge calls
	// (4) times the purger's own (up to 8, Fastly's): with the default 2
	// idle connections a host, the others were closed after each request
	// and dialled again for the next (one in 25 Varnish PURGEs).
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: t}
}

// s3Client returns an S3 client; path-style addressing when
// OFFLOAD_S3_PATH_STYLE is true, as MinIO and moto want.
func (d *deps) s3Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := d.aws(ctx)
	if err != nil {
		return nil, err
	}
	pathStyle, _ := strconv.ParseBool(os.Getenv("OFFLOAD_S3_PATH_STYLE"))
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }), nil
}

// ledger opens the configured ledger. With readOnly and a bolt file that
// does not exist yet, it returns an empty memory ledger instead of making
// the file: `offload plan` changes nothing.
func (d *deps) ledger(ctx context.Context, readOnly bool) (ledger.Ledger, error) {
	st := d.cfg.State
	switch st.Driver {
	case "memory":
		return ledger.NewMemory(), nil
	case "nats":
		return d.natsLedger(ctx)
	case "dynamodb":
		cfg, err := d.aws(ctx)
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		return dynamo.New(dynamo.Options{Client: dynamodb.NewFromConfig(cfg), Table: st.Table})
	default:
		if readOnly {
			if _, err := os.Stat(st.Path); errors.Is(err, os.ErrNotExist) {
				return ledger.NewMemory(), nil
			}
		}
		l, err := bolt.New(bolt.Options{Path: st.Path, Timeout: 5 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		d.boltDB = l
		return l, nil
	}
}

// purger builds the purger of one target.
func (d *deps) purger(ctx context.Context, t config.Target) (purge.Purger, error) {
	timeout := cmp.Or(t.Timeout.Duration, config.DefaultTimeout)
	client := httpClient(timeout)
	// A token is read on every request, through the cache: a rotated one
	// is used once the old one's max age has passed. Resolving it once now
	// refuses a reference that cannot be read before anything runs.
	token := func() (func(context.Context) (string, error), error) {
		if _, err := d.secrets.Resolve(ctx, t.Token); err != nil {
			return nil, err
		}
		return d.secrets.Func(t.Token), nil
	}
	switch t.Provider {
	case "log":
		return dryrun.New(dryrun.Options{Name: t.Name, Logger: d.logger})
	case "cloudfront":
		cfg, err := d.aws(ctx)
		if err != nil {
			return nil, err
		}
		api := awscloudfront.NewFromConfig(cfg, func(o *awscloudfront.Options) { o.HTTPClient = awsClientFor(cfg, timeout) })
		return cloudfront.New(cloudfront.Options{Client: api, DistributionID: t.DistributionID, Timeout: timeout})
	case "akamai":
		b, err := sharedBudget("akamai", akamai.Buckets(), t.EdgeRC, t.Section)
		if err != nil {
			return nil, err
		}
		return akamai.New(akamai.Options{
			ConfigFunc: d.edgerc(t.EdgeRC, t.Section), BaseURL: t.BaseURL, APIURL: t.APIURL,
			Network: akamai.Network(t.Network), Action: akamai.Action(t.Action), HTTPClient: client, Timeout: timeout,
			Budget: b,
		})
	case "fastly":
		tok, err := token()
		if err != nil {
			return nil, err
		}
		b, err := sharedBudget("fastly", fastly.Buckets(), t.APIURL, string(t.Token))
		if err != nil {
			return nil, err
		}
		return fastly.New(fastly.Options{TokenFunc: tok, ServiceID: t.ServiceID, BaseURL: t.BaseURL, Soft: t.Soft, APIURL: t.APIURL,
			HTTPClient: client, Timeout: timeout, Budget: b})
	case "cloudflare":
		tok, err := token()
		if err != nil {
			return nil, err
		}
		buckets, err := cloudflare.Buckets(cloudflare.Plan(t.Plan))
		if err != nil {
			return nil, err
		}
		b, err := sharedBudget("cloudflare", buckets, t.APIURL, string(t.Token), t.Plan)
		if err != nil {
			return nil, err
		}
		return cloudflare.New(cloudflare.Options{TokenFunc: tok, ZoneID: t.ZoneID, BaseURL: t.BaseURL, URLsPerRequest: t.URLsPerRequest,
			APIURL: t.APIURL, HTTPClient: client, Timeout: timeout, Plan: cloudflare.Plan(t.Plan), Budget: b})
	case "varnish":
		return varnish.New(varnish.Options{Endpoints: t.Endpoints, Method: t.Method, Host: hostOf(t), HTTPClient: client, Timeout: timeout})
	}
	return nil, fmt.Errorf("target %s: unknown provider %q", t.Name, t.Provider)
}

// budgets holds the process's rate-limit budgets, one per provider account
// as the configuration names it: every purger of that account, in every
// pipeline this process builds (serve's, the API's, each configuration a
// Lambda function loads), draws on it.
var budgets = struct {
	sync.Mutex
	m map[string]*budget.Budget
}{m: map[string]*budget.Budget{}}

// sharedBudget returns the budget of the account that provider and id
// name, made with buckets on first use. The id is the configuration's
// names for the credential (its file and section, its secret reference),
// never the secret itself, and the same when the secret rotates.
func sharedBudget(provider string, buckets map[string]budget.Bucket, id ...string) (*budget.Budget, error) {
	key := provider + "\x00" + strings.Join(id, "\x00")
	budgets.Lock()
	defer budgets.Unlock()
	if b, ok := budgets.m[key]; ok {
		return b, nil
	}
	b, err := budget.New(budget.Options{Buckets: buckets})
	if err != nil {
		return nil, err
	}
	budgets.m[key] = b
	return b, nil
}

// edgerc returns the EdgeGrid credential of an akamai target, read through
// the cache: the AKAMAI_* variables first, else the .edgerc section, read
// again once the cache's max age has passed, so a rotated credential is
// used without a restart (and a bad new file leaves the old one in use
// for the cache's stale time, as a secret's refresh does).
func (d *deps) edgerc(path, section string) func(context.Context) (*edgegrid.Config, error) {
	key := "edgerc:" + path + "#" + section
	d.edgercMu.Lock()
	defer d.edgercMu.Unlock()
	e, ok := d.edgercs[key]
	if !ok {
		var err error
		e, err = cache.Add(d.cache, cache.Func(key, func(context.Context) (*edgegrid.Config, error) {
			return akamai.LoadConfig(path, section, true)
		}))
		if err != nil { // a key is added once, with one type: this cannot fail
			return func(context.Context) (*edgegrid.Config, error) { return nil, err }
		}
		d.edgercs[key] = e
	}
	return e.Get
}

// pipeline builds the whole pipeline for the configuration.
func (d *deps) pipeline(ctx context.Context, readOnly bool) (*pipeline.Pipeline, error) {
	l, err := d.ledger(ctx, readOnly)
	if err != nil {
		return nil, err
	}
	opts := pipeline.Options{Ledger: l, Purgers: map[string]purge.Purger{}, Mirrors: map[string]mirror.Mirror{}}
	for _, t := range d.cfg.Targets {
		pg, err := d.purger(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		opts.Purgers[t.Name] = pg
	}
	for _, m := range d.cfg.Mirrors {
		mr, err := d.mirror(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("mirror %s: %w", m.Name, err)
		}
		opts.Mirrors[m.Name] = mr
	}
	if len(d.cfg.Mirrors) > 0 {
		if opts.Source, err = d.s3Client(ctx); err != nil {
			return nil, err
		}
	}
	opts.Plan = planConfig(d.cfg, opts.Purgers)
	return pipeline.New(opts)
}

func (d *deps) close() {
	if d.boltDB != nil {
		d.boltDB.Close()
	}
	d.closeNATS()
}

// planConfig is the planner's view of the configuration, with each
// target's limits as its purger reports them.
func planConfig(cfg *config.Config, purgers map[string]purge.Purger) plan.Config {
	var pc plan.Config
	for _, s := range cfg.Sites {
		pc.Sites = append(pc.Sites, plan.Site{
			Name: s.Name, Bucket: s.Bucket, Prefix: s.Prefix, Index: s.IndexDocument(),
			PurgeNew: s.PurgesNew(), Mirrors: s.Mirrors, Targets: s.Targets,
		})
	}
	for _, t := range cfg.Targets {
		pt := plan.Target{Name: t.Name, Provider: t.Provider, BaseURL: t.BaseURL, Collapse: t.Collapse}
		if l, ok := purgers[t.Name].(purge.Limiter); ok {
			pt.Limits = l.Limits()
		}
		if pt.BaseURL == "" && t.Provider == "varnish" {
			pt.BaseURL = "http://" + t.Host
		}
		pc.Targets = append(pc.Targets, pt)
	}
	return pc
}

func hostOf(t config.Target) string {
	if t.Host != "" {
		return t.Host
	}
	return ""
}

// mirror builds one mirror.
func (d *deps) mirror(ctx context.Context, m config.Mirror) (mirror.Mirror, error) {
	switch m.Provider {
	case "netstorage":
		// Read on every request, through the cache (see purger's token).
		if _, err := d.secrets.Resolve(ctx, m.Key); err != nil {
			return nil, err
		}
		return netstorage.New(netstorage.Options{Host: m.Host, CPCode: m.CPCode, Dir: m.Dir, KeyName: m.KeyName, KeyFunc: d.secrets.Func(m.Key), APIURL: m.APIURL,
			HTTPClient: httpClient(cmp.Or(m.Timeout.Duration, config.DefaultTimeout)), Timeout: m.Timeout.Duration})
	case "s3":
		return d.s3Mirror(ctx, m)
	}
	return nil, fmt.Errorf("unknown mirror provider %q", m.Provider)
}

// apiCredentials resolves the configured tokens, plain and scoped, on each
// call (the resolver caches them for the cache's max age, so a rotated
// secret is picked up); nil when none are configured.
func apiCredentials(cfg *config.Config, d *deps) func(ctx context.Context) ([]httpapi.Credential, error) {
	if len(cfg.Auth.Tokens) == 0 && len(cfg.Auth.ScopedTokens) == 0 {
		return nil
	}
	return func(ctx context.Context) ([]httpapi.Credential, error) {
		out := make([]httpapi.Credential, 0, len(cfg.Auth.Tokens)+len(cfg.Auth.ScopedTokens))
		for i, ref := range cfg.Auth.Tokens {
			v, err := d.secrets.Resolve(ctx, ref)
			if err != nil {
				return nil, fmt.Errorf("auth.tokens[%d]: %w", i, err)
			}
			out = append(out, httpapi.Credential{Token: v})
		}
		for i, st := range cfg.Auth.ScopedTokens {
			v, err := d.secrets.Resolve(ctx, st.Token)
			if err != nil {
				return nil, fmt.Errorf("auth.scoped_tokens[%d].token: %w", i, err)
			}
			out = append(out, httpapi.Credential{Token: v, Routes: st.Routes, Rate: st.Rate, Burst: st.Burst})
		}
		return out, nil
	}
}
