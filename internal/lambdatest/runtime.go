package lambdatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/offload-dev/offload/internal/childproc"
	"github.com/offload-dev/offload/internal/syncbuf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The Runtime API's paths and headers, as aws-lambda-go's client and the
// Lambda documentation name them.
const (
	apiVersion = "2018-06-01"

	HeaderRequestID          = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS         = "Lambda-Runtime-Deadline-Ms"
	HeaderInvokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID            = "Lambda-Runtime-Trace-Id"
	HeaderFunctionErrorType  = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody         = "Lambda-Runtime-Function-Error-Body"

	// MaxResponseSize is Lambda's limit on a buffered response: 6 MB.
	MaxResponseSize = 6 << 20
)

// DefaultTimeout is Lambda's default function timeout, used when Invoke is
// given none.
const DefaultTimeout = 3 * time.Second

// ErrTimeout is the error of an invocation that did not answer before its
// deadline (and of an init that did not finish in Options.InitTimeout).
var ErrTimeout = errors.New("lambdatest: task timed out")

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("lambdatest: runtime closed")

// InitError is what the runtime sent to /runtime/init/error.
type InitError struct {
	Type    string // its Lambda-Runtime-Function-Error-Type header
	Payload []byte // its body
}

func (e *InitError) Error() string {
	return fmt.Sprintf("lambdatest: init error %s: %s", e.Type, e.Payload)
}

// ExitError is the error of an invocation whose runtime process exited
// before it answered.
type ExitError struct {
	Err    error // from the process's Wait: an *exec.ExitError, or nil for exit status 0
	Output []byte
}

func (e *ExitError) Error() string {
	status := "exit status 0"
	if e.Err != nil {
		status = e.Err.Error()
	}
	return "lambdatest: runtime exited with error: " + status
}

func (e *ExitError) Unwrap() error { return e.Err }

// Options configure a Runtime.
type Options struct {
	// Path is the bootstrap binary to run. Required.
	Path string
	// Env is added to the Lambda environment (and wins over it): AWS
	// credentials, AWS_ENDPOINT_URL, the function's own variables. The
	// process does not inherit the test's environment, as a function does
	// not inherit anything but what Lambda sets; PATH is kept.
	Env []string
	// Dir is the working directory and LAMBDA_TASK_ROOT. Default: the
	// binary's directory, as /var/task holds the bootstrap in Lambda.
	Dir string
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME and part of the ARN.
	// Default "offload".
	FunctionName string
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE. Default 128.
	MemoryMB int
	// Region is AWS_REGION and AWS_DEFAULT_REGION. Default us-east-1.
	Region string
	// InitTimeout bounds the time from starting the process to its first
	// request for an invocation, as Lambda bounds the init phase. Default 10s.
	InitTimeout time.Duration
	// Output, if set, receives a copy of the process's stdout and stderr
	// (a test's log, say). Logs always has them.
	Output io.Writer
}

// Process describes one start of the bootstrap: one execution environment.
type Process struct {
	Started time.Time
	// Pid is the process id, for reading /proc/<pid> while it runs (its
	// peak memory, say). The process leads its own process group.
	Pid int
	// Init is the time from the start to the first GET .../next: Lambda's
	// init duration. Zero until then.
	Init time.Duration
	// FirstAnswer is the time from the start to the first response or
	// error the process sent: a cold start as a caller sees it. Zero until then.
	FirstAnswer time.Duration
	// Exited reports whether the process has ended; ExitErr is its Wait
	// error (nil for status 0 or while running), Killed why the emulator
	// ended it ("timeout", "init error", "canceled" when Invoke's context
	// ended mid-invocation, "close"; "" if it ended by itself).
	Exited  bool
	ExitErr error
	Killed  string
}

// Runtime is the emulated Runtime API with the process it runs. Its
// methods are safe for concurrent use.
type Runtime struct {
	opts Options
	logs syncbuf.Buffer

	mu     sync.Mutex
	cur    *process
	procs  []*process
	closed bool
}

// Start checks the options and returns a Runtime. The bootstrap is started
// by the first Invoke (a cold start), and again after a timeout or an exit.
func Start(opts Options) (*Runtime, error) {
	if opts.Path == "" {
		return nil, errors.New("lambdatest: Options.Path (the bootstrap binary) is required")
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("lambdatest: bootstrap: %w", err)
	}
	opts.Path = path
	if opts.Dir == "" {
		opts.Dir = filepath.Dir(path)
	}
	if opts.FunctionName == "" {
		opts.FunctionName = "offload"
	}
	if opts.MemoryMB <= 0 {
		opts.MemoryMB = 128
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = 10 * time.Second
	}
	return &Runtime{opts: opts}, nil
}

