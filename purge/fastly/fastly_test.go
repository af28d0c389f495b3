package fastly_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/fastly"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/retry"
)

func TestConformanceKeys(t *testing.T) {
	purgetest.Run(t, purgetest.Harness{
		New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
			f := newFake(t, b)
			c, err := fastly.New(fastly.Options{Token: f.token, ServiceID: f.serviceID, APIURL: f.URL, Retry: p, Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Item:        func(i int) purge.Item { return purge.Tags(fmt.Sprintf("key-%d", i))[0] },
		Concurrency: 2,
		Unsupported: purge.Item{Kind: purge.KindCPCode, Value: "123"},
	})
}

func TestConformanceURLs(t *testing.T) {
	purgetest.Run(t, purgetest.Harness{
		New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
			f := newFake(t, b)
			c, err := fastly.New(fastly.Options{Token: f.token, APIURL: f.URL, Retry: p, Concurrency: 3})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Item:        func(i int) purge.Item { return purge.URLs(fmt.Sprintf("https://www.example.com/p/%d.html", i))[0] },
		Key:         func(it purge.Item) string { return strings.TrimPrefix(it.Value, "https://") },
		Concurrency: 3,
	})
}

// What is sent: the API paths, the soft-purge header, the batch limit (the
// fake refuses more than 256 keys, so a larger KeysPerCall must be clamped).
func TestRequests(t *testing.T) {
	var keys []string
	for i := range 600 {
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	tests := []struct {
		name      string
		opts      fastly.Options
		items     []purge.Item
		wantPaths []string
		wantSoft  []string
	}{
		{"url", fastly.Options{}, purge.URLs("https://www.example.com/docs/a%20b.html?v=1"),
			[]string{"/purge/www.example.com/docs/a%20b.html?v=1"}, []string{""}},
		{"soft url", fastly.Options{Soft: true}, purge.URLs("https://www.example.com/"),
			[]string{"/purge/www.example.com/"}, []string{"1"}},
		{"path joined to base", fastly.Options{BaseURL: "https://www.example.com/"}, purge.Paths("/a.html"),
			[]string{"/purge/www.example.com/a.html"}, []string{""}},
		{"keys at the default 256 a call", fastly.Options{Soft: true}, purge.Tags(keys...),
			[]string{"/service/SU1Z0isxPaozGVKXdv0eY/purge", "/service/SU1Z0isxPaozGVKXdv0eY/purge", "/service/SU1Z0isxPaozGVKXdv0eY/purge"},
			[]string{"1", "1", "1"}},
		{"purge all is never soft", fastly.Options{Soft: true}, []purge.Item{{Kind: purge.KindAll}},
			[]string{"/service/SU1Z0isxPaozGVKXdv0eY/purge_all"}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, nil)
			tt.opts.Token, tt.opts.ServiceID, tt.opts.APIURL, tt.opts.Concurrency = f.token, f.serviceID, f.URL, 1
			c, err := fastly.New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Purge(context.Background(), purge.Request{Items: tt.items})
			if err != nil {
				t.Fatalf("Purge: %v", err)
			}
			paths, soft := f.accepted()
			if !slices.Equal(paths, tt.wantPaths) {
				t.Errorf("paths: got %v, want %v", paths, tt.wantPaths)
			}
			if !slices.Equal(soft, tt.wantSoft) {
				t.Errorf("Fastly-Soft-Purge: got %q, want %q", soft, tt.wantSoft)
			}
			for _, o := range res.Outcomes {
				if !o.OK || o.ID == "" {
					t.Errorf("outcome %v: got ok=%v id=%q, want ok with Fastly's purge id", o.Item, o.OK, o.ID)
				}
			}
		})
	}
}

// Fastly's refusals reach the outcome with its message, are not retried,
// and never carry the token.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name  string
		token func(f *fakeFastly) string
		sid   string
		items []purge.Item
		want  []string
	}{
		{"bad token", func(*fakeFastly) string { return "wrong-token" }, "", purge.URLs("https://www.example.com/"),
			[]string{"fastly: POST ", "/purge/www.example.com/", "401 Unauthorized", "Provided credentials are missing or invalid"}},
		{"no purge scope", func(f *fakeFastly) string { return f.readOnly }, "", purge.Tags("a"),
			[]string{"403 Forbidden", "purge_select"}},
		{"unknown service", func(f *fakeFastly) string { return f.token }, "NOPE", purge.Tags("a"),
			[]string{"404 Not Found", "Couldn't find Service 'NOPE'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := purgetest.NewBackend()
			f := newFake(t, b)
			sid := tt.sid
			if sid == "" {
				sid = f.serviceID
			}
			sleeper := purgetest.NewSleeper()
			token := tt.token(f)
			c, _ := fastly.New(fastly.Options{Token: token, ServiceID: sid, APIURL: f.URL, Retry: sleeper.Policy()})
			res, err := c.Purge(context.Background(), purge.Request{Items: tt.items})
			var pe *purge.PartialError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *purge.PartialError", err)
			}
			msg := res.Outcomes[0].Err
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("got %q, want %q in it", msg, w)
				}
			}
			if strings.Contains(msg, token) || strings.Contains(err.Error(), token) {
				t.Errorf("the token appears in the error: %q", msg)
			}
			if w := sleeper.Waits(); len(w) != 0 {
				t.Errorf("waits: got %v, want none", w)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		opts fastly.Options
		want string
	}{
		{"ok", fastly.Options{Token: "t"}, ""},
		{"no token", fastly.Options{}, "fastly: Options.Token or Options.TokenFunc is required"},
		{"two tokens", fastly.Options{Token: "t", TokenFunc: func(context.Context) (string, error) { return "u", nil }}, "fastly: set Options.Token or Options.TokenFunc, not both"},
		{"too many keys", fastly.Options{Token: "t", KeysPerCall: 257}, "fastly: Options.KeysPerCall 257: want 0 (the default) to 256"},
		{"negative concurrency", fastly.Options{Token: "t", Concurrency: -1}, "fastly: Options.Concurrency -1 is negative"},
		{"bad api url", fastly.Options{Token: "t", APIURL: "api.fastly.com"}, `fastly: Options.APIURL "api.fastly.com" is not an absolute URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fastly.New(tt.opts)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	// Items that cannot be sent fail alone.
	c, _ := fastly.New(fastly.Options{Token: "t", APIURL: "http://127.0.0.1:1"})
	res, _ := c.Purge(context.Background(), purge.Request{Items: []purge.Item{purge.Paths("/a")[0], purge.Tags("k")[0]}})
	for i, want := range []string{"needs Options.BaseURL", "service id is required"} {
		if !strings.Contains(res.Outcomes[i].Err, want) {
			t.Errorf("outcome %d: got %q, want %q in it", i, res.Outcomes[i].Err, want)
		}
	}
}

func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.RequestURI(), "soft:", r.Header.Get("Fastly-Soft-Purge"))
		fmt.Fprint(w, `{"status":"ok","id":"108-1391560174-974124"}`)
	}))
	defer api.Close()

	c, _ := fastly.New(fastly.Options{Token: "token", APIURL: api.URL, Soft: true, BaseURL: "https://www.example.com"})
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths("/docs/index.html")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Outcomes[0].OK, res.Outcomes[0].ID)
	// Output:
	// POST /purge/www.example.com/docs/index.html soft: 1
	// true 108-1391560174-974124
}

func benchmark(b *testing.B, items []purge.Item) {
	f := newFake(b, nil)
	c, _ := fastly.New(fastly.Options{Token: f.token, ServiceID: f.serviceID, APIURL: f.URL})
	var calls int
	for b.Loop() {
		res, err := c.Purge(context.Background(), purge.Request{Items: items})
		if err != nil {
			b.Fatal(err)
		}
		calls = len(res.Calls)
	}
	b.ReportMetric(float64(calls), "requests")
}

func BenchmarkURLs10k(b *testing.B) {
	urls := make([]string, 10000)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://www.example.com/site/dir%03d/page%05d.html", i%100, i)
	}
	benchmark(b, purge.URLs(urls...))
}

func BenchmarkKeys10k(b *testing.B) {
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = fmt.Sprintf("page-%05d", i)
	}
	benchmark(b, purge.Tags(keys...))
}
