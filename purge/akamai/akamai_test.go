package akamai_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
	"github.com/offload-dev/offload/purge/budget"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/retry"
)

const (
	clientToken  = "akab-client-token-test-0000000000000000"
	accessToken  = "akab-access-token-test-SECRETACCESS00000"
	clientSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXg9PQ="
)

var creds = akamaitest.Credentials{ClientToken: clientToken, ClientSecret: clientSecret, AccessToken: accessToken}

// newServer starts a Fast Purge test server.
func newServer(t *testing.T) *akamaitest.FastPurge {
	t.Helper()
	f := akamaitest.NewFastPurge(creds)
	t.Cleanup(f.Close)
	return f
}

// newClient returns a client of f; tweak adjusts its options.
func newClient(t *testing.T, f *akamaitest.FastPurge, tweak ...func(*akamai.Options)) *akamai.Client {
	t.Helper()
	opts := akamai.Options{
		Config: &edgegrid.Config{Host: strings.TrimPrefix(f.URL, "https://"), ClientToken: clientToken,
			ClientSecret: clientSecret, AccessToken: accessToken},
		HTTPClient: f.Client(),
		BaseURL:    "https://www.example.com",
	}
	for _, fn := range tweak {
		fn(&opts)
	}
	c, err := akamai.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func urls(n int) []purge.Item {
	out := make([]purge.Item, n)
	for i := range out {
		out[i] = purge.URLs(fmt.Sprintf("https://www.example.com/docs/page-%05d.html", i))[0]
	}
	return out
}

func TestConformance(t *testing.T) {
	for _, kind := range []purge.Kind{purge.KindURL, purge.KindTag, purge.KindCPCode} {
		t.Run(string(kind), func(t *testing.T) {
			item := func(i int) purge.Item {
				switch kind {
				case purge.KindTag:
					return purge.Tags(fmt.Sprintf("tag-%d", i))[0]
				case purge.KindCPCode:
					return purge.Item{Kind: purge.KindCPCode, Value: fmt.Sprint(100000 + i)}
				}
				return purge.URLs(fmt.Sprintf("https://www.example.com/purgetest/%d.html", i))[0]
			}
			purgetest.Run(t, purgetest.Harness{
				New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
					f := newServer(t)
					f.Backend = b
					return newClient(t, f, func(o *akamai.Options) { o.Retry, o.ItemsPerCall, o.Concurrency = p, 4, 2 })
				},
				Item:        item,
				Concurrency: 2,
				Unsupported: purge.Item{Kind: purge.KindPrefix, Value: "https://www.example.com/docs/"},
			})
		})
	}
}

