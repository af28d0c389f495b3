// Package lambdacache wraps an AWS Lambda handler so that every entry of a
// cache.Cache holds a fresh value before each invocation, fetched together
// in as few calls as the sources allow, and reaches the handler through its
// context. It also answers warm-up pings.
//
// It is the one part of the cache that depends on aws-lambda-go; the cache
// and its sources do not.
package lambdacache

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/offload-dev/offload/cache"
)

// Options configure a wrapped handler. The zero value is ready to use.
type Options struct {
	// IsWarmup tells a warm-up event from a real one. Default IsWarmupPing.
	IsWarmup func(payload []byte) bool

	// Logger receives a line when a warm-up could not refresh every entry:
	// the ping has no caller to tell. Default slog.Default().
	Logger *slog.Logger
}

// Handler wraps h so that, before each invocation, every entry added to c
// holds an unexpired value (cache.Cache.NewContext). The handler reads the
// values with Entry.From, the same for the whole invocation, or fetches
// with Entry.Get. If an entry has no value to give (its fetch failed and
// nothing is cached), the invocation fails with that entry's error and h is
// not called.
//
// A warm-up event (Options.IsWarmup) refreshes every entry that expires
// within the cache's Options.WarmupHorizon and returns a WarmupResponse
// without calling h, so the invocations that follow find their entries
// fresh.
func Handler(c *cache.Cache, h lambda.Handler, optFns ...func(*Options)) lambda.Handler {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.IsWarmup == nil {
		o.IsWarmup = IsWarmupPing
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &wrapped{c: c, h: h, opts: o}
}

// Wrap is Handler for a handler function of any form lambda.Start takes
// with an event and a result, such as
// func(context.Context, events.SQSEvent) (events.SQSEventResponse, error):
//
//	lambda.Start(lambdacache.Wrap(c, handle))
func Wrap[In, Out any](c *cache.Cache, fn func(context.Context, In) (Out, error), optFns ...func(*Options)) lambda.Handler {
	return Handler(c, lambda.NewHandler(fn), optFns...)
}

type wrapped struct {
	c    *cache.Cache
	h    lambda.Handler
	opts Options
}

// WarmupResponse is what a warm-up invocation returns.
type WarmupResponse struct {
	Warmup    bool `json:"warmup"`
	Refreshed int  `json:"refreshed"`
}

func (w *wrapped) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if w.opts.IsWarmup(payload) {
		n, err := w.c.Warm(ctx)
		if err != nil {
			// The entries keep their errors for the real invocations,
			// which fail or serve a stale value as usual.
			w.opts.Logger.WarnContext(ctx, "lambdacache: warm-up could not refresh every entry", "error", err.Error())
		}
		return json.Marshal(WarmupResponse{Warmup: true, Refreshed: n})
	}
	ctx, err := w.c.NewContext(ctx)
	if err != nil {
		return nil, err
	}
	return w.h.Invoke(ctx, payload)
}

// IsWarmupPing is the default Options.IsWarmup. It recognises a JSON object
// with "warmup": true (what offload's deploy template has its warm-up
// schedule send) and serverless-plugin-warmup's {"source":
// "serverless-plugin-warmup"}. Plain EventBridge "Scheduled Event"s are left
// to the handler, since a function may be scheduled for real work; use
// IsScheduledEvent for a rule that sends the default event.
func IsWarmupPing(payload []byte) bool {
	if len(payload) > 4096 || !bytes.Contains(payload, []byte("warmup")) {
		return false
	}
	var p struct {
		Warmup bool   `json:"warmup"`
		Source string `json:"source"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return false
	}
	return p.Warmup || p.Source == "serverless-plugin-warmup"
}

// IsScheduledEvent recognises an EventBridge scheduled event, and everything
// IsWarmupPing does. Use it as Options.IsWarmup when the function's schedule
// exists only to keep it warm.
func IsScheduledEvent(payload []byte) bool {
	if IsWarmupPing(payload) {
		return true
	}
	if len(payload) > 16384 || !bytes.Contains(payload, []byte("Scheduled Event")) {
		return false
	}
	var ev struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(payload, &ev) == nil && ev.Source == "aws.events" && ev.DetailType == "Scheduled Event"
}

var _ lambda.Handler = (*wrapped)(nil)
