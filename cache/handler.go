package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

// Handler wraps a Lambda handler so that, before each invocation, the given
// entries hold unexpired values, fetched together in as few calls as their
// sources allow; the handler reads them from its context with Entry.From or
// Lookup, and sees the same values for the whole invocation. If an entry
// has no value to give (it failed and nothing is cached), the invocation
// fails with that entry's error and the handler is not called.
//
// A warm-up event (Options.IsWarmup) refreshes every entry of the cache that
// expires within Options.WarmupHorizon and returns without calling the
// handler, so the invocations that follow find their entries fresh.
//
// Two entries with the same short name panic here, at cold start: rename one
// with the Name option.
func Handler(c *Cache, h lambda.Handler, entries ...Loadable) lambda.Handler {
	w := &wrapped{c: c, h: h, entries: make([]*entry, len(entries)), index: map[*entry]int{}, byName: map[string]int{}}
	for i, l := range entries {
		e := l.base()
		w.entries[i] = e
		if _, dup := w.index[e]; !dup {
			w.index[e] = i
		}
		if j, dup := w.byName[e.name]; dup && w.entries[j] != e {
			panic(fmt.Sprintf("cache: entries %s and %s share the short name %q; rename one with cache.Name",
				w.entries[j].key, e.key, e.name))
		}
		w.byName[e.name] = i
	}
	return w
}

// Wrap is Handler for a handler function, the form lambda.Start takes:
//
//	lambda.Start(cache.Wrap(c, handle, dbURL, apiKey))
func Wrap[In, Out any](c *Cache, fn func(context.Context, In) (Out, error), entries ...Loadable) lambda.Handler {
	return Handler(c, lambda.NewHandler(fn), entries...)
}

type wrapped struct {
	c       *Cache
	h       lambda.Handler
	entries []*entry
	index   map[*entry]int
	byName  map[string]int
}

// WarmupResponse is what a warm-up invocation returns.
type WarmupResponse struct {
	Warmup    bool `json:"warmup"`
	Refreshed int  `json:"refreshed"`
}

func (w *wrapped) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if w.c.opts.IsWarmup(payload) {
		n, err := w.c.Warm(ctx)
		if err != nil {
			// The ping has no caller to tell; the entries keep their errors
			// for the real invocations, which fail or serve stale as usual.
			w.c.opts.Logger.Warn("cache: warm-up could not refresh every entry", "error", err.Error())
		}
		return json.Marshal(WarmupResponse{Warmup: true, Refreshed: n})
	}
	vals, err := w.values(ctx)
	if err != nil {
		return nil, err
	}
	return w.h.Invoke(context.WithValue(ctx, ctxKey{}, &invocation{w: w, vals: vals, parent: invocationFrom(ctx)}), payload)
}

// values returns the entries' values for one invocation: straight from
// memory when every one is fresh, otherwise through one batched load.
func (w *wrapped) values(ctx context.Context) ([]any, error) {
	vals := make([]any, len(w.entries))
	now := w.c.mono()
	for i, e := range w.entries {
		s := e.snap.Load()
		if e.specErr != nil || s == nil || now >= s.exp {
			outs, _ := w.c.load(ctx, w.entries, loadDue)
			if err := joinErrors(outs); err != nil {
				return nil, err
			}
			for i, o := range outs {
				vals[i] = o.val
			}
			return vals, nil
		}
		vals[i] = s.val
	}
	for _, e := range w.entries {
		e.hits.Add(1)
	}
	return vals, nil
}

type ctxKey struct{}

type invocation struct {
	w      *wrapped
	vals   []any
	parent *invocation // an outer Handler's values, when handlers nest
}

func invocationFrom(ctx context.Context) *invocation {
	inv, _ := ctx.Value(ctxKey{}).(*invocation)
	return inv
}

func fromContext(ctx context.Context, e *entry) (any, bool) {
	for inv := invocationFrom(ctx); inv != nil; inv = inv.parent {
		if i, ok := inv.w.index[e]; ok {
			return inv.vals[i], true
		}
	}
	return nil, false
}

// Lookup returns the value a Handler loaded under the short name name, as
// lambda-cache hands values to a handler by entry_name. ok is false when no
// entry has that name or its value is not a T.
func Lookup[T any](ctx context.Context, name string) (v T, ok bool) {
	for inv := invocationFrom(ctx); inv != nil; inv = inv.parent {
		if i, found := inv.w.byName[name]; found {
			v, ok = inv.vals[i].(T)
			return v, ok
		}
	}
	return v, false
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