// What goes on the wire: the API path for each action, kind and network,
// and the objects in Akamai's types (CP codes as numbers).
func TestRequests(t *testing.T) {
	tests := []struct {
		name      string
		opts      func(*akamai.Options)
		items     []purge.Item
		wantPaths []string
		wantObjs  [][]string
	}{
		{"url invalidate production", nil, purge.URLs("https://www.example.com/a b.html?x=1&y=2"),
			[]string{"/ccu/v3/invalidate/url/production"}, [][]string{{"https://www.example.com/a b.html?x=1&y=2"}}},
		{"path joined to BaseURL, delete staging", func(o *akamai.Options) { o.Action, o.Network = akamai.Delete, akamai.Staging },
			purge.Paths("/docs/a%20b.html"),
			[]string{"/ccu/v3/delete/url/staging"}, [][]string{{"https://www.example.com/docs/a%20b.html"}}},
		{"tags", nil, purge.Tags("t1", "t2"), []string{"/ccu/v3/invalidate/tag/production"}, [][]string{{"t1", "t2"}}},
		{"cpcodes", nil, []purge.Item{{Kind: purge.KindCPCode, Value: "123456"}, {Kind: purge.KindCPCode, Value: "42"}},
			[]string{"/ccu/v3/invalidate/cpcode/production"}, [][]string{{"123456", "42"}}},
		{"kinds in separate calls", func(o *akamai.Options) { o.Concurrency = 1 },
			[]purge.Item{purge.Tags("t")[0], purge.URLs("https://e.com/")[0], purge.Tags("u")[0]},
			[]string{"/ccu/v3/invalidate/tag/production", "/ccu/v3/invalidate/url/production"},
			[][]string{{"t", "u"}, {"https://e.com/"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServer(t)
			var tweaks []func(*akamai.Options)
			if tt.opts != nil {
				tweaks = append(tweaks, tt.opts)
			}
			c := newClient(t, f, tweaks...)
			res, err := c.Purge(context.Background(), purge.Request{Items: tt.items})
			if err != nil {
				t.Fatalf("Purge: got %v, want nil", err)
			}
			got := f.Received()
			var paths []string
			var objs [][]string
			for _, r := range got {
				paths = append(paths, r.Path)
				objs = append(objs, r.Objects)
			}
			slices.Sort(paths)
			want := slices.Clone(tt.wantPaths)
			slices.Sort(want)
			if !slices.Equal(paths, want) {
				t.Errorf("paths: got %v, want %v", paths, want)
			}
			for _, w := range tt.wantObjs {
				if !slices.ContainsFunc(objs, func(o []string) bool { return slices.Equal(o, w) }) {
					t.Errorf("objects: got %v, want a call with %v", objs, w)
				}
			}
			for _, call := range res.Calls {
				if !strings.HasPrefix(call.ID, "edcp-") || !strings.HasPrefix(call.SupportID, "17PY") ||
					call.Estimated != 5*time.Second || call.Status != "Request accepted" {
					t.Errorf("call: got %+v, want purgeId, supportId, 5s estimate and Akamai's detail", call)
				}
			}
			for _, o := range res.Outcomes {
				if !o.OK || !strings.HasPrefix(o.ID, "edcp-") {
					t.Errorf("outcome %v: got ok=%v id=%q, want ok with the purgeId", o.Item, o.OK, o.ID)
				}
			}
		})
	}
}

// 10,000 URLs go in as few calls as the 50,000-byte limit allows, none over
// it (the server answers 413 past it), none refused.
func TestBodyLimit(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		maxBody   int
		wantCalls int
	}{
		// Each URL is 44 bytes, 46 quoted, 47 with its comma:
		// (50000 - len(`{"objects":[]}`) + 1) / 47 = 1063 a call.
		{"default limit", 10000, 0, 10},
		{"one over a full body", 1064, 0, 2},
		{"exactly full", 1063, 0, 1},
		{"lower limit", 100, 1000, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServer(t)
			c := newClient(t, f, func(o *akamai.Options) { o.MaxBodyBytes = tt.maxBody })
			res, err := c.Purge(context.Background(), purge.Request{Items: urls(tt.n)})
			if err != nil {
				t.Fatalf("Purge: got %v, want nil", err)
			}
			got := f.Received()
			if len(got) != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", len(got), tt.wantCalls)
			}
			limit := akamai.MaxBodyBytes
			if tt.maxBody > 0 {
				limit = tt.maxBody
			}
			total := 0
			for _, r := range got {
				if r.BodyBytes > limit || r.Status != http.StatusCreated {
					t.Errorf("call: got %d bytes, status %d, want at most %d bytes, 201", r.BodyBytes, r.Status, limit)
				}
				total += len(r.Objects)
			}
			if total != tt.n || len(res.Outcomes) != tt.n {
				t.Errorf("objects sent: got %d (outcomes %d), want %d", total, len(res.Outcomes), tt.n)
			}
		})
	}
}

