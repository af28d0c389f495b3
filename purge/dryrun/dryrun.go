// Package dryrun is a purger that purges nothing: it logs what it would
// purge and reports success. `offload serve` uses it on its embedded
// defaults, and a target with provider "log" is one.
package dryrun

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/offload-dev/offload/purge"
)

// Client logs purges. Safe for concurrent use.
type Client struct {
	name   string
	logger *slog.Logger
	n      atomic.Int64
}

// New returns a Client that logs to logger under the target name.
func New(name string, logger *slog.Logger) *Client {
	if logger == nil {
		logger = slog.Default()
	}
	return &Client{name: name, logger: logger}
}

// Purge logs the items and reports every one purged.
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := "dry-run-" + strconv.FormatInt(c.n.Add(1), 10)
	values := make([]string, len(req.Items))
	res := &purge.Result{Provider: "log", Calls: []purge.Call{{ID: id, Items: len(req.Items), Status: "Logged", Attempts: 1}}}
	for i, it := range req.Items {
		values[i] = it.Value
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true, ID: id})
	}
	c.logger.Info("dry run: would purge", "target", c.name, "id", id, "items", values)
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
