package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/purge"
)

// MonitorOptions configure a Monitor. Zero fields mean their defaults.
type MonitorOptions struct {
	// Now tells the time. Default time.Now.
	Now func() time.Time
	// MaxPurges is how many purges are kept for GET /v1/purges/{id} and
	// the dashboard; the least recently used go first. Default 1000.
	MaxPurges int
	// MaxPurgeBytes bounds the memory those purges hold, however large
	// each was: each keeps its counts, its first 100 failures and its
	// first 1000 provider calls, and the least recently used go first
	// past the bound. Default 16 MiB; at least 1 MiB, the most one
	// purge's record holds.
	MaxPurgeBytes int64
	// MaxChanges is how many recent changes the dashboard keeps, each
	// string in them cut to 1 KiB (under 1 MiB at the default). Default 200.
	MaxChanges int
}

// Monitor counts what passes through the server and the inbox worker, for
// GET /metrics and the dashboard, and keeps a bounded history: recent
// changes with their decisions, recent purges with their results, and the
// requests of the last minutes. Safe for concurrent use.
type Monitor struct {
	now    func() time.Time
	purges *cache.Store[string, *purgeRecord]

	mu            sync.Mutex
	events        int64 // webhook deliveries stored
	batches       int64 // batches applied
	applyErrors   int64 // batches that failed as a whole
	decisions     map[decisionKey]int64
	purgeRequests map[purgeKey]int64
	purgeItems    map[purgeKey]int64
	retries       map[targetKey]int64
	httpRequests  map[httpKey]int64
	saved         savings
	minutes       [chartMinutes]minute
	changes       ring[changeRow]
	purgeIDs      ring[string]
}

type (
	decisionKey struct{ decision, reason string }
	targetKey   struct{ provider, target string }
	purgeKey    struct{ provider, target, outcome string }
	httpKey     struct {
		route string
		code  int
	}
)

// savings compare what the batched plan costs with one purge per event.
type savings struct {
	Changes         int64 // changes purged
	Requests        int64 // purge requests the batched plans make
	PerEvent        int64 // purge requests one purge per event would make
	BilledPaths     int64 // CloudFront paths the batched plans bill
	PerEventBilled  int64 // CloudFront paths one invalidation per event would bill
	CloudFrontCalls int64 // CloudFront invalidations the batched plans make
}

// chartMinutes is how many minutes of requests the dashboard charts.
const chartMinutes = 30

type minute struct {
	at                 int64 // Unix minute
	batched, perEvent  int64
	changes, purgeable int64
}

// changeRow is a change as the dashboard lists it.
type changeRow struct {
	Time     time.Time
	Bucket   string
	Key      string
	Kind     event.Kind
	Decision string
	Reason   string
	Status   string
	Error    string
}

// NewMonitor returns an empty Monitor.
func NewMonitor(opts MonitorOptions) *Monitor {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPurges <= 0 {
		opts.MaxPurges = 1000
	}
	if opts.MaxPurgeBytes <= 0 {
		opts.MaxPurgeBytes = 16 << 20
	}
	opts.MaxPurgeBytes = max(opts.MaxPurgeBytes, 1<<20)
	if opts.MaxChanges <= 0 {
		opts.MaxChanges = 200
	}
	return &Monitor{
		now: opts.Now,
		purges: cache.NewStore(cache.StoreOptions[string, *purgeRecord]{MaxEntries: opts.MaxPurges, MaxBytes: opts.MaxPurgeBytes,
			Size: func(_ string, r *purgeRecord) int64 { return r.size }}),
		decisions:     map[decisionKey]int64{},
		purgeRequests: map[purgeKey]int64{},
		purgeItems:    map[purgeKey]int64{},
		retries:       map[targetKey]int64{},
		httpRequests:  map[httpKey]int64{},
		changes:       newRing[changeRow](opts.MaxChanges),
		purgeIDs:      newRing[string](opts.MaxPurges),
	}
}

// Wrap returns an Applier that applies through a and records each batch's
// result: give it to the inbox worker (pipeline.Worker.Applier).
func (m *Monitor) Wrap(a pipeline.Applier) pipeline.Applier {
	return observed{a, m}
}

type observed struct {
	a pipeline.Applier
	m *Monitor
}

func (o observed) Apply(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
	res, err := o.a.Apply(ctx, changes)
	o.m.Observe(res, err)
	return res, err
}

