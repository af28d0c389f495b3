package cloudflare

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/budget"
	"github.com/offload-dev/offload/retry"
)

// DefaultAPIURL is Cloudflare's API v4.
const DefaultAPIURL = "https://api.cloudflare.com/client/v4"

// MaxPerRequest is the most items of one kind Options accepts per request
// (the Enterprise URL limit).
const MaxPerRequest = 500

// Plan is a zone's Cloudflare plan: its purge rate limits depend on it.
type Plan string

const (
	Free       Plan = "free"
	Pro        Plan = "pro"
	Business   Plan = "business"
	Enterprise Plan = "enterprise"
)

// The buckets' names.
const (
	BucketAPI        = "api"        // every API call of a user: 1,200 per five minutes
	BucketURLs       = "urls"       // URLs purged one by one (single-file purge)
	BucketKeys       = "keys"       // requests that purge by tag, prefix or host (and everything, but on Free)
	BucketEverything = "everything" // purge-everything requests
)

// Buckets returns the purge rate limits of plan as Cloudflare documents
// them (developers.cloudflare.com/cache/how-to/purge-cache/, "Purge
// limits"; developers.cloudflare.com/fundamentals/api/reference/limits/),
// by name. They are the account's (the API's, the user's), shared by its
// zones and tokens.
func Buckets(plan Plan) (map[string]budget.Bucket, error) {
	api := budget.Per(1200, 1200, 5*time.Minute)
	switch plan {
	case Free:
		return map[string]budget.Bucket{BucketAPI: api, BucketURLs: {Size: 800, PerSecond: 800},
			BucketKeys: budget.Per(25, 5, time.Minute), BucketEverything: {Size: 25, PerSecond: 5}}, nil
	case Pro:
		return map[string]budget.Bucket{BucketAPI: api, BucketURLs: {Size: 1500, PerSecond: 1500},
			BucketKeys: {Size: 25, PerSecond: 5}}, nil
	case Business:
		return map[string]budget.Bucket{BucketAPI: api, BucketURLs: {Size: 1500, PerSecond: 1500},
			BucketKeys: {Size: 50, PerSecond: 10}}, nil
	case Enterprise:
		return map[string]budget.Bucket{BucketAPI: api, BucketURLs: {Size: 3000, PerSecond: 3000},
			BucketKeys: {Size: 500, PerSecond: 50}}, nil
	}
	return nil, fmt.Errorf("cloudflare: plan %q: want %q, %q, %q or %q", plan, Free, Pro, Business, Enterprise)
}

// Options configure a Client. A zero field means its default.
type Options struct {
	// ZoneID is the zone to purge. Required.
	ZoneID string
	// Token is the API token, sent as "Authorization: Bearer"; it needs the
	// zone's Cache Purge permission. Required, or TokenFunc. It never
	// appears in errors.
	Token string
	// TokenFunc returns the token for each request, for a token that
	// rotates: config.Resolver.Func reads a secret reference through the
	// cache, so a new value is used once the old one's max age has passed,
	// without a restart. It must be safe for concurrent use, and fast.
	// Default nil: Token. Set one of the two.
	TokenFunc func(ctx context.Context) (string, error)
	// BaseURL turns path items into URLs: "https://www.example.com".
	// Default "": path items fail.
	BaseURL string
	// URLsPerRequest is the most URLs in one request, by the zone's plan:
	// 30, 100 or 500 (at most MaxPerRequest). Default 30, which every plan
	// accepts.
	URLsPerRequest int
	// KeysPerRequest is the most tags, prefixes or hosts in one request, at
	// most MaxPerRequest. Default 30.
	KeysPerRequest int
	// APIURL is the API's base URL. Default DefaultAPIURL.
	APIURL string
	// HTTPClient sends the requests. Default: http.DefaultClient's
	// transport; the deadline is Timeout.
	HTTPClient *http.Client
	// Timeout is the deadline of each request: connecting, sending and
	// reading the whole answer. A request past it is not retried, and the
	// requests after it fail without being sent for one Timeout: Cloudflare
	// is not answering, and waiting out each request's deadline in turn
	// would hold the purge for many. Default 30s.
	Timeout time.Duration
	// Concurrency is the most requests one Purge has in flight. Default 4.
	Concurrency int
	// Plan is the zone's plan, which sets the default Budget. Default Free,
	// whose limits every plan allows.
	Plan Plan
	// Budget spends the account's purge rate limits before each request
	// is sent, so a burst waits instead of being refused with 429s. Share
	// one among every Client of an account. Default: a Budget of this
	// Client's own, with Buckets(Plan); budget.Unlimited for none.
	Budget *budget.Budget
	// Retry is the retry policy for each request. A zero field takes the
	// retry package's default.
	Retry retry.Policy
}