// FunctionARN is the ARN the runtime is told it was invoked as.
func (r *Runtime) FunctionARN() string {
	return fmt.Sprintf("arn:aws:lambda:%s:123456789012:function:%s", r.opts.Region, r.opts.FunctionName)
}

// Invoke sends payload to the function as one invocation that must answer
// within timeout (DefaultTimeout if zero), starting the bootstrap first if
// none is running. It returns the function's response; or, when the
// function returned an error, that error's payload
// ({"errorMessage":…,"errorType":…}) with a nil err. err is for an
// invocation that did not complete: ErrTimeout (the process is killed, as
// Lambda resets the environment), an *InitError, an *ExitError, ErrClosed
// or ctx's error. For a timeout or an exit, errorPayload is what Lambda
// would return to the caller.
func (r *Runtime) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (response, errorPayload []byte, err error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	inv := &invocation{id: newRequestID(), payload: payload, timeout: timeout,
		dispatched: make(chan struct{}), done: make(chan answer, 1)}
	var p *process
	for attempt := 1; ; attempt++ {
		var err error
		if p, err = r.process(); err != nil {
			return nil, nil, err
		}
		wasReady := p.isReady()
		response, errorPayload, err = r.dispatch(ctx, p, inv)
		var ee *ExitError
		if wasReady && errors.As(err, &ee) && attempt < 3 {
			// A process that exited between invocations (after a panic,
			// say) never saw this one: Lambda starts a new environment.
			continue
		}
		if err != nil || errorPayload != nil {
			return response, errorPayload, err
		}
		break
	}
	select {
	case <-inv.dispatched:
	case <-p.exited:
		return p.ended(inv.id)
	}

	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case a := <-inv.done:
		if a.isError {
			return nil, a.body, nil
		}
		return a.body, nil, nil
	case <-timer.C:
		// An answer that raced the deadline still counts.
		select {
		case a := <-inv.done:
			if a.isError {
				return nil, a.body, nil
			}
			return a.body, nil, nil
		default:
		}
		p.kill("timeout")
		return nil, timeoutPayload(inv.id, timeout), fmt.Errorf("%w after %s (request %s)", ErrTimeout, timeout, inv.id)
	case <-p.exited:
		return p.ended(inv.id)
	case <-ctx.Done():
		// The function is still running what it was given; its state is
		// unknown to the next caller, so end it.
		p.kill("canceled")
		return nil, nil, ctx.Err()
	}
}