// The test server refuses what Akamai refuses.
func TestServerRefuses(t *testing.T) {
	f := newServer(t)
	cfg := edgegrid.Config{Host: strings.TrimPrefix(f.URL, "https://"), ClientToken: clientToken,
		ClientSecret: clientSecret, AccessToken: accessToken, MaxBody: edgegrid.MaxBodySize}
	big := `{"objects":["` + strings.Repeat("x", akamai.MaxBodyBytes) + `"]}`
	tests := []struct {
		name   string
		body   string
		mangle func(r *http.Request)
		want   int
		detail string
	}{
		{"body over 50,000 bytes", big, nil, http.StatusRequestEntityTooLarge, "larger than the limit"},
		{"wrong signature", `{"objects":["https://e.com/"]}`, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "signature=", "signature=x", 1))
		}, http.StatusUnauthorized, "signature does not match"},
		{"body changed after signing", `{"objects":["https://e.com/"]}`, func(r *http.Request) {
			r.Body = http.NoBody
			r.Body = nopCloser(`{"objects":["https://e.com/b"]}`)
			r.ContentLength = int64(len(`{"objects":["https://e.com/b"]}`))
		}, http.StatusUnauthorized, "signature does not match"},
		{"stale timestamp", `{"objects":["https://e.com/"]}`, func(r *http.Request) {
			resign(r, cfg, time.Now().Add(-31*time.Second), `{"objects":["https://e.com/"]}`)
		}, http.StatusUnauthorized, "timestamp"},
		{"fresh timestamp re-signed", `{"objects":["https://e.com/"]}`, func(r *http.Request) {
			resign(r, cfg, time.Now().Add(-20*time.Second), `{"objects":["https://e.com/"]}`)
		}, http.StatusCreated, ""},
		{"cpcode as string", `{"objects":["123"]}`, func(r *http.Request) {
			r.URL.Path = "/ccu/v3/invalidate/cpcode/production"
			cfg.SignRequest(r)
		}, http.StatusBadRequest, "CP codes must be numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, f.URL+"/ccu/v3/invalidate/url/production", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			cfg.SignRequest(r)
			if tt.mangle != nil {
				tt.mangle(r)
			}
			resp, err := f.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			if resp.StatusCode != tt.want || !strings.Contains(buf.String(), tt.detail) {
				t.Errorf("got %d %s, want %d with %q", resp.StatusCode, buf.String(), tt.want, tt.detail)
			}
		})
	}
	// A replayed request (same nonce) is refused.
	r, _ := http.NewRequest(http.MethodPost, f.URL+"/ccu/v3/invalidate/url/production", strings.NewReader(`{"objects":["https://e.com/"]}`))
	r.Header.Set("Content-Type", "application/json")
	cfg.SignRequest(r)
	auth := r.Header.Get("Authorization")
	for i, want := range []int{http.StatusCreated, http.StatusUnauthorized} {
		r2, _ := http.NewRequest(http.MethodPost, r.URL.String(), strings.NewReader(`{"objects":["https://e.com/"]}`))
		r2.Header = r.Header.Clone()
		r2.Header.Set("Authorization", auth)
		resp, err := f.Client().Do(r2)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("replay %d: got %d, want %d", i, resp.StatusCode, want)
		}
	}
}

func nopCloser(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// resign signs r as the EdgeGrid spec says, at the given time.
func resign(r *http.Request, cfg edgegrid.Config, at time.Time, body string) {
	ts := edgegrid.Timestamp(at)
	a := akamaitest.Auth{ClientToken: cfg.ClientToken, AccessToken: cfg.AccessToken, Timestamp: ts, Nonce: fmt.Sprint(at.UnixNano())}
	data := akamaitest.DataToSign(r.Method, r.URL.Host, r.URL.EscapedPath(), r.Header, []byte(body), creds) + a.Prefix()
	r.Header.Set("Authorization", a.Prefix()+"signature="+akamaitest.Sign(cfg.ClientSecret, ts, data))
}

// Akamai's refusals reach the caller with its title, detail and supportId,
// are not retried, and never carry a secret.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		items  []purge.Item
		want   []string
	}{
		{"wrong secret", "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZz0=", urls(1),
			[]string{"akamai: invalidate url production: HTTP 401", "Not authorized", "signature does not match", "supportId req"}},
		{"invalid object", clientSecret, []purge.Item{purge.Tags("bad")[0]},
			[]string{"akamai: invalidate tag production: HTTP 400", "Bad request", "no such tag", "supportId 17PY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServer(t)
			b := purgetest.NewBackend()
			b.Fail(purgetest.Fault{Kind: purgetest.Invalid, Times: -1, Key: "bad", Message: "no such tag"})
			f.Backend = b
			s := purgetest.NewSleeper()
			c := newClient(t, f, func(o *akamai.Options) { o.Config.ClientSecret = tt.secret; o.Retry = s.Policy() })
			res, err := c.Purge(context.Background(), purge.Request{Items: tt.items})
			var pe *purge.PartialError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *purge.PartialError", err)
			}
			msg := res.Outcomes[0].Err
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("outcome error: got %q, want %q in it", msg, w)
				}
			}
			if res.Calls[0].SupportID == "" || res.Calls[0].Attempts != 1 {
				t.Errorf("call: got %+v, want the supportId and 1 attempt", res.Calls[0])
			}
			if w := s.Waits(); len(w) != 0 {
				t.Errorf("waits: got %v, want none", w)
			}
			all := fmt.Sprintf("%v %+v %#v %v %s %s", err, res, res, c, c, c.String())
			for _, secret := range []string{clientSecret, tt.secret, accessToken} {
				if strings.Contains(all, secret) {
					t.Errorf("a secret appears in errors or results: %s", all)
				}
			}
		})
	}
}

