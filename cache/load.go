package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

type loadMode uint8

const (
	loadDue   loadMode = iota // fetch what has expired
	loadForce                 // fetch now, whatever the age
	loadWarm                  // fetch what expires within the warm-up horizon
)

type outcome struct {
	val any
	err error
}

var errNoAnswer = errors.New("the fetcher gave no answer for this entry")

// load is the one path every read that misses, every Refresh, Load and Warm
// takes. It decides per entry whether to fetch, joins fetches already in
// flight, adds due entries of the same sources to calls being made anyway,
// fetches each source's share in one Fetch, and returns one outcome per entry
// in ens and how many entries it fetched.
func (c *Cache) load(ctx context.Context, ens []*entry, mode loadMode) ([]outcome, int) {
	outs := make([]outcome, len(ens))
	waits := make([]*flight, len(ens))
	var mine []*entry
	now := c.now()
	for i, e := range ens {
		if e.specErr != nil {
			outs[i].err = &Error{Key: e.key, Err: e.specErr}
			continue
		}
		e.mu.Lock()
		if e.inflight != nil {
			if mode == loadDue {
				e.misses.Add(1)
			}
			waits[i] = e.inflight
			e.mu.Unlock()
			continue
		}
		s := e.snap.Load()
		switch mode {
		case loadDue:
			if s != nil && now.Before(s.expires) {
				e.hits.Add(1)
				outs[i].val = s.val
				e.mu.Unlock()
				continue
			}
			e.misses.Add(1)
			if now.Before(e.retryAt) {
				outs[i] = e.staleOrErr(s, now)
				e.mu.Unlock()
				continue
			}
		case loadWarm:
			if s != nil && s.expires.Sub(now) > c.opts.WarmupHorizon {
				outs[i].val = s.val
				e.mu.Unlock()
				continue
			}
			if now.Before(e.retryAt) {
				outs[i] = e.staleOrErr(s, now)
				e.mu.Unlock()
				continue
			}
		}
		waits[i] = e.startFlight()
		mine = append(mine, e)
		e.mu.Unlock()
	}
	if len(mine) > 0 {
		mine = c.rideAlong(mine, now)
		c.fetch(ctx, mine)
	}
	for i, f := range waits {
		if f == nil {
			continue
		}
		select {
		case <-f.done:
			outs[i] = outcome{val: f.val, err: f.err}
		case <-ctx.Done():
			outs[i].err = &Error{Key: ens[i].key, Err: ctx.Err()}
		}
	}
	return outs, len(mine)
}

func (e *entry) startFlight() *flight {
	f := &flight{done: make(chan struct{})}
	e.inflight = f
	return f
}

// rideAlong fills the calls about to be made with other entries of the same
// sources that are due or nearly due: a GetParameters call takes ten names
// whether it is sent with one or ten. Entries never loaded yet count as due,
// so a function that reads its entries one by one still fetches them in few
// calls.
func (c *Cache) rideAlong(mine []*entry, now time.Time) []*entry {
	count := map[Fetcher]int{}
	for _, e := range mine {
		count[e.fetcher]++
	}
	for f, n := range count {
		bs, ok := f.(BatchSizer)
		if !ok || bs.BatchSize() <= 1 {
			continue
		}
		size := bs.BatchSize()
		free := (n+size-1)/size*size - n
		if free == 0 {
			continue
		}
		c.mu.Lock()
		peers := slices.Clone(c.byFetcher[f])
		c.mu.Unlock()
		type cand struct {
			e   *entry
			due time.Time
		}
		var cands []cand
		for _, p := range peers {
			s := p.snap.Load()
			switch {
			case s == nil:
				cands = append(cands, cand{p, time.Time{}})
			case !now.Add(time.Duration(c.opts.Jitter * float64(p.maxAge))).Before(s.expires):
				cands = append(cands, cand{p, s.expires})
			}
		}
		slices.SortStableFunc(cands, func(a, b cand) int { return a.due.Compare(b.due) })
		for _, cd := range cands {
			if free == 0 {
				break
			}
			p := cd.e
			p.mu.Lock()
			if p.inflight == nil && !now.Before(p.retryAt) {
				p.startFlight()
				mine = append(mine, p)
				free--
			}
			p.mu.Unlock()
		}
	}
	return mine
}

