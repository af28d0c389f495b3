// Package deadline bounds each request a provider's client sends, and
// remembers a provider that let one run out: for one timeout after that,
// further requests fail at once instead of each waiting out a deadline of
// its own. A hung provider then holds a purge, and the batches behind it,
// for about one timeout, however many requests were queued for it.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoAnswer is wrapped by the error of a request that got no answer
// within its deadline, and of one not sent because another just did.
// Such a request is not retried by the client: the provider is not
// answering, and the work is left to a later attempt (the inbox's backoff,
// an SQS redelivery).
var ErrNoAnswer = errors.New("no answer")

// Guard gives requests their deadline. It is safe for concurrent use.
type Guard struct {
	timeout time.Duration
	now     func() time.Time

	mu    sync.Mutex
	since time.Time // when a request last ran out its deadline
}

// New returns a Guard for requests of at most timeout; now tells the time
// (time.Now when nil).
func New(timeout time.Duration, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{timeout: timeout, now: now}
}

// Held returns an error wrapping ErrNoAnswer while the provider is held
// as not answering, else nil. A request must not be sent while it is held.
func (g *Guard) Held() error {
	g.mu.Lock()
	since := g.since
	g.mu.Unlock()
	if since.IsZero() {
		return nil
	}
	if ago := g.now().Sub(since); ago < g.timeout {
		return fmt.Errorf("not sent: %w to a request within %s, %s ago; requests resume %s after it",
			ErrNoAnswer, g.timeout, ago.Round(time.Millisecond), g.timeout)
	}
	return nil
}

// Start returns the context of one request: ctx with the request's
// deadline, or Held's error.
func (g *Guard) Start(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := g.Held(); err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, g.timeout)
	return rctx, cancel, nil
}

// errStalled is the cause of a request StartIdle's watchdog ended.
var errStalled = errors.New("no progress")

// StartIdle is Start for a request that may take as long as its body needs
// (an upload): its context ends only when progress has not been reported
// for one timeout. Report progress with the returned func: each read of
// the request body (Reader does it), and the answer's arrival.
func (g *Guard) StartIdle(ctx context.Context) (rctx context.Context, progress func(), cancel context.CancelFunc, err error) {
	if err := g.Held(); err != nil {
		return nil, nil, nil, err
	}
	cctx, cancelCause := context.WithCancelCause(ctx)
	var last atomic.Int64 // unix nanoseconds of the last progress, by the real clock
	last.Store(time.Now().UnixNano())
	var t *time.Timer
	var mu sync.Mutex // orders the watchdog's re-arming against stop
	stopped := false
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if idle := time.Since(time.Unix(0, last.Load())); idle < g.timeout {
			t.Reset(g.timeout - idle)
			return
		}
		cancelCause(errStalled)
	}
	mu.Lock()
	t = time.AfterFunc(g.timeout, check)
	mu.Unlock()
	progress = func() { last.Store(time.Now().UnixNano()) }
	cctx = context.WithValue(cctx, progressKey{}, progress)
	cancel = func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
		cancelCause(context.Canceled)
	}
	return cctx, progress, cancel, nil
}

type progressKey struct{}

// Progress returns the progress func of the StartIdle request ctx belongs
// to, or a func that does nothing: for a layer that sees only the context.
func Progress(ctx context.Context) func() {
	if p, ok := ctx.Value(progressKey{}).(func()); ok {
		return p
	}
	return func() {}
}

// Reader reports progress on each read of r that returns data.
func Reader(r io.Reader, progress func()) io.Reader {
	return &reader{r: r, progress: progress}
}

type reader struct {
	r        io.Reader
	progress func()
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.progress()
	}
	return n, err
}

// ReadSeeker is Reader for a body that must stay seekable.
func ReadSeeker(r io.ReadSeeker, progress func()) io.ReadSeeker {
	return &readSeeker{reader{r: r, progress: progress}, r}
}

type readSeeker struct {
	reader
	s io.Seeker
}

func (r *readSeeker) Seek(off int64, whence int) (int64, error) { return r.s.Seek(off, whence) }

// Check looks at the error of a request sent with rctx, a context from
// Start under ctx. If the request ran out of time (its own deadline, or a
// network timeout), it holds the provider as not answering for one timeout
// and returns an error wrapping ErrNoAnswer; otherwise it returns err as it
// is. The caller's own cancellation is not the provider's fault.
func (g *Guard) Check(ctx, rctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	var ne net.Error
	stalled := errors.Is(context.Cause(rctx), errStalled)
	if !stalled && !errors.Is(rctx.Err(), context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		return err
	}
	g.mu.Lock()
	g.since = g.now()
	g.mu.Unlock()
	if stalled {
		return fmt.Errorf("%w and %w for %s (not retried)", errStalled, ErrNoAnswer, g.timeout)
	}
	return fmt.Errorf("%w within %s (not retried)", ErrNoAnswer, g.timeout)
}
