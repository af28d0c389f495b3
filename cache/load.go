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
// starts one fetch for the rest, and returns one outcome per entry in ens
// and how many entries it fetched. With loadDue, a maxAge other than zero is
// Fetch's: a value at least that old is due too (any value, for
// AlwaysFetch), and for an entry that Fetch keeps it is the only rule.
//
// The fetch runs on a context of its own, detached from ctx: when the
// caller that started it gives up, the others waiting for it still get its
// result. It ends at the latest deadline of the callers that wait for it,
// or Options.FetchTimeout after one without a deadline began to wait.
func (c *Cache) load(ctx context.Context, ens []*entry, mode loadMode, maxAge time.Duration) ([]outcome, int) {
	outs := make([]outcome, len(ens))
	waits := make([]*flight, len(ens))
	var mine []*entry
	var r *run
	now := c.now()
	done := ctx.Err() // a caller that has given up starts nothing
	for i, e := range ens {
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
			fresh := s != nil
			if fresh && (e.id >= 0 || maxAge == 0) {
				fresh = now.Before(s.expires)
			}
			if fresh && maxAge != 0 {
				fresh = maxAge > 0 && now.Sub(s.fetched) < maxAge
			}
			if fresh {
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
		if done != nil {
			outs[i].err = &Error{Key: e.key, Err: done}
			e.mu.Unlock()
			continue
		}
		if r == nil {
			r = c.startRun(ctx)
		}
		waits[i] = e.startFlight(r)
		mine = append(mine, e)
		e.mu.Unlock()
	}
	if r != nil {
		mine = c.rideAlong(mine, now, r)
		go func() {
			defer r.end()
			c.fetch(r.ctx, mine)
		}()
	}
	for i, f := range waits {
		if f == nil {
			continue
		}
		select {
		case <-f.done:
			outs[i] = outcome{val: f.val, err: f.err}
			continue
		default:
		}
		f.run.extend(ctx)
		select {
		case <-f.done:
		case <-ctx.Done():
		}
		done := isDone(f)
		if done {
			outs[i] = outcome{val: f.val, err: f.err}
		}
		if err := ctx.Err(); err != nil && (!done || f.err != nil) {
			// A caller whose context has ended gets its own error, not
			// what the fetch it gave up on came to.
			outs[i] = outcome{err: &Error{Key: ens[i].key, Err: err}}
		}
	}
	return outs, len(mine)
}

func (e *entry) startFlight(r *run) *flight {
	f := &flight{done: make(chan struct{}), run: r}
	e.inflight = f
	return f
}

// flight is one fetch of one entry; everyone who wants the entry meanwhile
// waits on done.
type flight struct {
	done chan struct{}
	run  *run
	val  any
	err  error
}

// run is one fetch of a set of entries, on a context detached from every
// caller's: it is cancelled when the last deadline of the callers waiting
// for it has passed.
type run struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timeout time.Duration

	mu    sync.Mutex
	until time.Time
	timer *time.Timer
}

// errRunOut is why a run was cancelled before it finished.
var errRunOut = fmt.Errorf("%w: the fetch outlasted the deadlines of its callers, or Options.FetchTimeout", context.DeadlineExceeded)

func (c *Cache) startRun(ctx context.Context) *run {
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	r := &run{ctx: rctx, cancel: cancel, timeout: c.opts.FetchTimeout}
	r.extend(ctx)
	return r
}

// extend keeps the run going at least as long as ctx's caller waits.
func (r *run) extend(ctx context.Context) {
	until, ok := ctx.Deadline()
	if !ok {
		until = time.Now().Add(r.timeout)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !until.After(r.until) || r.ctx.Err() != nil {
		return
	}
	r.until = until
	if r.timer == nil {
		r.timer = time.AfterFunc(time.Until(until), func() { r.cancel(errRunOut) })
	} else {
		r.timer.Reset(time.Until(until))
	}
}

func (r *run) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.cancel(nil)
}

func isDone(f *flight) bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// rideAlong fills the calls about to be made with other entries of the same
// sources that are due or nearly due: a GetParameters call takes ten names
// whether it is sent with one or ten. Entries never loaded yet count as due,
// so a function that reads its entries one by one still fetches them in few
// calls.
func (c *Cache) rideAlong(mine []*entry, now time.Time, r *run) []*entry {
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
			case !now.Add(time.Duration(c.opts.Jitter * float64(p.maxAge.Load()))).Before(s.expires):
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
				p.startFlight(r)
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
		v, err := e.decodeRaw(r.raw)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				err = fmt.Errorf("%w: %w", ErrDecode, err)
			}
			out = e.fail(ctx, s, err, now)
			break
		}
		e.snap.Store(e.c.snapshot(v, r.raw.Version, r.raw.Size, now, time.Duration(e.maxAge.Load())))
		e.refreshes.Add(1)
		e.recovered()
		out.val = v
	case stateUnchanged:
		if s == nil {
			out = e.fail(ctx, s, errors.New("the source said unchanged, but nothing is cached"), now)
			break
		}
		e.snap.Store(e.c.snapshot(s.val, s.version, s.size, now, time.Duration(e.maxAge.Load())))
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

// decodeRaw runs the spec's decoding, a caller's code, on the fetch's
// goroutine: a panic there fails the entry rather than the process.
func (e *entry) decodeRaw(r Raw) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: decoding panicked: %v", ErrDecode, p)
		}
	}()
	return e.decode(r)
}

func (c *Cache) snapshot(val any, version string, size int64, now time.Time, maxAge time.Duration) *snapshot {
	exp := c.expiry(now, maxAge)
	return &snapshot{val: val, version: version, size: size, fetched: now, expires: exp, at: c.offset(now), exp: c.offset(exp)}
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
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return outcome{err: &Error{Key: e.key, Err: fmt.Errorf("%w: %w", context.Cause(ctx), err)}}
	}
	wrapped := &Error{Key: e.key, Err: err}
	e.errors.Add(1)
	e.failures++
	e.retryAt = now.Add(e.c.opts.Retry.Backoff(e.failures))
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
