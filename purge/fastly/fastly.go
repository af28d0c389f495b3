package fastly

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

// MaxKeys is the most surrogate keys Fastly takes in one batch purge.
const MaxKeys = 256

// DefaultAPIURL is Fastly's API.
const DefaultAPIURL = "https://api.fastly.com"

// BucketWrites is the bucket of the API's non-read requests.
const BucketWrites = "writes"

// Buckets returns Fastly's API rate limit as a token bucket: Fastly
// documents (docs.fastly.com/api, "Rate limiting") 1,000 non-read requests
// an hour per user or token, which a purge-all request counts against,
// counted in windows that reset at a time it names. A bucket of 500
// refilled at 500 an hour never sends more than 1,000 in any hour,
// wherever the window falls. URL and surrogate-key purges are not
// limited, so they draw on no bucket.
func Buckets() map[string]budget.Bucket {
	return map[string]budget.Bucket{BucketWrites: budget.Per(500, 500, time.Hour)}
}

// Options configure a Client. A zero field means its default.
type Options struct {
	// Token is the API token, sent as Fastly-Key; it needs the purge_select
	// scope (purge_all for KindAll). Required, or TokenFunc. It never
	// appears in errors.
	Token string
	// TokenFunc returns the token for each request, for a token that
	// rotates: config.Resolver.Func reads a secret reference through the
	// cache, so a new value is used once the old one's max age has passed,
	// without a restart. It must be safe for concurrent use, and fast.
	// Default nil: Token. Set one of the two.
	TokenFunc func(ctx context.Context) (string, error)
	// ServiceID is the service whose surrogate keys (and everything) are
	// purged. Required for tag and everything purges; URL purges do not use
	// it. Default "".
	ServiceID string
	// BaseURL turns path items into URLs: "https://www.example.com". Default
	// "": path items fail.
	BaseURL string
	// Soft marks content stale instead of evicting it (Fastly-Soft-Purge: 1).
	// Fastly has no soft purge-all; KindAll is always hard. Default false.
	Soft bool
	// KeysPerCall is the most surrogate keys per batch, at most MaxKeys.
	// Default MaxKeys (256).
	KeysPerCall int
	// APIURL is the API's base URL. Default DefaultAPIURL.
	APIURL string
	// HTTPClient sends the requests. Default: http.DefaultClient's
	// transport; the deadline is Timeout.
	HTTPClient *http.Client
	// Timeout is the deadline of each request: connecting, sending and
	// reading the whole answer. A request past it is not retried, and the
	// requests after it fail without being sent for one Timeout: Fastly is
	// not answering, and waiting out each request's deadline in turn would
	// hold the purge for many. Default 30s.
	Timeout time.Duration
	// Concurrency is the most requests one Purge has in flight (each URL is
	// its own request). Default 8.
	Concurrency int
	// Retry is the retry policy for each request. A zero field takes the
	// retry package's default. A 429 is waited out until
	// Fastly-RateLimit-Reset when it has no Retry-After.
	Retry retry.Policy
	// Budget spends the token's rate limit (Buckets) before each request
	// that counts against it, so purge-all requests wait instead of being
	// refused. Share one among the Clients of a token. Default: a Budget
	// of this Client's own, with Buckets; budget.Unlimited for none.
	Budget *budget.Budget
}

// Client purges through the Fastly API. It is safe for concurrent use.
type Client struct {
	opts  Options
	api   string
	guard *deadline.Guard
}

