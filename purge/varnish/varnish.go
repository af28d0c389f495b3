package varnish

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/retry"
)

// Options configure a Client. A zero field means its default.
type Options struct {
	// Endpoints are the caches' base URLs, "http://127.0.0.1:6081". At
	// least one is required.
	Endpoints []string
	// Method is "PURGE" or "BAN". Default "PURGE".
	Method string
	// Host is the Host header sent: the site's name as the cache keys it,
	// "www.example.com". Default "": a URL item's own host, or for a path
	// item the endpoint's host.
	Host string
	// HTTPClient sends the requests. Default: http.DefaultClient's
	// transport; the deadline is Timeout.
	HTTPClient *http.Client
	// Timeout is the deadline of each request: connecting, sending and
	// reading the whole answer. A request past it is not retried, and the
	// requests to the same endpoint after it fail without being sent for
	// one Timeout: that cache is not answering, and waiting out each
	// request's deadline in turn would hold the purge for many. The other
	// endpoints are purged all the same. Default 30s.
	Timeout time.Duration
	// Concurrency is the most requests one Purge has in flight. Default 4.
	Concurrency int
	// Retry is the retry policy for each request. A zero field takes the
	// retry package's default. A connection error is retried too: PURGE and
	// BAN are idempotent.
	Retry retry.Policy
}

// Client purges through one or more cache endpoints. It is safe for
// concurrent use.
type Client struct {
	opts      Options
	endpoints []*url.URL
	guards    []*deadline.Guard // by endpoint
}

// New returns a Client, after applying optFns to a copy of opts, or an
// error naming the option that cannot work.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("varnish: Options.Endpoints: at least one is required")
	}
	c := &Client{}
	for i, e := range opts.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("varnish: Options.Endpoints[%d] %q: want an http:// or https:// URL", i, e)
		}
		u.Path = strings.TrimRight(u.Path, "/")
		c.endpoints = append(c.endpoints, u)
	}
	switch opts.Method = strings.ToUpper(opts.Method); opts.Method {
	case "":
		opts.Method = "PURGE"
	case "PURGE", "BAN":
	default:
		return nil, fmt.Errorf("varnish: Options.Method %q: want PURGE or BAN", opts.Method)
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("varnish: Options.Concurrency %d is negative", opts.Concurrency)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("varnish: Options.Timeout %s is negative", opts.Timeout)
	}
	opts.Concurrency = cmp.Or(opts.Concurrency, 4)
	opts.Timeout = cmp.Or(opts.Timeout, 30*time.Second)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	for range c.endpoints {
		c.guards = append(c.guards, deadline.New(opts.Timeout, nil))
	}
	c.opts = opts
	return c, nil
}

// Limits: one item per request.
func (c *Client) Limits() purge.Limits {
	return purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 1, purge.KindURL: 1}}
}

// task is one item sent to one endpoint.
type task struct {
	item     int
	endpoint int
	target   string // path and query
	host     string
}

// Purge sends one request per item (KindPath or KindURL) to every endpoint.
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "varnish", Outcomes: make([]purge.Outcome, len(req.Items))}
	var tasks []task
	for i, it := range req.Items {
		res.Outcomes[i].Item = it
		target, host, err := c.target(it)
		if err != nil {
			res.Outcomes[i].Err = err.Error()
			continue
		}
		for e := range c.endpoints {
			tasks = append(tasks, task{item: i, endpoint: e, target: target, host: host})
		}
	}

	calls := make([]purge.Call, len(tasks))
	var g errgroup.Group
	g.SetLimit(c.opts.Concurrency)
	for n, t := range tasks {
		g.Go(func() error {
			// Not started: every item still gets an outcome.
			if err := cmp.Or(ctx.Err(), c.guards[t.endpoint].Held()); err != nil {
				calls[n] = purge.Call{Items: 1, Err: fmt.Sprintf("varnish: %s: %v", c.endpoints[t.endpoint].Host, err)}
				return nil
			}
			calls[n] = c.send(ctx, t)
			return nil
		})
	}
	g.Wait()

	errs := make(map[int][]string)
	for n, t := range tasks {
		if calls[n].Err != "" {
			errs[t.item] = append(errs[t.item], calls[n].Err)
		}
		if calls[n].Attempts > 0 {
			res.Calls = append(res.Calls, calls[n])
		}
	}
	for n, t := range tasks {
		if t.endpoint != 0 {
			continue
		}
		o := &res.Outcomes[tasks[n].item]
		if e := errs[t.item]; len(e) > 0 {
			o.Err = strings.Join(e, "; ")
		} else {
			o.OK = true
		}
	}
	return res, res.Err()
}

func (c *Client) send(ctx context.Context, t task) purge.Call {
	ep := c.endpoints[t.endpoint]
	host := t.host
	if host == "" {
		host = ep.Host
	}
	u := ep.Scheme + "://" + ep.Host + ep.Path + t.target
	what := fmt.Sprintf("varnish: %s %s (Host %s)", c.opts.Method, u, host)
	call := purge.Call{Items: 1}
	guard := c.guards[t.endpoint]
	rr, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		rctx, cancel, err := guard.Start(ctx)
		if err != nil {
			return err
		}
		defer cancel()
		req, err := http.NewRequestWithContext(rctx, c.opts.Method, u, nil)
		if err != nil {
			return err
		}
		req.Host = host
		resp, err := c.opts.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
				return err
			}
			return retry.Network(err)
		}
		defer resp.Body.Close()
		call.ID = resp.Header.Get("X-Varnish")
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if err != nil {
			if err := guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
				return err
			}
			return retry.Retryable(err)
		}
		if resp.StatusCode < 300 {
			call.Status = resp.Status
			return nil
		}
		return retry.HTTPStatus(resp, fmt.Errorf("%s%s", resp.Status, message(body)))
	})
	call.Attempts = rr.Attempts
	if err != nil {
		call.Err = fmt.Sprintf("%s: %v", what, err)
	}
	return call
}

// target returns the request target and Host header for an item.
func (c *Client) target(it purge.Item) (target, host string, err error) {
	switch it.Kind {
	case purge.KindPath:
		if !strings.HasPrefix(it.Value, "/") {
			return "", "", fmt.Errorf("varnish: path %q does not start with /", it.Value)
		}
		return it.Value, c.opts.Host, nil
	case purge.KindURL:
		u, err := url.Parse(it.Value)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("varnish: %q is not an absolute URL", it.Value)
		}
		host = u.Host
		if c.opts.Host != "" {
			host = c.opts.Host
		}
		return u.RequestURI(), host, nil
	}
	return "", "", fmt.Errorf("varnish: %s: %w", it.Kind, purge.ErrUnsupported)
}

// Compiled on first use, not in package init, which the Lambda bootstrap's
// cold start pays for: only an error body needs them.
var (
	titleRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<title>(.*?)</title>`) })
	spaceRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s+`) })
)

// message is the cache's own words from an error body: the title of
// Varnish's synthetic HTML page, or the start of a plain body.
func message(body []byte) string {
	s := string(body)
	if m := titleRE().FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	s = strings.TrimSpace(spaceRE().ReplaceAllString(s, " "))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

var (
	_ purge.Purger  = (*Client)(nil)
	_ purge.Limiter = (*Client)(nil)
)
