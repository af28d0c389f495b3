// Package toycdn is a provider for a made-up CDN, written outside offload's
// module: it purges paths with POST {"paths": [...]} to one endpoint, at
// most Options.PathsPerCall a request, and shows what a provider needs of
// offload's public API: purge's types and a retry.Policy.
package toycdn

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/retry"
)

// Options configure a Client. A zero field means its default.
type Options struct {
	// Endpoint is the purge API's URL. Required.
	Endpoint string
	// PathsPerCall is the most paths in one request. Default 10.
	PathsPerCall int
	// HTTPClient sends the requests. Default http.DefaultClient.
	HTTPClient *http.Client
	// Retry is the retry policy. A zero field takes the retry package's
	// default.
	Retry retry.Policy
}

// Client purges through the toy CDN's API. It is safe for concurrent use.
type Client struct{ opts Options }

// New returns a Client, after applying optFns to a copy of opts.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Endpoint == "" {
		return nil, errors.New("toycdn: Options.Endpoint is required")
	}
	opts.PathsPerCall = cmp.Or(opts.PathsPerCall, 10)
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	return &Client{opts: opts}, nil
}

// Limits reports the paths per request.
func (c *Client) Limits() purge.Limits {
	return purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: c.opts.PathsPerCall}}
}

// Purge sends the path items in requests of at most PathsPerCall paths;
// any other kind fails with purge.ErrUnsupported.
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "toycdn", Outcomes: make([]purge.Outcome, len(req.Items))}
	var idx []int
	for i, it := range req.Items {
		res.Outcomes[i].Item = it
		if it.Kind != purge.KindPath {
			res.Outcomes[i].Err = fmt.Sprintf("toycdn: %s: %v", it.Kind, purge.ErrUnsupported)
			continue
		}
		idx = append(idx, i)
	}
	for len(idx) > 0 {
		batch := idx[:min(len(idx), c.opts.PathsPerCall)]
		idx = idx[len(batch):]
		call := purge.Call{Items: len(batch)}
		if err := ctx.Err(); err != nil {
			call.Err = "toycdn: not sent: " + err.Error()
		} else {
			call = c.send(ctx, req.Items, batch)
			res.Calls = append(res.Calls, call)
		}
		for _, i := range batch {
			res.Outcomes[i].OK, res.Outcomes[i].Err, res.Outcomes[i].ID = call.Err == "", call.Err, call.ID
		}
	}
	return res, res.Err()
}

func (c *Client) send(ctx context.Context, items []purge.Item, batch []int) purge.Call {
	paths := make([]string, len(batch))
	for n, i := range batch {
		paths[n] = items[i].Value
	}
	body, _ := json.Marshal(map[string][]string{"paths": paths})
	call := purge.Call{Items: len(batch)}
	r, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.Endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp, err := c.opts.HTTPClient.Do(hr)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return retry.Retryable(err) // a purge is idempotent
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode >= 300 {
			return retry.HTTPStatus(resp, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg))))
		}
		call.ID = strings.TrimSpace(string(msg))
		return nil
	})
	call.Attempts = r.Attempts
	if err != nil {
		call.Err = "toycdn: purge: " + err.Error()
	}
	return call
}

var (
	_ purge.Purger  = (*Client)(nil)
	_ purge.Limiter = (*Client)(nil)
)
