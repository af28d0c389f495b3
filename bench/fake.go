package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/purge"
)

// fakeCDN is a purge.Purger that takes Latency to answer each request and
// counts the requests and items it was sent. It splits a Purge into
// requests by its own limits, the way the real provider packages do, so a
// batch the planner sized wrongly shows up as extra requests.
type fakeCDN struct {
	Provider    string
	PerCall     int // items per request; 0 = no limit
	BodyBytes   int // largest JSON body {"objects":[...]}; 0 = no limit
	Concurrency int // requests one Purge has in flight
	Latency     time.Duration

	requests atomic.Int64
	items    atomic.Int64
}

func (f *fakeCDN) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	chunks := f.split(req.Items)
	res := &purge.Result{Provider: f.Provider, Calls: make([]purge.Call, len(chunks))}
	failed := make([]error, len(chunks))
	var g errgroup.Group
	g.SetLimit(max(f.Concurrency, 1))
	for i := range chunks {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				failed[i] = err
				return nil
			}
			f.requests.Add(1)
			f.items.Add(int64(len(chunks[i])))
			if f.Latency > 0 {
				t := time.NewTimer(f.Latency)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					failed[i] = ctx.Err()
				}
			}
			res.Calls[i] = purge.Call{ID: fmt.Sprintf("%s-%d", f.Provider, i), Items: len(chunks[i]), Attempts: 1}
			return nil
		})
	}
	g.Wait()
	for i, ch := range chunks {
		for _, it := range ch {
			o := purge.Outcome{Item: it, OK: failed[i] == nil, ID: res.Calls[i].ID}
			if failed[i] != nil {
				o.Err = failed[i].Error()
			}
			res.Outcomes = append(res.Outcomes, o)
		}
	}
	return res, res.Err()
}

func (f *fakeCDN) split(items []purge.Item) [][]purge.Item {
	var out [][]purge.Item
	var cur []purge.Item
	size := len(`{"objects":[]}`)
	for _, it := range items {
		add := len(it.Value) + 3 // quotes and a comma
		full := f.PerCall > 0 && len(cur) == f.PerCall
		big := f.BodyBytes > 0 && len(cur) > 0 && size+add > f.BodyBytes
		if full || big {
			out = append(out, cur)
			cur, size = nil, len(`{"objects":[]}`)
		}
		cur = append(cur, it)
		size += add
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func (f *fakeCDN) Limits() purge.Limits {
	l := purge.Limits{BodyBytes: f.BodyBytes}
	if f.PerCall > 0 {
		kind := purge.KindURL
		if f.Provider == "cloudfront" {
			kind = purge.KindPath
		}
		l.ItemsPerCall = map[purge.Kind]int{kind: f.PerCall}
	}
	return l
}

var (
	_ purge.Purger  = (*fakeCDN)(nil)
	_ purge.Limiter = (*fakeCDN)(nil)
)