// Client purges one zone. It is safe for concurrent use.
type Client struct {
	opts     Options
	endpoint string
	guard    *deadline.Guard
}

// New returns a Client, after applying optFns to a copy of opts, or an
// error naming the option that cannot work.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.ZoneID == "" {
		return nil, errors.New("cloudflare: Options.ZoneID is required")
	}
	switch {
	case opts.Token == "" && opts.TokenFunc == nil:
		return nil, errors.New("cloudflare: Options.Token or Options.TokenFunc is required")
	case opts.Token != "" && opts.TokenFunc != nil:
		return nil, errors.New("cloudflare: set Options.Token or Options.TokenFunc, not both")
	case opts.TokenFunc == nil:
		token := opts.Token
		opts.TokenFunc = func(context.Context) (string, error) { return token, nil }
	}
	opts.APIURL = cmp.Or(opts.APIURL, DefaultAPIURL)
	if u, err := url.Parse(opts.APIURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("cloudflare: Options.APIURL %q is not an absolute URL", opts.APIURL)
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"URLsPerRequest", opts.URLsPerRequest}, {"KeysPerRequest", opts.KeysPerRequest}} {
		if f.n < 0 || f.n > MaxPerRequest {
			return nil, fmt.Errorf("cloudflare: Options.%s %d: want 0 (the default) to %d (30, 100 or 500 by plan)", f.name, f.n, MaxPerRequest)
		}
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("cloudflare: Options.Concurrency %d is negative", opts.Concurrency)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("cloudflare: Options.Timeout %s is negative", opts.Timeout)
	}
	opts.Plan = cmp.Or(opts.Plan, Free)
	buckets, err := Buckets(opts.Plan)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: Options.Plan %q: want %q, %q, %q or %q", opts.Plan, Free, Pro, Business, Enterprise)
	}
	if opts.Budget == nil {
		opts.Budget, _ = budget.New(budget.Options{Buckets: buckets})
	}
	opts.URLsPerRequest = cmp.Or(opts.URLsPerRequest, 30)
	opts.KeysPerRequest = cmp.Or(opts.KeysPerRequest, 30)
	opts.Concurrency = cmp.Or(opts.Concurrency, 4)
	opts.Timeout = cmp.Or(opts.Timeout, 30*time.Second)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	return &Client{opts: opts, guard: deadline.New(opts.Timeout, nil),
		endpoint: strings.TrimRight(opts.APIURL, "/") + "/zones/" + url.PathEscape(opts.ZoneID) + "/purge_cache"}, nil
}

// Limits reports the per-request limits.
func (c *Client) Limits() purge.Limits {
	u, k := c.opts.URLsPerRequest, c.opts.KeysPerRequest
	return purge.Limits{ItemsPerCall: map[purge.Kind]int{
		purge.KindURL: u, purge.KindPath: u, purge.KindTag: k, purge.KindPrefix: k, purge.KindHost: k, purge.KindAll: 1}}
}

// field is the request body's key for each kind.
var field = map[purge.Kind]string{
	purge.KindURL: "files", purge.KindPath: "files", purge.KindTag: "tags",
	purge.KindPrefix: "prefixes", purge.KindHost: "hosts", purge.KindAll: "purge_everything",
}

// job is one request: one body field and the items it carries.
type job struct {
	field  string
	values []string
	items  []int
}

// Purge purges URLs (KindURL, or KindPath joined to BaseURL), tags,
// prefixes ("www.example.com/docs/"), hosts and everything (KindAll), each
// kind in its own requests.
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "cloudflare", Outcomes: make([]purge.Outcome, len(req.Items))}
	byField := map[string]*job{}
	var order []string
	for i, it := range req.Items {
		res.Outcomes[i].Item = it
		v, err := c.value(it)
		if err != nil {
			res.Outcomes[i].Err = err.Error()
			continue
		}
		f := field[it.Kind]
		j, ok := byField[f]
		if !ok {
			j = &job{field: f}
			byField[f] = j
			order = append(order, f)
		}
		j.values = append(j.values, v)
		j.items = append(j.items, i)
	}
	var jobs []job
	for _, f := range order {
		j := byField[f]
		n := c.opts.KeysPerRequest
		switch f {
		case "files":
			n = c.opts.URLsPerRequest
		case "purge_everything":
			n = len(j.items) // one request covers them all
		}
		for start := 0; start < len(j.items); start += n {
			end := min(start+n, len(j.items))
			jobs = append(jobs, job{field: f, values: j.values[start:end], items: j.items[start:end]})
		}
	}

	calls := make([]purge.Call, len(jobs))
	var g errgroup.Group
	g.SetLimit(c.opts.Concurrency)
	for n, j := range jobs {
		g.Go(func() error {
			// Not started: every item still gets an outcome.
			if err := cmp.Or(ctx.Err(), c.guard.Held()); err != nil {
				calls[n] = purge.Call{Items: len(j.items), Err: "cloudflare: " + err.Error()}
				return nil
			}
			calls[n] = c.send(ctx, j)
			return nil
		})
	}
	g.Wait()

	for n, j := range jobs {
		if calls[n].Attempts > 0 {
			res.Calls = append(res.Calls, calls[n])
		}
		for _, i := range j.items {
			o := &res.Outcomes[i]
			o.OK, o.Err, o.ID = calls[n].Err == "", calls[n].Err, calls[n].ID
		}
	}
	return res, res.Err()
}

