package cloudflare_test

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
	"github.com/offload-dev/offload/purge/cloudflare"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/retry"
)

func TestConformance(t *testing.T) {
	for _, limit := range []int{30, 100, 500} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			purgetest.Run(t, purgetest.Harness{
				New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
					f := newFake(t, b)
					f.urlLimit = limit
					c, err := cloudflare.New(cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL,
						URLsPerRequest: limit, Retry: p, Concurrency: 2})
					if err != nil {
						t.Fatal(err)
					}
					return c
				},
				Item:        func(i int) purge.Item { return purge.URLs(fmt.Sprintf("https://www.example.com/p/%d.html", i))[0] },
				Concurrency: 2,
				Unsupported: purge.Item{Kind: purge.KindCPCode, Value: "1"},
			})
		})
	}
}

func TestConformanceTags(t *testing.T) {
	purgetest.Run(t, purgetest.Harness{
		New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
			f := newFake(t, b)
			c, _ := cloudflare.New(cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL, Retry: p, Concurrency: 1})
			return c
		},
		Item: func(i int) purge.Item { return purge.Tags(fmt.Sprintf("tag-%d", i))[0] },
	})
}

// Each kind goes in its own requests, with Cloudflare's field names, and
// the fake's plan limits hold (it refuses more).
func TestBodies(t *testing.T) {
	items := []purge.Item{
		{Kind: purge.KindURL, Value: "https://www.example.com/a%20b.html"},
		{Kind: purge.KindPath, Value: "/c.html"},
		{Kind: purge.KindTag, Value: "product-42"},
		{Kind: purge.KindPrefix, Value: "https://www.example.com/docs/"},
		{Kind: purge.KindHost, Value: "images.example.com"},
		{Kind: purge.KindAll},
	}
	f := newFake(t, nil)
	c, _ := cloudflare.New(cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL, BaseURL: "https://www.example.com", Concurrency: 1})
	res, err := c.Purge(context.Background(), purge.Request{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range f.received() {
		for k, v := range b {
			got = append(got, k+"="+string(v))
		}
	}
	want := []string{
		`files=["https://www.example.com/a%20b.html","https://www.example.com/c.html"]`,
		`tags=["product-42"]`,
		`prefixes=["www.example.com/docs/"]`,
		`hosts=["images.example.com"]`,
		`purge_everything=true`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("bodies:\n got %q\nwant %q", got, want)
	}
	for _, o := range res.Outcomes {
		if !o.OK || !strings.HasPrefix(o.ID, "purge") {
			t.Errorf("outcome %v: got ok=%v id=%q, want ok with the purge id", o.Item, o.OK, o.ID)
		}
	}
}

func TestBatchSizes(t *testing.T) {
	urls := make([]string, 1001)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://www.example.com/%d", i)
	}
	for _, tt := range []struct{ perRequest, want int }{{30, 34}, {100, 11}, {500, 3}} {
		t.Run(fmt.Sprint(tt.perRequest), func(t *testing.T) {
			f := newFake(t, nil)
			f.urlLimit = tt.perRequest
			c, _ := cloudflare.New(cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL, URLsPerRequest: tt.perRequest})
			res, err := c.Purge(context.Background(), purge.Request{Items: purge.URLs(urls...)})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.Calls); got != tt.want {
				t.Errorf("requests: got %d, want %d", got, tt.want)
			}
		})
	}
}

