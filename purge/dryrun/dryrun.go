// Package dryrun is a purger that purges nothing: it logs what it would
// purge and reports success. `offload serve` uses it on its embedded
// defaults, and a target with provider "log" is one.
package dryrun

import (
	"cmp"
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/offload-dev/offload/purge"
)

// Options configure a Client. A zero field means its default.
type Options struct {
	// Name is the target's name, logged with every purge. Default "dry-run".
	Name string
	// Logger receives one Info record per purge. Default slog.Default().
	Logger *slog.Logger
}

// Client logs purges. Safe for concurrent use.
type Client struct {
	opts Options
	n    atomic.Int64
}

// New returns a Client, after applying optFns to a copy of opts. It never
// fails; the error is there for the shape every provider's New has.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	opts.Name = cmp.Or(opts.Name, "dry-run")
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Client{opts: opts}, nil
}

// Purge logs the items and reports every one purged.
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := "dry-run-" + strconv.FormatInt(c.n.Add(1), 10)
	values := make([]string, len(req.Items))
	res := &purge.Result{Provider: "log", Calls: []purge.Call{{ID: id, Items: len(req.Items), Status: "Logged", Attempts: 1}},
		Outcomes: make([]purge.Outcome, 0, len(req.Items))}
	for i, it := range req.Items {
		values[i] = it.Value
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true, ID: id})
	}
	c.opts.Logger.Info("dry run: would purge", "target", c.opts.Name, "id", id, "items", values)
	return res, nil
}

// Status says a logged purge is done.
func (c *Client) Status(ctx context.Context, id string) (purge.Status, error) {
	return purge.Status{ID: id, Done: true, State: "Logged"}, nil
}

var (
	_ purge.Purger   = (*Client)(nil)
	_ purge.Follower = (*Client)(nil)
)
