package purgetest

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// FaultKind is the class of failure a Fault stands for. A provider's test
// server answers each in the provider's own shape.
type FaultKind int

const (
	// Throttled is the provider's rate limit: HTTP 429, or its own throttling
	// error (CloudFront "Throttling"). With RetryAfter set, the answer carries
	// a Retry-After header of that many seconds.
	Throttled FaultKind = iota + 1
	// Unavailable is a server error (HTTP 503) that may pass.
	Unavailable
	// Invalid is a refusal that cannot succeed when repeated: HTTP 400 or
	// the provider's own invalid-request error.
	Invalid
)

func (k FaultKind) String() string {
	switch k {
	case Throttled:
		return "throttled"
	case Unavailable:
		return "unavailable"
	case Invalid:
		return "invalid"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault tells a backend to fail calls instead of serving them.
type Fault struct {
	Kind       FaultKind
	Times      int           // matching calls to fail; < 0 fails every one
	Key        string        // fail only calls that carry this key; "" fails any call
	RetryAfter time.Duration // Throttled: send Retry-After (whole seconds)
	Message    string        // the provider's message; the suite checks it reaches the Outcome
}

// Status is the HTTP status a plain HTTP provider answers the fault with:
// 429, 503 or 400.
func (f *Fault) Status() int {
	switch f.Kind {
	case Throttled:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// SetRetryAfter sets the Retry-After header the fault asks for, if any.
func (f *Fault) SetRetryAfter(h http.Header) {
	if f.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
}

// Backend is the suite's hand on a provider's backend. The provider's test
// server (an httptest server, or a proxy in front of moto or varnishd)
// decodes each call it receives into the keys of the items it carries and
// calls Receive; Receive records the call and says whether to fail it. Safe
// for concurrent use.
type Backend struct {
	mu     sync.Mutex
	calls  [][]string
	faults []*Fault
	onCall func(n int)
}

// NewBackend returns a backend that serves every call.
func NewBackend() *Backend { return &Backend{} }

// Receive records a call carrying keys and returns the fault to answer it
// with, or nil to serve it normally.
func (b *Backend) Receive(keys []string) *Fault {
	b.mu.Lock()
	b.calls = append(b.calls, slices.Clone(keys))
	n := len(b.calls)
	hook := b.onCall
	var hit *Fault
	for i, f := range b.faults {
		if f.Key != "" && !slices.Contains(keys, f.Key) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				b.faults = slices.Delete(b.faults, i, i+1)
			}
		}
		c := *f
		hit = &c
		break
	}
	b.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return hit
}

// Fail adds a fault; faults match in the order they were added.
func (b *Backend) Fail(f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, &f)
}

// OnCall sets a function called (outside the lock) with the number of each
// call received, before it is answered.
func (b *Backend) OnCall(fn func(n int)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onCall = fn
}

// Calls returns the keys of every call received, in order of arrival.
func (b *Backend) Calls() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([][]string, len(b.calls))
	for i, c := range b.calls {
		out[i] = slices.Clone(c)
	}
	return out
}