// Cloudflare's refusals reach the outcome with its code and message, are
// not retried, and never carry the token.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeCloudflare, o *cloudflare.Options)
		items []purge.Item
		want  []string
	}{
		{"bad token", func(f *fakeCloudflare, o *cloudflare.Options) { o.Token = "not-the-token" },
			purge.URLs("https://www.example.com/"), []string{"403 Forbidden", "10000 Authentication error"}},
		{"unknown zone", func(f *fakeCloudflare, o *cloudflare.Options) { o.ZoneID = "0000" },
			purge.URLs("https://www.example.com/"), []string{"zone 0000", "404", "7003 Could not route"}},
		{"tags on a non-enterprise zone", func(f *fakeCloudflare, o *cloudflare.Options) { f.enterprise = false },
			purge.Tags("a"), []string{"purge tags", "1107 Only enterprise zones can purge by tag."}},
		{"more URLs than the plan allows", func(f *fakeCloudflare, o *cloudflare.Options) { o.URLsPerRequest = 100 },
			purge.URLs(strings.Split(strings.Repeat("https://www.example.com/x,", 31), ",")[:31]...),
			[]string{"1018 You may purge up to 30 files in one API call"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, nil)
			sleeper := purgetest.NewSleeper()
			opts := cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL, Retry: sleeper.Policy()}
			tt.setup(f, &opts)
			c, err := cloudflare.New(opts)
			if err != nil {
				t.Fatal(err)
			}
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
			if strings.Contains(msg, opts.Token) || strings.Contains(err.Error(), opts.Token) {
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
		opts cloudflare.Options
		want string
	}{
		{"ok", cloudflare.Options{ZoneID: "z", Token: "t"}, ""},
		{"no zone", cloudflare.Options{Token: "t"}, "cloudflare: Options.ZoneID is required"},
		{"no token", cloudflare.Options{ZoneID: "z"}, "cloudflare: Options.Token or Options.TokenFunc is required"},
		{"two tokens", cloudflare.Options{ZoneID: "z", Token: "t", TokenFunc: func(context.Context) (string, error) { return "u", nil }}, "cloudflare: set Options.Token or Options.TokenFunc, not both"},
		{"too many urls", cloudflare.Options{ZoneID: "z", Token: "t", URLsPerRequest: 1000}, "cloudflare: Options.URLsPerRequest 1000: want 0 (the default) to 500"},
		{"negative keys", cloudflare.Options{ZoneID: "z", Token: "t", KeysPerRequest: -1}, "Options.KeysPerRequest -1"},
		{"negative concurrency", cloudflare.Options{ZoneID: "z", Token: "t", Concurrency: -1}, "Options.Concurrency -1 is negative"},
		{"bad api url", cloudflare.Options{ZoneID: "z", Token: "t", APIURL: "nope"}, `cloudflare: Options.APIURL "nope" is not an absolute URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cloudflare.New(tt.opts)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(strings.Builder)
		_, _ = fmt.Fprint(body, r.Method, " ", r.URL.Path, " ")
		buf := make([]byte, 512)
		n, _ := r.Body.Read(buf)
		fmt.Println(body.String() + string(buf[:n]))
		fmt.Fprint(w, `{"success":true,"errors":[],"messages":[],"result":{"id":"9a7806061c88ada191ed06f989cc3dac"}}`)
	}))
	defer api.Close()

	c, _ := cloudflare.New(cloudflare.Options{ZoneID: "023e105f4ecef8ad9ca31a8372d0c353", Token: "token", APIURL: api.URL})
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.URLs("https://www.example.com/docs/")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Outcomes[0].OK, res.Outcomes[0].ID)
	// Output:
	// POST /zones/023e105f4ecef8ad9ca31a8372d0c353/purge_cache {"files":["https://www.example.com/docs/"]}
	// true 9a7806061c88ada191ed06f989cc3dac
}

func BenchmarkURLs10k(b *testing.B) {
	urls := make([]string, 10000)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://www.example.com/site/dir%03d/page%05d.html", i%100, i)
	}
	for _, per := range []int{30, 100, 500} {
		b.Run(fmt.Sprint(per), func(b *testing.B) {
			f := newFake(b, nil)
			f.urlLimit = per
			c, _ := cloudflare.New(cloudflare.Options{ZoneID: f.zone, Token: f.token, APIURL: f.URL, URLsPerRequest: per})
			var calls int
			for b.Loop() {
				res, err := c.Purge(context.Background(), purge.Request{Items: purge.URLs(urls...)})
				if err != nil {
					b.Fatal(err)
				}
				calls = len(res.Calls)
			}
			b.ReportMetric(float64(calls), "requests")
		})
	}
}