// value is what an item puts in the request body.
func (c *Client) value(it purge.Item) (string, error) {
	switch it.Kind {
	case purge.KindURL, purge.KindPath:
		raw := it.Value
		if it.Kind == purge.KindPath {
			if c.opts.BaseURL == "" {
				return "", errors.New("cloudflare: a path needs Options.BaseURL to make it a URL")
			}
			raw = purge.JoinURL(c.opts.BaseURL, it.Value)
		}
		if u, err := url.Parse(raw); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("cloudflare: %q is not an http(s) URL", raw)
		}
		return raw, nil
	case purge.KindPrefix:
		// Cloudflare's prefixes have no scheme: "www.example.com/docs/".
		v := strings.TrimPrefix(strings.TrimPrefix(it.Value, "https://"), "http://")
		if v == "" || strings.HasPrefix(v, "/") {
			return "", fmt.Errorf("cloudflare: prefix %q: want host/path", it.Value)
		}
		return v, nil
	case purge.KindTag, purge.KindHost:
		if it.Value == "" {
			return "", fmt.Errorf("cloudflare: empty %s", it.Kind)
		}
		return it.Value, nil
	case purge.KindAll:
		return "", nil
	}
	return "", fmt.Errorf("cloudflare: %s: %w", it.Kind, purge.ErrUnsupported)
}

// answer is Cloudflare's API v4 envelope.
type answer struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Result *struct {
		ID string `json:"id"`
	} `json:"result"`
}

func (a *answer) message() string {
	var parts []string
	for _, e := range a.Errors {
		parts = append(parts, strconv.Itoa(e.Code)+" "+e.Message)
	}
	return strings.Join(parts, "; ")
}

func (c *Client) send(ctx context.Context, j job) purge.Call {
	call := purge.Call{Items: len(j.items)}
	var body []byte
	if j.field == "purge_everything" {
		body = []byte(`{"purge_everything":true}`)
	} else {
		body, _ = json.Marshal(map[string][]string{j.field: j.values})
	}
	what := fmt.Sprintf("cloudflare: purge %s in zone %s", j.field, c.opts.ZoneID)
	costs := []budget.Cost{{Bucket: BucketAPI, N: 1}}
	switch {
	case j.field == "files":
		costs = append(costs, budget.Cost{Bucket: BucketURLs, N: len(j.values)})
	case j.field == "purge_everything" && c.opts.Plan == Free:
		costs = append(costs, budget.Cost{Bucket: BucketEverything, N: 1})
	default:
		costs = append(costs, budget.Cost{Bucket: BucketKeys, N: 1})
	}
	rr, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		// Each attempt is a request: it waits for its tokens.
		if err := c.opts.Budget.Wait(ctx, costs...); err != nil {
			return err
		}
		token, err := c.opts.TokenFunc(ctx)
		if err != nil {
			return fmt.Errorf("the API token: %w", err)
		}
		rctx, cancel, err := c.guard.Start(ctx)
		if err != nil {
			return err
		}
		defer cancel()
		req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.opts.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
				return err
			}
			// A purge is idempotent: repeating one that may have been done is safe.
			return retry.Network(err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
				return err
			}
			return retry.Retryable(err)
		}
		var a answer
		jsonErr := json.Unmarshal(data, &a)
		if resp.StatusCode >= 300 {
			msg := a.message()
			if jsonErr != nil || msg == "" {
				msg = strings.TrimSpace(string(data))
				if len(msg) > 200 {
					msg = msg[:200] + "…"
				}
			}
			return retry.HTTPStatus(resp, fmt.Errorf("%s: %s", resp.Status, msg))
		}
		if jsonErr != nil {
			return fmt.Errorf("read answer: %w", jsonErr)
		}
		if !a.Success {
			return fmt.Errorf("%s: not successful: %s", resp.Status, a.message())
		}
		if a.Result != nil {
			call.ID = a.Result.ID
		}
		return nil
	})
	call.Attempts = rr.Attempts
	if err != nil {
		call.Err = fmt.Sprintf("%s: %v", what, err)
	}
	return call
}

var (
	_ purge.Purger  = (*Client)(nil)
	_ purge.Limiter = (*Client)(nil)
)