// New returns a Client, after applying optFns to a copy of opts, or an
// error naming the option that cannot work.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	switch {
	case opts.Token == "" && opts.TokenFunc == nil:
		return nil, errors.New("fastly: Options.Token or Options.TokenFunc is required")
	case opts.Token != "" && opts.TokenFunc != nil:
		return nil, errors.New("fastly: set Options.Token or Options.TokenFunc, not both")
	case opts.TokenFunc == nil:
		token := opts.Token
		opts.TokenFunc = func(context.Context) (string, error) { return token, nil }
	}
	opts.APIURL = cmp.Or(opts.APIURL, DefaultAPIURL)
	if u, err := url.Parse(opts.APIURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("fastly: Options.APIURL %q is not an absolute URL", opts.APIURL)
	}
	if opts.KeysPerCall < 0 || opts.KeysPerCall > MaxKeys {
		return nil, fmt.Errorf("fastly: Options.KeysPerCall %d: want 0 (the default) to %d", opts.KeysPerCall, MaxKeys)
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("fastly: Options.Concurrency %d is negative", opts.Concurrency)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("fastly: Options.Timeout %s is negative", opts.Timeout)
	}
	opts.KeysPerCall = cmp.Or(opts.KeysPerCall, MaxKeys)
	opts.Concurrency = cmp.Or(opts.Concurrency, 8)
	opts.Timeout = cmp.Or(opts.Timeout, 30*time.Second)
	if opts.Budget == nil {
		opts.Budget, _ = budget.New(budget.Options{Buckets: Buckets()})
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	return &Client{opts: opts, api: strings.TrimRight(opts.APIURL, "/"), guard: deadline.New(opts.Timeout, nil)}, nil
}

// Limits reports the per-request limits.
func (c *Client) Limits() purge.Limits {
	return purge.Limits{ItemsPerCall: map[purge.Kind]int{
		purge.KindURL: 1, purge.KindPath: 1, purge.KindTag: c.opts.KeysPerCall, purge.KindAll: 1}}
}

// job is one API request and the items it carries.
type job struct {
	path  string   // API path
	keys  []string // surrogate keys, for a batch
	items []int
	soft  bool
}

// Purge purges URLs (KindURL, or KindPath joined to BaseURL) one request
// each, surrogate keys (KindTag) in batches, and everything (KindAll).
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "fastly", Outcomes: make([]purge.Outcome, len(req.Items))}
	var jobs []job
	var tags, all []int
	for i, it := range req.Items {
		res.Outcomes[i].Item = it
		var err error
		switch it.Kind {
		case purge.KindURL, purge.KindPath:
			var p string
			if p, err = c.urlPath(it); err == nil {
				jobs = append(jobs, job{path: p, items: []int{i}, soft: c.opts.Soft})
			}
		case purge.KindTag:
			if err = c.needService(); err == nil {
				tags = append(tags, i)
			}
		case purge.KindAll:
			if err = c.needService(); err == nil {
				all = append(all, i)
			}
		default:
			err = fmt.Errorf("fastly: %s: %w", it.Kind, purge.ErrUnsupported)
		}
		if err != nil {
			res.Outcomes[i].Err = err.Error()
		}
	}
	for start := 0; start < len(tags); start += c.opts.KeysPerCall {
		idx := tags[start:min(start+c.opts.KeysPerCall, len(tags))]
		j := job{path: "/service/" + url.PathEscape(c.opts.ServiceID) + "/purge", items: idx, soft: c.opts.Soft}
		for _, i := range idx {
			j.keys = append(j.keys, req.Items[i].Value)
		}
		jobs = append(jobs, j)
	}
	if len(all) > 0 {
		jobs = append(jobs, job{path: "/service/" + url.PathEscape(c.opts.ServiceID) + "/purge_all", items: all})
	}

	type done struct {
		call purge.Call
		ids  map[string]string // surrogate key -> purge id
	}
	results := make([]done, len(jobs))
	var g errgroup.Group
	g.SetLimit(c.opts.Concurrency)
	for n, j := range jobs {
		g.Go(func() error {
			// Not started: every item still gets an outcome.
			if err := cmp.Or(ctx.Err(), c.guard.Held()); err != nil {
				results[n].call = purge.Call{Items: len(j.items), Err: "fastly: " + err.Error()}
				return nil
			}
			results[n].call, results[n].ids = c.send(ctx, j)
			return nil
		})
	}
	g.Wait()

	for n, j := range jobs {
		r := results[n]
		if r.call.Attempts > 0 {
			res.Calls = append(res.Calls, r.call)
		}
		for _, i := range j.items {
			o := &res.Outcomes[i]
			if r.call.Err != "" {
				o.Err = r.call.Err
				continue
			}
			o.OK = true
			o.ID = r.call.ID
			if id, ok := r.ids[o.Item.Value]; ok {
				o.ID = id
			}
		}
	}
	return res, res.Err()
}

