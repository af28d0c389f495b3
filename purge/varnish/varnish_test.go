package varnish_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/varnishtest"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/purge/varnish"
	"github.com/offload-dev/offload/retry"
)

const host = "www.example.com"

// warm fetches path twice and checks MISS then HIT with the given body.
func warm(t *testing.T, v *varnishtest.Varnish, path, want string) {
	t.Helper()
	for _, cache := range []string{"MISS", "HIT"} {
		body, got, err := v.Get(host, path)
		if err != nil {
			t.Fatalf("%v\n%s", err, v.Log())
		}
		if body != want || got != cache {
			t.Fatalf("GET %s: got %q %s, want %q %s", path, body, got, want, cache)
		}
	}
}

// MISS → HIT → purge → MISS with the new content, through a real varnishd,
// for each method and item kind.
func TestPurgeRealVarnish(t *testing.T) {
	origin := varnishtest.NewOrigin(t)
	v := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})
	tests := []struct {
		method string
		item   func(path string) purge.Item
		host   string // Options.Host
	}{
		{"PURGE", func(p string) purge.Item { return purge.Paths(p)[0] }, host},
		{"BAN", func(p string) purge.Item { return purge.Paths(p)[0] }, host},
		{"PURGE", func(p string) purge.Item { return purge.URLs("https://" + host + p)[0] }, ""},
		{"BAN", func(p string) purge.Item { return purge.URLs("https://" + host + p)[0] }, ""},
	}
	for i, tt := range tests {
		it := tt.item("/x")
		t.Run(fmt.Sprintf("%s_%s", tt.method, it.Kind), func(t *testing.T) {
			path := fmt.Sprintf("/docs/%d/a%%20b.html?v=1", i)
			other := fmt.Sprintf("/docs/%d/other.html", i)
			origin.Set(host, path, "old")
			origin.Set(host, other, "other")
			warm(t, v, path, "old")
			warm(t, v, other, "other")

			origin.Set(host, path, "new")
			c, err := varnish.New(varnish.Options{Endpoints: []string{v.URL}, Method: tt.method, Host: tt.host})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Purge(context.Background(), purge.Request{Items: []purge.Item{tt.item(path)}})
			if err != nil {
				t.Fatalf("Purge: %v", err)
			}
			if !res.Outcomes[0].OK {
				t.Fatalf("outcome: %+v", res.Outcomes[0])
			}
			warm(t, v, path, "new")
			if body, cache, _ := v.Get(host, other); body != "other" || cache != "HIT" {
				t.Errorf("other page: got %q %s, want it still cached (HIT)", body, cache)
			}
			if got := origin.Hits(host, path); got != 2 {
				t.Errorf("origin fetches: got %d, want 2", got)
			}
		})
	}
}

// Every endpoint must take the purge: one that refuses fails the item,
// naming the endpoint and keeping its message, while the other is purged.
func TestEveryEndpoint(t *testing.T) {
	origin := varnishtest.NewOrigin(t)
	open := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})
	closed := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{Allow: []string{"192.0.2.1"}})
	origin.Set(host, "/a.html", "old")
	warm(t, open, "/a.html", "old")
	warm(t, closed, "/a.html", "old")
	origin.Set(host, "/a.html", "new")

	sleeper := purgetest.NewSleeper()
	c, err := varnish.New(varnish.Options{Endpoints: []string{open.URL, closed.URL}, Host: host, Retry: sleeper.Policy()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths("/a.html")})
	var pe *purge.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *purge.PartialError", err)
	}
	o := res.Outcomes[0]
	for _, want := range []string{"varnish: PURGE " + closed.URL + "/a.html (Host " + host + ")", "405", "PURGE not allowed from 127.0.0.1"} {
		if !strings.Contains(o.Err, want) {
			t.Errorf("got error %q, want %q in it", o.Err, want)
		}
	}
	if strings.Contains(o.Err, open.URL) {
		t.Errorf("got error %q, want no mention of the endpoint that succeeded", o.Err)
	}
	if w := sleeper.Waits(); len(w) != 0 {
		t.Errorf("waits: got %v, want none (405 is final)", w)
	}
	warm(t, open, "/a.html", "new")
	if body, cache, _ := closed.Get(host, "/a.html"); body != "old" || cache != "HIT" {
		t.Errorf("refusing cache: got %q %s, want the old copy still cached", body, cache)
	}

	// Both allow it: the item is purged from both.
	both := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})
	warm(t, both, "/a.html", "new")
	origin.Set(host, "/a.html", "newer")
	c, _ = varnish.New(varnish.Options{Endpoints: []string{open.URL, both.URL}, Host: host})
	res, err = c.Purge(context.Background(), purge.Request{Items: purge.Paths("/a.html")})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.Calls); got != 2 {
		t.Errorf("calls: got %d, want 2 (one per endpoint)", got)
	}
	warm(t, open, "/a.html", "newer")
	warm(t, both, "/a.html", "newer")
}

// The conformance suite, through a proxy in front of a real varnishd that
// fails requests when the suite says so.
func TestConformance(t *testing.T) {
	origin := varnishtest.NewOrigin(t)
	v := varnishtest.Start(t, varnishtest.HostPort(origin.URL), varnishtest.Options{})
	u, _ := url.Parse(v.URL)
	purgetest.Run(t, purgetest.Harness{
		New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
			rp := httputil.NewSingleHostReverseProxy(u)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != "PURGE" || r.Host != host {
					http.Error(w, "unexpected "+r.Method+" with Host "+r.Host, http.StatusTeapot)
					return
				}
				if f := b.Receive([]string{r.URL.RequestURI()}); f != nil {
					f.SetRetryAfter(w.Header())
					http.Error(w, f.Message, f.Status())
					return
				}
				rp.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			c, err := varnish.New(varnish.Options{Endpoints: []string{srv.URL}, Host: host, Retry: p, Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Concurrency: 2,
		Unsupported: purge.Item{Kind: purge.KindTag, Value: "t"},
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		opts varnish.Options
		want string // "" for no error
	}{
		{"ok", varnish.Options{Endpoints: []string{"http://127.0.0.1:6081"}}, ""},
		{"ban", varnish.Options{Endpoints: []string{"http://127.0.0.1:6081"}, Method: "ban"}, ""},
		{"no endpoint", varnish.Options{}, "varnish: Options.Endpoints: at least one is required"},
		{"bad endpoint", varnish.Options{Endpoints: []string{"http://h", "127.0.0.1:6081"}}, `varnish: Options.Endpoints[1] "127.0.0.1:6081": want an http://`},
		{"bad method", varnish.Options{Endpoints: []string{"http://h"}, Method: "DELETE"}, `varnish: Options.Method "DELETE": want PURGE or BAN`},
		{"negative concurrency", varnish.Options{Endpoints: []string{"http://h"}, Concurrency: -2}, "varnish: Options.Concurrency -2 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := varnish.New(tt.opts)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func BenchmarkRequests10k(b *testing.B) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	urls := make([]string, 10000)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://www.example.com/site/dir%03d/page%05d.html", i%100, i)
	}
	c, _ := varnish.New(varnish.Options{Endpoints: []string{srv.URL}, Concurrency: 8})
	req := purge.Request{Items: purge.URLs(urls...)}
	for b.Loop() {
		res, err := c.Purge(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		calls = len(res.Calls)
	}
	b.ReportMetric(float64(calls), "requests")
}