// 429s are waited out as the X-Ratelimit-* headers say, on a fake clock
// shared by the server's token buckets and the retry policy. The client
// spends no budget of its own here (another client of the account spent
// the tokens), so the server's buckets are what refuse.
func TestRateLimits(t *testing.T) {
	cpcodes := func(n int) []purge.Item {
		out := make([]purge.Item, n)
		for i := range out {
			out[i] = purge.Item{Kind: purge.KindCPCode, Value: fmt.Sprint(1000 + i)}
		}
		return out
	}
	tags := func(n int) []purge.Item {
		out := make([]purge.Item, n)
		for i := range out {
			out[i] = purge.Tags(fmt.Sprint("t", i))[0]
		}
		return out
	}
	tests := []struct {
		name      string
		items     []purge.Item
		perCall   int
		wantCalls int // accepted
		want429   int
		minWait   time.Duration
	}{
		// 100 requests in the bucket, then one every 20ms.
		{"requests", urls(120), 1, 120, 20, 20 * time.Millisecond},
		// 10,000 URLs in the bucket, refilled at 200/s: a 1,000-URL call waits 5s.
		{"urls", urls(12000), 1000, 12, 2, 5 * time.Second},
		// 300 CP codes, refilled at 30/min: one more waits 2s.
		{"cpcodes", cpcodes(301), 0, 2, 1, 2 * time.Second},
		// 5,000 tags, refilled at 500/min: 100 more wait 12s.
		{"tags", tags(5100), 0, 2, 1, 12 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServer(t)
			s := purgetest.NewSleeper()
			f.Now = s.Now
			p := s.Policy()
			p.MaxAttempts, p.Initial = 3, time.Millisecond // backoff below the waits Akamai asks for
			c := newClient(t, f, func(o *akamai.Options) {
				o.Retry, o.ItemsPerCall, o.Concurrency, o.Budget = p, tt.perCall, 1, budget.Unlimited()
			})
			res, err := c.Purge(context.Background(), purge.Request{Items: tt.items})
			if err != nil {
				t.Fatalf("Purge: got %v, want nil", err)
			}
			var ok, throttled int
			for _, r := range f.Received() {
				switch r.Status {
				case http.StatusCreated:
					ok++
				case http.StatusTooManyRequests:
					throttled++
				}
			}
			if ok != tt.wantCalls || throttled != tt.want429 {
				t.Errorf("answers: got %d accepted, %d throttled, want %d, %d", ok, throttled, tt.wantCalls, tt.want429)
			}
			waits := s.Waits()
			if len(waits) != tt.want429 {
				t.Errorf("waits: got %d, want %d", len(waits), tt.want429)
			}
			for _, w := range waits {
				if w < tt.minWait || w > tt.minWait+10*time.Millisecond {
					t.Errorf("wait: got %v, want about %v (from X-Ratelimit-*)", w, tt.minWait)
				}
			}
			if len(res.Failed()) != 0 {
				t.Errorf("failed: got %v, want none", res.Failed())
			}
		})
	}
}

// Items Akamai cannot take fail alone, with a reason.
func TestBadItems(t *testing.T) {
	f := newServer(t)
	c := newClient(t, f, func(o *akamai.Options) { o.BaseURL = "" })
	items := []purge.Item{
		purge.Paths("/no-base.html")[0],
		{Kind: purge.KindCPCode, Value: "12ab"},
		purge.URLs("ftp://e.com/x")[0],
		{Kind: purge.KindAll},
		purge.URLs("https://e.com/" + strings.Repeat("x", akamai.MaxBodyBytes))[0],
		purge.URLs("https://e.com/ok")[0],
	}
	res, err := c.Purge(context.Background(), purge.Request{Items: items})
	var pe *purge.PartialError
	if !errors.As(err, &pe) || pe.Failed != 5 {
		t.Fatalf("got %v, want 5 of 6 failed", err)
	}
	wants := []string{"needs Options.BaseURL", "not a positive integer", "not an absolute http(s) URL",
		purge.ErrUnsupported.Error(), "over the limit of 50000 bytes", ""}
	for i, w := range wants {
		o := res.Outcomes[i]
		if w == "" {
			if !o.OK {
				t.Errorf("outcome %v: got %q, want ok", o.Item, o.Err)
			}
			continue
		}
		if o.OK || !strings.Contains(o.Err, w) {
			t.Errorf("outcome %v: got ok=%v %q, want failed with %q", o.Item, o.OK, o.Err, w)
		}
	}
}