// fetch asks each source for its share of ens, the sources concurrently, and
// settles every entry's flight.
func (c *Cache) fetch(ctx context.Context, ens []*entry) {
	groups := map[Fetcher][]*entry{}
	var order []Fetcher
	for _, e := range ens {
		if _, ok := groups[e.fetcher]; !ok {
			order = append(order, e.fetcher)
		}
		groups[e.fetcher] = append(groups[e.fetcher], e)
	}
	run := func(f Fetcher, group []*entry) {
		reqs := make([]*Request, len(group))
		for i, e := range group {
			reqs[i] = &Request{Key: e.key, Arg: e.arg}
			if s := e.snap.Load(); s != nil {
				reqs[i].Prev = &Raw{Version: s.version, Size: s.size}
			}
		}
		callFetcher(ctx, f, reqs)
		now := c.now()
		for i, e := range group {
			e.settle(ctx, reqs[i], now)
		}
	}
	if len(order) == 1 {
		run(order[0], groups[order[0]])
		return
	}
	var wg sync.WaitGroup
	for _, f := range order {
		wg.Go(func() { run(f, groups[f]) })
	}
	wg.Wait()
}

// callFetcher runs a fetcher, turning a panic into a failure of the requests
// it left unanswered: a custom loader's bug must not take the function down.
func callFetcher(ctx context.Context, f Fetcher, reqs []*Request) {
	defer func() {
		if p := recover(); p != nil {
			for _, r := range reqs {
				if !r.answered {
					r.Fail(fmt.Errorf("fetcher panicked: %v", p))
				}
			}
		}
	}()
	f.Fetch(ctx, reqs)
}

// settle records the outcome of the entry's fetch and releases its waiters.
func (e *entry) settle(ctx context.Context, r *Request, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out outcome
	s := e.snap.Load()
	if !r.answered {
		r.Fail(errNoAnswer)
	}
	switch r.state {
	case stateOK:
		v, err := e.decode(r.raw)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				err = fmt.Errorf("%w: %w", ErrDecode, err)
			}
			out = e.fail(ctx, s, err, now)
			break
		}
		e.snap.Store(e.c.snapshot(v, r.raw.Version, r.raw.Size, now, e.maxAge))
		e.refreshes.Add(1)
		e.recovered()
		out.val = v
	case stateUnchanged:
		if s == nil {
			out = e.fail(ctx, s, errors.New("the source said unchanged, but nothing is cached"), now)
			break
		}
		e.snap.Store(e.c.snapshot(s.val, s.version, s.size, now, e.maxAge))
		e.refreshes.Add(1)
		e.unchanged.Add(1)
		e.recovered()
		out.val = s.val
	default:
		out = e.fail(ctx, s, r.err, now)
	}
	f := e.inflight
	e.inflight = nil
	f.val, f.err = out.val, out.err
	close(f.done)
}

func (c *Cache) snapshot(val any, version string, size int64, now time.Time, maxAge time.Duration) *snapshot {
	exp := c.expiry(now, maxAge)
	return &snapshot{val: val, version: version, size: size, fetched: now, expires: exp, exp: exp.Sub(c.base)}
}

func (e *entry) recovered() {
	if e.stale {
		e.c.opts.Logger.Info("cache: refresh succeeded again", "entry", e.key.String(), "failures", e.failures)
	}
	e.failures, e.retryAt, e.lastErr, e.stale = 0, time.Time{}, nil, false
}

// fail records a failed fetch. A cancelled caller is not the source's fault:
// it neither counts toward the backoff nor leaves an error behind.
func (e *entry) fail(ctx context.Context, s *snapshot, err error, now time.Time) outcome {
	wrapped := &Error{Key: e.key, Err: err}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return outcome{err: wrapped}
	}
	e.errors.Add(1)
	e.failures++
	e.retryAt = now.Add(e.c.backoff(e.failures))
	e.lastErr = wrapped
	return e.staleOrErr(s, now)
}

// staleOrErr serves the cached value while it is within MaxStale of its
// expiry, logging once per run of failures; past that, the last error.
func (e *entry) staleOrErr(s *snapshot, now time.Time) outcome {
	ms := e.c.opts.MaxStale
	if s != nil && ms > 0 && now.Before(s.expires.Add(ms)) {
		e.staleReads.Add(1)
		if !e.stale {
			e.stale = true
			e.c.opts.Logger.Warn("cache: refresh failed, serving the cached value",
				"entry", e.key.String(), "error", errString(e.lastErr),
				"age", now.Sub(s.fetched).String(), "stale_until", s.expires.Add(ms).Format(time.RFC3339),
				"retry_in", e.retryAt.Sub(now).String())
		}
		return outcome{val: s.val}
	}
	if e.lastErr != nil {
		return outcome{err: e.lastErr}
	}
	return outcome{err: &Error{Key: e.key, Err: errors.New("no value")}}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func joinErrors(outs []outcome) error {
	var errs []error
	for _, o := range outs {
		if o.err != nil && !slices.ContainsFunc(errs, func(e error) bool { return e == o.err }) {
			errs = append(errs, o.err)
		}
	}
	return errors.Join(errs...)
}