func (c *Client) needService() error {
	if c.opts.ServiceID == "" {
		return errors.New("fastly: a service id is required to purge surrogate keys or everything")
	}
	return nil
}

// urlPath is the API path that purges one URL: /purge/ and the URL without
// its scheme.
func (c *Client) urlPath(it purge.Item) (string, error) {
	raw := it.Value
	if it.Kind == purge.KindPath {
		if c.opts.BaseURL == "" {
			return "", errors.New("fastly: a path needs Options.BaseURL to make it a URL")
		}
		raw = purge.JoinURL(c.opts.BaseURL, it.Value)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("fastly: %q is not an absolute URL", raw)
	}
	return "/purge/" + u.Host + u.RequestURI(), nil
}

func (c *Client) send(ctx context.Context, j job) (purge.Call, map[string]string) {
	call := purge.Call{Items: len(j.items)}
	var body []byte
	if j.keys != nil {
		body, _ = json.Marshal(map[string][]string{"surrogate_keys": j.keys})
	}
	what := "fastly: POST " + c.api + j.path
	var costs []budget.Cost
	if strings.HasSuffix(j.path, "/purge_all") {
		costs = append(costs, budget.Cost{Bucket: BucketWrites, N: 1})
	}
	var ids map[string]string
	rr, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
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
		req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.api+j.path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Fastly-Key", token)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if j.soft {
			req.Header.Set("Fastly-Soft-Purge", "1")
		}
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
		if resp.StatusCode == http.StatusTooManyRequests && retry.RetryAfter(resp.Header, time.Now()) == 0 {
			return retry.After(fmt.Errorf("%s%s", resp.Status, apiMessage(data)), resetWait(resp.Header, time.Now()))
		}
		if resp.StatusCode >= 300 {
			return retry.HTTPStatus(resp, fmt.Errorf("%s%s", resp.Status, apiMessage(data)))
		}
		if j.keys != nil {
			ids = map[string]string{}
			if err := json.Unmarshal(data, &ids); err != nil {
				return fmt.Errorf("read answer: %w", err)
			}
			return nil
		}
		var ok struct {
			Status string `json:"status"`
			ID     string `json:"id"`
		}
		if err := json.Unmarshal(data, &ok); err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		call.ID, call.Status = ok.ID, ok.Status
		return nil
	})
	call.Attempts = rr.Attempts
	if err != nil {
		call.Err = fmt.Sprintf("%s: %v", what, err)
	}
	return call, ids
}

// resetWait is the time until Fastly-RateLimit-Reset (UTC epoch seconds),
// when the rate limit's window starts again; 0 if absent or past.
func resetWait(h http.Header, now time.Time) time.Duration {
	sec, err := strconv.ParseInt(strings.TrimSpace(h.Get("Fastly-RateLimit-Reset")), 10, 64)
	if err != nil {
		return 0
	}
	return max(0, time.Unix(sec, 0).Sub(now))
}

// apiMessage is Fastly's own message from an error body:
// {"msg": "...", "detail": "..."}.
func apiMessage(data []byte) string {
	var e struct {
		Msg    string `json:"msg"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(data, &e) != nil || e.Msg == "" {
		s := strings.TrimSpace(string(data))
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		if s == "" {
			return ""
		}
		return ": " + s
	}
	if e.Detail != "" {
		return ": " + e.Msg + " (" + e.Detail + ")"
	}
	return ": " + e.Msg
}

var (
	_ purge.Purger  = (*Client)(nil)
	_ purge.Limiter = (*Client)(nil)
)