// Status: in progress until estimatedSeconds have passed since acceptance.
func TestStatus(t *testing.T) {
	f := newServer(t)
	f.Estimated = 7
	clock := fakeclock.New()
	c := newClient(t, f, func(o *akamai.Options) { o.Now = clock.Now })
	res, err := c.Purge(context.Background(), purge.Request{Items: urls(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := res.IDs()[0]
	for _, tt := range []struct {
		after time.Duration
		done  bool
		state string
	}{{0, false, "InProgress"}, {6 * time.Second, false, "InProgress"}, {time.Second, true, "Done"}} {
		clock.Advance(tt.after)
		st, err := c.Status(context.Background(), id)
		if err != nil || st.Done != tt.done || st.State != tt.state || st.Estimated != 7*time.Second || st.ID != id {
			t.Errorf("Status: got %+v, %v, want done=%v state %s estimate 7s", st, err, tt.done, tt.state)
		}
	}
	if _, err := c.Status(context.Background(), "edcp-unknown"); !errors.Is(err, akamai.ErrUnknownPurge) {
		t.Errorf("Status(unknown): got %v, want ErrUnknownPurge", err)
	}
}

// Credentials from an .edgerc section or from AKAMAI_<SECTION>_* variables;
// a missing one is a configuration error that names no secret.
func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, ".edgerc")
	os.WriteFile(rc, []byte(fmt.Sprintf("[default]\nhost = a.luna.akamaiapis.net\nclient_token = x\nclient_secret = y\naccess_token = z\n\n"+
		"[ccu]\nhost = akab-ccu.luna.akamaiapis.net\nclient_token = %s\nclient_secret = %s\naccess_token = %s\n", clientToken, clientSecret, accessToken)), 0o600)

	t.Run("edgerc section", func(t *testing.T) {
		c, err := akamai.New(akamai.Options{EdgeRC: rc, Section: "ccu"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.String(), "akamai.Client{host: akab-ccu.luna.akamaiapis.net, network: production, action: invalidate}"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("environment first", func(t *testing.T) {
		t.Setenv("AKAMAI_CCU_HOST", "akab-env.luna.akamaiapis.net")
		t.Setenv("AKAMAI_CCU_CLIENT_TOKEN", clientToken)
		t.Setenv("AKAMAI_CCU_CLIENT_SECRET", clientSecret)
		t.Setenv("AKAMAI_CCU_ACCESS_TOKEN", accessToken)
		c, err := akamai.New(akamai.Options{EdgeRC: rc, Section: "ccu", Env: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.String(), "akab-env.luna") {
			t.Errorf("got %s, want the host from the environment", c)
		}
	})
	t.Run("missing section", func(t *testing.T) {
		_, err := akamai.New(akamai.Options{EdgeRC: rc, Section: "nope"})
		if !errors.Is(err, akamai.ErrConfig) || !strings.Contains(err.Error(), "nope") {
			t.Errorf("got %v, want ErrConfig naming the section", err)
		}
	})
	t.Run("malformed file quotes no secret", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.edgerc")
		const secret = "SUPERSECRETxNoEqualsSign0123"
		os.WriteFile(bad, []byte("[default]\nhost = h\nclient_secret "+secret+"\n"), 0o600)
		_, err := akamai.New(akamai.Options{EdgeRC: bad})
		if !errors.Is(err, akamai.ErrConfig) || !errors.Is(err, edgegrid.ErrLoadingFile) || strings.Contains(err.Error(), secret) {
			t.Errorf("got %v, want ErrConfig, edgegrid.ErrLoadingFile, no secret", err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		for _, tt := range []struct {
			opts akamai.Options
			want string
		}{
			{akamai.Options{EdgeRC: rc, Network: "prod"}, `Options.Network "prod"`},
			{akamai.Options{EdgeRC: rc, Action: "purge"}, `Options.Action "purge"`},
			{akamai.Options{EdgeRC: rc, MaxBodyBytes: 60000}, "Options.MaxBodyBytes 60000: want 0 (the default) to 50000"},
			{akamai.Options{EdgeRC: rc, ItemsPerCall: -1}, "Options.ItemsPerCall -1"},
			{akamai.Options{EdgeRC: rc, Concurrency: -1}, "Options.Concurrency -1"},
			{akamai.Options{Config: &edgegrid.Config{Host: "h", ClientSecret: clientSecret}}, "needs host, client_token"},
		} {
			_, err := akamai.New(tt.opts)
			if !errors.Is(err, akamai.ErrConfig) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), clientSecret) {
				t.Errorf("got %v, want ErrConfig with %q and without the secret", err, tt.want)
			}
		}
	})
}