// dispatch hands inv to a GET .../next of p; before the first one, p is
// still in its init phase.
func (r *Runtime) dispatch(ctx context.Context, p *process, inv *invocation) (response, errorPayload []byte, err error) {
	initTimer := time.NewTimer(time.Until(p.started.Add(r.opts.InitTimeout)))
	defer initTimer.Stop()
	initTimeout := initTimer.C
	if p.isReady() {
		initTimeout = nil
	}
	select {
	case p.pending <- inv:
		return nil, nil, nil
	case <-p.initFailed:
		p.kill("init error")
		return nil, p.initErr.Payload, p.initErr
	case <-p.exited:
		return p.ended(inv.id)
	case <-initTimeout:
		p.kill("timeout")
		return nil, timeoutPayload(inv.id, r.opts.InitTimeout), fmt.Errorf("%w: init did not finish within %s", ErrTimeout, r.opts.InitTimeout)
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// Processes describes every process started so far, oldest first.
func (r *Runtime) Processes() []Process {
	r.mu.Lock()
	procs := append([]*process(nil), r.procs...)
	r.mu.Unlock()
	out := make([]Process, len(procs))
	for i, p := range procs {
		out[i] = p.describe()
	}
	return out
}

// Logs returns everything the processes wrote to stdout and stderr so far.
// Output reaches it through a pipe, a moment after the process wrote it, as
// a function's logs reach CloudWatch after its response: use WaitOutput to
// wait for a line the function writes before it answers.
func (r *Runtime) Logs() []byte { return r.logs.Bytes() }

// WaitOutput waits until the output holds substr at least n times, and
// returns it; or returns what there is and an error when ctx ends first or
// a second passes without new output.
func (r *Runtime) WaitOutput(ctx context.Context, substr string, n int) ([]byte, error) {
	quiet := time.Now()
	last := 0
	for {
		out := r.logs.Bytes()
		if bytes.Count(out, []byte(substr)) >= n {
			return out, nil
		}
		if len(out) != last {
			last, quiet = len(out), time.Now()
		}
		if time.Since(quiet) > time.Second {
			return out, fmt.Errorf("lambdatest: output has %q %d times, want %d", substr, bytes.Count(out, []byte(substr)), n)
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Close ends the running process (SIGTERM, then SIGKILL after two seconds)
// and the emulated API.
func (r *Runtime) Close() error {
	r.mu.Lock()
	r.closed = true
	p := r.cur
	r.cur = nil
	r.mu.Unlock()
	if p != nil {
		p.stop()
	}
	return nil
}

// process returns the running process, starting one if there is none.
func (r *Runtime) process() (*process, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if p := r.cur; p != nil && !p.isDead() {
		return p, nil
	}
	p, err := r.startProcess()
	if err != nil {
		return nil, err
	}
	r.cur = p
	r.procs = append(r.procs, p)
	return p, nil
}

func (r *Runtime) startProcess() (*process, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdatest: listen: %w", err)
	}
	p := newProcess(r)
	p.ln = ln
	p.srv = &http.Server{Handler: p.handler(), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)

	o := r.opts
	cmd := exec.Command(o.Path)
	cmd.Dir = o.Dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=" + o.FunctionName,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(o.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + o.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + newRequestID()[:32],
		"AWS_REGION=" + o.Region,
		"AWS_DEFAULT_REGION=" + o.Region,
		"LAMBDA_TASK_ROOT=" + o.Dir,
		"LAMBDA_RUNTIME_DIR=" + o.Dir,
		"_HANDLER=bootstrap",
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
	}, o.Env...)
	var out io.Writer = &r.logs
	if o.Output != nil {
		out = io.MultiWriter(&r.logs, o.Output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, killed with the test binary if that dies.
	cmd.SysProcAttr = childproc.Attr(true)
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		p.srv.Close()
		return nil, fmt.Errorf("lambdatest: start %s: %w", o.Path, err)
	}
	p.cmd = cmd
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		p.markDead()
		close(p.exited)
		p.srv.Close()
	}()
	return p, nil
}

func newProcess(r *Runtime) *process {
	return &process{rt: r, pending: make(chan *invocation), inflight: map[string]*invocation{},
		exited: make(chan struct{}), ready: make(chan struct{}), initFailed: make(chan struct{})}
}

// process is one run of the bootstrap, with the API server it talks to.
// Each has its own listener, so a killed process cannot take an
// invocation meant for the next one.
type process struct {
	rt      *Runtime
	ln      net.Listener
	srv     *http.Server
	cmd     *exec.Cmd
	started time.Time
	pending chan *invocation

	exited     chan struct{} // closed when Wait returns
	ready      chan struct{} // closed at the first GET .../next
	readyOnce  sync.Once
	initFailed chan struct{} // closed when init/error is posted
	initErr    *InitError

	mu          sync.Mutex
	inflight    map[string]*invocation
	dead        bool
	killed      string
	waitErr     error
	firstNext   time.Time
	firstAnswer time.Time
}

type invocation struct {
	id         string
	payload    []byte
	timeout    time.Duration
	deadline   time.Time     // set when dispatched
	dispatched chan struct{} // closed once the payload is sent
	done       chan answer
}

type answer struct {
	body    []byte
	isError bool
}

func (p *process) isReady() bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

func (p *process) isDead() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead
}

func (p *process) markDead() {
	p.mu.Lock()
	p.dead = true
	p.mu.Unlock()
}

// kill ends the process at once, as Lambda ends an environment that timed
// out or failed to initialise.
func (p *process) kill(why string) {
	p.mu.Lock()
	if p.killed == "" && !p.dead {
		p.killed = why
	}
	p.dead = true
	p.mu.Unlock()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	p.srv.Close()
	<-p.exited
}

// stop asks the process to end (SIGTERM), then kills it.
func (p *process) stop() {
	p.mu.Lock()
	if p.killed == "" && !p.dead {
		p.killed = "close"
	}
	p.dead = true
	p.mu.Unlock()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	p.srv.Close()
}

// ended is the outcome of invocation id when the process exited first:
// its init error if it sent one, else the exit.
func (p *process) ended(id string) (response, errorPayload []byte, err error) {
	p.mu.Lock()
	initErr, waitErr := p.initErr, p.waitErr
	p.mu.Unlock()
	if initErr != nil {
		return nil, initErr.Payload, initErr
	}
	status := "exit status 0"
	if waitErr != nil {
		status = waitErr.Error()
	}
	msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", id, status)
	return nil, errorJSON("Runtime.ExitError", msg), &ExitError{Err: waitErr, Output: p.rt.logs.Bytes()}
}

func timeoutPayload(id string, d time.Duration) []byte {
	b, _ := json.Marshal(map[string]string{
		"errorType":    "Sandbox.Timedout",
		"errorMessage": fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", id, d.Seconds()),
	})
	return b
}

func (p *process) describe() Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := Process{Started: p.started, Pid: p.cmd.Process.Pid, Killed: p.killed, ExitErr: p.waitErr}
	select {
	case <-p.exited:
		d.Exited = true
	default:
	}
	if !p.firstNext.IsZero() {
		d.Init = p.firstNext.Sub(p.started)
	}
	if !p.firstAnswer.IsZero() {
		d.FirstAnswer = p.firstAnswer.Sub(p.started)
	}
	return d
}