// Observe records the result of applying a batch.
func (m *Monitor) Observe(res *pipeline.Result, err error) {
	now := m.now()
	if err != nil || res == nil {
		m.mu.Lock()
		m.applyErrors++
		m.mu.Unlock()
		return
	}
	var records []*purgeRecord
	for _, pr := range res.Purges {
		if pr.Status == pipeline.StatusSkipped {
			continue // not sent
		}
		records = append(records, newPurgeRecord(pr.Target, pr.Provider, "pipeline", now, len(pr.Paths)+len(pr.URLs), pr.Result, pr.Error))
	}
	perEvent, perEventBilled, cfCalls := perEventCost(res.Purges)

	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches++
	for _, c := range res.Changes {
		m.decisions[decisionKey{c.Decision.Decision, c.Reason}]++
		m.changes.add(changeRow{Time: now, Bucket: clip(c.Bucket), Key: clip(c.Key), Kind: event.Kind(clip(string(c.Kind))),
			Decision: clip(c.Decision.Decision), Reason: clip(c.Reason), Status: clip(c.Status), Error: clip(c.Error)})
	}
	var requests int64
	for _, n := range res.Stats.Requests {
		requests += int64(n)
	}
	m.saved.Changes += int64(res.Stats.Purge)
	m.saved.Requests += requests
	m.saved.PerEvent += perEvent
	m.saved.BilledPaths += int64(res.Stats.BilledPaths)
	m.saved.PerEventBilled += perEventBilled
	m.saved.CloudFrontCalls += cfCalls
	mn := m.minute(now)
	mn.batched += requests
	mn.perEvent += perEvent
	mn.changes += int64(res.Stats.Changes)
	mn.purgeable += int64(res.Stats.Purge)
	for _, r := range records {
		m.countPurge(r)
	}
}

// perEventCost returns what one purge per event would have cost the
// batches: requests (one per event and target, or one per item for
// providers that take one item a request), CloudFront paths billed (each
// event's own), and how many CloudFront calls the batches make.
func perEventCost(purges []pipeline.PurgeResult) (requests, billed, cfCalls int64) {
	for _, b := range purges {
		items := len(b.Paths) + len(b.URLs)
		oneByOne := b.Requests == items && items > 1
		cf := b.Provider == "cloudfront"
		if cf {
			cfCalls += int64(b.Requests)
		}
		if len(b.Of) != items {
			requests += int64(len(b.Changes))
			if cf {
				billed += int64(len(b.Paths))
			}
			continue
		}
		per := map[int]int64{} // items by change
		for _, of := range b.Of {
			for _, i := range of {
				per[i]++
			}
		}
		for _, n := range per {
			if oneByOne {
				requests += n
			} else {
				requests++
			}
			if cf {
				billed += n
			}
		}
	}
	return requests, billed, cfCalls
}

// minute returns the chart's bucket for now, emptied if it held an older
// minute. m.mu is held.
func (m *Monitor) minute(now time.Time) *minute {
	at := now.Unix() / 60
	mn := &m.minutes[at%chartMinutes]
	if mn.at != at {
		*mn = minute{at: at}
	}
	return mn
}

// recordPurge records a purge made through the API and returns its record.
func (m *Monitor) recordPurge(target, provider string, items int, res *purge.Result, err error) *purgeRecord {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	r := newPurgeRecord(target, provider, "api", m.now(), items, res, msg)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.countPurge(r)
	return r
}

// countPurge counts a purge's requests, items and retries and keeps its
// record. m.mu is held.
func (m *Monitor) countPurge(r *purgeRecord) {
	tk := targetKey{r.Provider, r.Target}
	if r.hasCalls {
		if r.sent > 0 {
			m.purgeRequests[purgeKey{r.Provider, r.Target, outcome(true)}] += r.sent
		}
		if r.refused > 0 {
			m.purgeRequests[purgeKey{r.Provider, r.Target, outcome(false)}] += r.refused
		}
		if r.retries > 0 {
			m.retries[tk] += r.retries
		}
	} else {
		m.purgeRequests[purgeKey{r.Provider, r.Target, outcome(false)}]++
	}
	if ok := r.Items - r.Failed; ok > 0 {
		m.purgeItems[purgeKey{r.Provider, r.Target, outcome(true)}] += int64(ok)
	}
	if r.Failed > 0 {
		m.purgeItems[purgeKey{r.Provider, r.Target, outcome(false)}] += int64(r.Failed)
	}
	m.purges.Set(r.ID, r)
	m.purgeIDs.add(r.ID)
}

func outcome(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}

func (m *Monitor) eventReceived() {
	m.mu.Lock()
	m.events++
	m.mu.Unlock()
}

func (m *Monitor) request(route string, code int) {
	m.mu.Lock()
	m.httpRequests[httpKey{route, code}]++
	m.mu.Unlock()
}

// purge returns the record of a purge.
func (m *Monitor) purge(id string) (*purgeRecord, bool) {
	return m.purges.Get(id)
}

// recentPurges returns up to n purges, newest first.
func (m *Monitor) recentPurges(n int) []*purgeRecord {
	m.mu.Lock()
	ids := m.purgeIDs.newest(0)
	m.mu.Unlock()
	var out []*purgeRecord
	for _, id := range ids {
		if len(out) == n {
			break
		}
		if r, ok := m.purges.Get(id); ok {
			out = append(out, r)
		}
	}
	return out
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ring keeps the last n values added.
type ring[T any] struct {
	buf  []T
	next int
	full bool
}

func newRing[T any](n int) ring[T] { return ring[T]{buf: make([]T, n)} }

func (r *ring[T]) add(v T) {
	r.buf[r.next] = v
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

// newest returns up to n values (0: all), newest first.
func (r *ring[T]) newest(n int) []T {
	size := r.next
	if r.full {
		size = len(r.buf)
	}
	if n <= 0 || n > size {
		n = size
	}
	out := make([]T, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}
