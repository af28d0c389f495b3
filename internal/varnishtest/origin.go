package varnishtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Origin is an HTTP origin on 127.0.0.1 whose content the test sets, and
// which counts the requests it serves.
type Origin struct {
	*httptest.Server

	mu    sync.Mutex
	body  map[string]string // by host+path
	count map[string]int
}

// NewOrigin starts an origin and closes it when the test ends. A path it has
// no content for answers 404.
func NewOrigin(tb testing.TB) *Origin {
	o := &Origin{body: map[string]string{}, count: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	tb.Cleanup(o.Close)
	return o
}

// Set sets what host+path answers.
func (o *Origin) Set(host, path, body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.body[host+path] = body
}

// Hits returns how many times host+path was fetched.
func (o *Origin) Hits(host, path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count[host+path]
}

func (o *Origin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	k := r.Host + r.URL.RequestURI()
	o.count[k]++
	body, ok := o.body[k]
	o.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, body)
}