// handler serves the Runtime API's four calls.
func (p *process) handler() http.Handler {
	mux := http.NewServeMux()
	base := "/" + apiVersion + "/runtime"
	mux.HandleFunc("GET "+base+"/invocation/next", p.next)
	mux.HandleFunc("POST "+base+"/invocation/{id}/response", p.respond)
	mux.HandleFunc("POST "+base+"/invocation/{id}/error", p.fail)
	mux.HandleFunc("POST "+base+"/init/error", p.initError)
	return mux
}

// next is GET /runtime/invocation/next: it waits for an invocation and
// sends its payload with the invocation's headers.
func (p *process) next(w http.ResponseWriter, r *http.Request) {
	p.readyOnce.Do(func() {
		p.mu.Lock()
		p.firstNext = time.Now()
		p.mu.Unlock()
		close(p.ready)
	})
	var inv *invocation
	select {
	case inv = <-p.pending:
	case <-r.Context().Done():
		return
	case <-p.exited:
		return
	}
	inv.deadline = time.Now().Add(inv.timeout)
	p.mu.Lock()
	p.inflight[inv.id] = inv
	p.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(HeaderRequestID, inv.id)
	h.Set(HeaderDeadlineMS, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(HeaderInvokedFunctionARN, p.rt.FunctionARN())
	h.Set(HeaderTraceID, newTraceID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
	close(inv.dispatched)
}

// respond is POST /runtime/invocation/{id}/response.
func (p *process) respond(w http.ResponseWriter, r *http.Request) { p.answer(w, r, false) }

// fail is POST /runtime/invocation/{id}/error.
func (p *process) fail(w http.ResponseWriter, r *http.Request) { p.answer(w, r, true) }

func (p *process) answer(w http.ResponseWriter, r *http.Request, isError bool) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "read body: "+err.Error())
		return
	}
	p.mu.Lock()
	inv, ok := p.inflight[id]
	delete(p.inflight, id)
	if ok && p.firstAnswer.IsZero() {
		p.firstAnswer = time.Now()
	}
	p.mu.Unlock()
	if !ok {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in progress with id "+id)
		return
	}
	if len(body) > MaxResponseSize {
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseSize)
		inv.done <- answer{body: errorJSON("Function.ResponseSizeTooLarge", msg), isError: true}
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	// aws-lambda-go reports a response stream that failed part way in
	// trailers.
	if t := r.Trailer.Get(HeaderFunctionErrorType); t != "" && !isError {
		if b, err := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody)); err == nil {
			body = b
		} else {
			body = errorJSON(t, "the response stream failed")
		}
		isError = true
	}
	inv.done <- answer{body: body, isError: isError}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// initError is POST /runtime/init/error; allowed only before the first
// GET .../next.
func (p *process) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	if p.isReady() {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "init/error after the runtime asked for an invocation")
		return
	}
	p.mu.Lock()
	already := p.initErr != nil
	if !already {
		p.initErr = &InitError{Type: r.Header.Get(HeaderFunctionErrorType), Payload: body}
	}
	p.mu.Unlock()
	if already {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "init/error sent twice")
		return
	}
	close(p.initFailed)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorJSON(typ, msg))
}

func errorJSON(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return b
}

// newRequestID returns a UUID-shaped request id, as Lambda's are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID returns an X-Ray trace header.
func newTraceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), h[:24], h[24:40])
}
