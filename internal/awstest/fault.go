package awstest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Fault is an error the proxy answers instead of forwarding, shaped as the
// AWS service would send it; or, with Forward, after forwarding.
type Fault struct {
	Op      string // operation to fail, as Operation names it; "" fails any
	Body    string // fail only requests whose body contains this; "" fails any
	Times   int    // how many matching requests to fail; < 0 means until cleared
	Status  int    // HTTP status, 400 for most AWS errors
	Code    string // "ThrottlingException", "AccessDeniedException", ...
	Message string

	// Forward sends the request on and waits for the backend's answer
	// before failing: the backend did the work, and the client never
	// learns it (the answer is lost).
	Forward bool
	// Drop closes the connection without an answer instead of sending
	// Status and Code: a client sees the connection break.
	Drop bool
	// Hang reads the request and never answers, until the client gives up
	// or the proxy is closed: a store that stopped answering.
	Hang bool
}

// FaultProxy forwards to a real endpoint (moto) and answers with injected
// faults where told to: the failures moto itself never produces, before the
// request reaches it or after (a lost answer).
type FaultProxy struct {
	*httptest.Server

	mu     sync.Mutex
	faults []*Fault
	served map[string]int // faults answered, by operation
}

// NewFaultProxy starts a proxy on 127.0.0.1 in front of target. Close it when done.
func NewFaultProxy(target string) *FaultProxy {
	u, err := url.Parse(target)
	if err != nil {
		panic(fmt.Sprintf("awstest: fault proxy target %q: %v", target, err))
	}
	p := &FaultProxy{served: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = Transport()
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if f := p.take(Operation(r), body); f != nil {
			if f.Hang {
				<-r.Context().Done()
				return
			}
			if f.Forward {
				rp.ServeHTTP(httptest.NewRecorder(), r)
			}
			if f.Drop {
				drop(w)
				return
			}
			writeFault(w, r, f)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	return p
}

// Inject adds a fault; faults are matched in the order they were added.
func (p *FaultProxy) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// Clear removes every fault still pending.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Served returns how many faults were answered for op ("" for all).
func (p *FaultProxy) Served(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op != "" {
		return p.served[op]
	}
	n := 0
	for _, v := range p.served {
		n += v
	}
	return n
}

func (p *FaultProxy) take(op string, body []byte) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.faults {
		if (f.Op != "" && f.Op != op) || (f.Body != "" && !bytes.Contains(body, []byte(f.Body))) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				p.faults = append(p.faults[:i], p.faults[i+1:]...)
			}
		}
		p.served[op]++
		c := *f
		return &c
	}
	return nil
}

// writeFault answers as AWS does: JSON for the JSON protocols (they send
// X-Amz-Target), XML for the REST-XML ones: S3's bare <Error>, CloudFront's
// <ErrorResponse>.
func writeFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("X-Amzn-Requestid", "awstest-fault")
	if r.Header.Get("X-Amz-Target") != "" || r.Header.Get("Content-Type") == "application/json" {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", f.Code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, f.Code, f.Message)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if strings.HasPrefix(r.URL.Path, "/20") {
		// CloudFront and the other dated REST-XML APIs wrap the error.
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>awstest-fault</RequestId></ErrorResponse>`, f.Code, f.Message)
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>awstest-fault</RequestId></Error>`, f.Code, f.Message)
}

// drop closes the client's connection without writing anything.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("awstest: drop the connection: %v", err))
	}
	conn.Close()
}
