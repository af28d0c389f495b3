package awstest

import (
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Counter is an http.RoundTripper that counts the API calls that pass through
// it, by operation: the X-Amz-Target operation for JSON protocols
// ("GetParameters"), otherwise "METHOD /path".
type Counter struct {
	Next http.RoundTripper // default http.DefaultTransport

	mu     sync.Mutex
	counts map[string]int
}

// NewCounter returns a Counter over a fresh transport.
func NewCounter() *Counter {
	return &Counter{Next: Transport()}
}

// RoundTrip counts the request and sends it on.
func (c *Counter) RoundTrip(r *http.Request) (*http.Response, error) {
	op := Operation(r)
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[op]++
	c.mu.Unlock()
	next := c.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err != nil {
		c.uncount(op)
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, undo: func() { c.uncount(op) }}
	return resp, nil
}

// uncount takes back a call whose answer never arrived whole: the test
// config's retryer sends it again, and a count is of calls answered.
func (c *Counter) uncount(op string) {
	c.mu.Lock()
	c.counts[op]--
	c.mu.Unlock()
}

type countedBody struct {
	io.ReadCloser
	undo func()
	once sync.Once
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.once.Do(b.undo)
	}
	return n, err
}

// Count returns how many calls of op were made; with no op, all calls.
func (c *Counter) Count(op ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(op) == 0 {
		n := 0
		for _, v := range c.counts {
			n += v
		}
		return n
	}
	n := 0
	for _, o := range op {
		n += c.counts[o]
	}
	return n
}

// Counts returns a copy of the counts by operation.
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// String lists the counts, sorted, for failure messages.
func (c *Counter) String() string {
	m := c.Counts()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(strconv.Itoa(m[k]))
	}
	return b.String()
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.counts = nil
	c.mu.Unlock()
}

// Operation names the API operation of an SDK request.
func Operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return t[i+1:]
		}
		return t
	}
	return r.Method + " " + r.URL.Path
}
