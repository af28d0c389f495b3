package appconfigcache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/appconfigcache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// exampleServer serves the examples, on the system clock. TestMain points
// the AWS SDK's default configuration at it, so that the examples read as a
// function's code: config.LoadDefaultConfig and the real client.
var exampleServer *fakeAppConfig

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func TestMain(m *testing.M) {
	exampleServer = newFakeAppConfig(systemClock{})
	exampleServer.set("shop", "prod", "settings", "application/json", `{"greeting":"hello","maxItems":25}`)
	exampleServer.set("shop", "prod", "flags", "application/json",
		`{"checkout_v2":{"enabled":true,"rollout":10},"dark_mode":{"enabled":false}}`)
	awstest.SetEnv(exampleServer.URL)
	code := m.Run()
	exampleServer.Close()
	os.Exit(code)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	srv    *fakeAppConfig
	clock  *fakeclock.Clock
	client *appconfigcache.Client
	cache  *cache.Cache
}

func setup(t *testing.T, opts appconfigcache.Options) *fixture {
	t.Helper()
	clk := fakeclock.New()
	srv := newFakeAppConfig(clk)
	t.Cleanup(srv.Close)
	opts.Clock, opts.Client = clk, srv.sdk()
	client, err := appconfigcache.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.New(cache.Options{Clock: clk, Jitter: cache.NoJitter, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, clock: clk, client: client, cache: c}
}

func (f *fixture) wantCalls(t *testing.T, start, get int) {
	t.Helper()
	if gs, gg := f.srv.count(opStart), f.srv.count(opGet); gs != start || gg != get {
		t.Errorf("got calls start=%d get=%d, want start=%d get=%d (%s)", gs, gg, start, get, f.srv.counts())
	}
}

// TestTTLCycle is lambda-cache's TTL test: the old value before expiry, the
// new one after, and back again; an unchanged configuration costs one call
// with an empty body and is not decoded again.
func TestTTLCycle(t *testing.T) {
	f := setup(t, appconfigcache.Options{})
	f.srv.set("app", "prod", "cfg", "text/plain", "one")
	e := cache.MustAdd(f.cache, cache.Text(f.client.Config("app", "prod", "cfg")), cache.MaxAge(time.Minute))

	steps := []struct {
		name          string
		advance       time.Duration
		deploy        string
		want          string
		start, get    int
		unchangedWant int64
	}{
		{name: "first read starts a session", want: "one", start: 1, get: 1},
		{name: "fresh: from memory", advance: 30 * time.Second, want: "one", start: 1, get: 1},
		{name: "expired, unchanged: empty body", advance: 31 * time.Second, want: "one", start: 1, get: 2, unchangedWant: 1},
		{name: "deployed but still fresh", advance: 30 * time.Second, deploy: "two", want: "one", start: 1, get: 2, unchangedWant: 1},
		{name: "expired: the new value", advance: 31 * time.Second, want: "two", start: 1, get: 3, unchangedWant: 1},
		{name: "back again", advance: 61 * time.Second, deploy: "one", want: "one", start: 1, get: 4, unchangedWant: 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.deploy != "" {
				f.srv.set("app", "prod", "cfg", "text/plain", st.deploy)
			}
			f.clock.Advance(st.advance)
			got, err := e.Get(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != st.want {
				t.Errorf("got %q, want %q", got, st.want)
			}
			f.wantCalls(t, st.start, st.get)
			if u := e.Stats().Unchanged; u != st.unchangedWant {
				t.Errorf("got %d unchanged fetches, want %d", u, st.unchangedWant)
			}
		})
	}
}

// TestPollInterval: a refresh before the service's poll interval makes no
// call, and the service never sees an early poll.
func TestPollInterval(t *testing.T) {
	f := setup(t, appconfigcache.Options{MinPollInterval: 2 * time.Minute})
	f.srv.set("app", "prod", "cfg", "text/plain", "one")
	e := cache.MustAdd(f.cache, f.client.Config("app", "prod", "cfg"), cache.MaxAge(time.Minute))
	ctx := context.Background()

	if _, err := e.Get(ctx); err != nil {
		t.Fatal(err)
	}
	f.srv.set("app", "prod", "cfg", "text/plain", "two")
	f.clock.Advance(61 * time.Second)
	got, err := e.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "one" {
		t.Errorf("before the poll interval: got %q, want %q", got, "one")
	}
	if _, err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, 1, 1)
	if u := e.Stats().Unchanged; u != 2 {
		t.Errorf("got %d unchanged fetches, want 2", u)
	}

	f.clock.Advance(60 * time.Second)
	got, err = e.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "two" {
		t.Errorf("after the poll interval: got %q, want %q", got, "two")
	}
	f.wantCalls(t, 1, 2)
	if s := f.srv.counts(); strings.Contains(s, "early") {
		t.Errorf("the service saw an early poll: %s", s)
	}
}

// TestMinPollInterval checks what is sent as
// RequiredMinimumPollIntervalInSeconds: the service rejects less than 15
// and more than a day, and so does New.
func TestMinPollInterval(t *testing.T) {
	tests := []struct {
		opt     time.Duration
		want    int32
		wantErr string
	}{
		{0, 15, ""},
		{15 * time.Second, 15, ""},
		{90 * time.Second, 90, ""},
		{100500 * time.Millisecond, 101, ""},
		{24 * time.Hour, 86400, ""},
		{time.Second, 0, "appconfigcache: Options.MinPollInterval is 1s; the service accepts 15s to 24h"},
		{48 * time.Hour, 0, "appconfigcache: Options.MinPollInterval is 48h0m0s; the service accepts 15s to 24h"},
		{-time.Second, 0, "appconfigcache: Options.MinPollInterval is -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.opt.String(), func(t *testing.T) {
			api := &recordingAPI{}
			client, err := appconfigcache.New(appconfigcache.Options{Client: api, MinPollInterval: tt.opt})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := cache.New(cache.Options{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			e := cache.MustAdd(c, client.Config("a", "e", "p"))
			if _, err := e.Get(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := aws.ToInt32(api.start.RequiredMinimumPollIntervalInSeconds); got != tt.want {
				t.Errorf("got RequiredMinimumPollIntervalInSeconds %d, want %d", got, tt.want)
			}
		})
	}
	if _, err := appconfigcache.New(appconfigcache.Options{}); err == nil || err.Error() != "appconfigcache: Options.Client is required" {
		t.Fatalf("no client: got %v, want Options.Client is required", err)
	}
}

// recordingAPI answers every call and records the session input.
type recordingAPI struct {
	mu    sync.Mutex
	start appconfigdata.StartConfigurationSessionInput
}

func (r *recordingAPI) StartConfigurationSession(_ context.Context, in *appconfigdata.StartConfigurationSessionInput, _ ...func(*appconfigdata.Options)) (*appconfigdata.StartConfigurationSessionOutput, error) {
	r.mu.Lock()
	r.start = *in
	r.mu.Unlock()
	return &appconfigdata.StartConfigurationSessionOutput{InitialConfigurationToken: aws.String("t0")}, nil
}

func (r *recordingAPI) GetLatestConfiguration(context.Context, *appconfigdata.GetLatestConfigurationInput, ...func(*appconfigdata.Options)) (*appconfigdata.GetLatestConfigurationOutput, error) {
	return &appconfigdata.GetLatestConfigurationOutput{Configuration: []byte("x"), NextPollConfigurationToken: aws.String("t1"), NextPollIntervalInSeconds: 15}, nil
}

// TestTokenLifetime: a token not used for 24 hours is replaced by a new
// session before it is sent, so the service never rejects it.
func TestTokenLifetime(t *testing.T) {
	f := setup(t, appconfigcache.Options{})
	f.srv.set("app", "prod", "cfg", "text/plain", "one")
	e := cache.MustAdd(f.cache, f.client.Config("app", "prod", "cfg"), cache.MaxAge(48*time.Hour))
	ctx := context.Background()
	if _, err := e.Get(ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24 * time.Hour)
	got, err := e.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "one" {
		t.Errorf("got %q, want %q", got, "one")
	}
	f.wantCalls(t, 2, 2)
	if s := f.srv.counts(); strings.Contains(s, "expired") || strings.Contains(s, "unknown") {
		t.Errorf("the service rejected a token: %s", s)
	}
	if u := e.Stats().Unchanged; u != 1 {
		t.Errorf("got %d unchanged fetches, want 1 (same content from the new session)", u)
	}
}

// TestRejectedToken: a token the service rejects is replaced by a new
// session, once, without the caller seeing it; a second rejection fails.
func TestRejectedToken(t *testing.T) {
	tests := []struct {
		name       string
		faults     int // BadRequestExceptions injected before the token is checked
		wantErr    bool
		start, get int
	}{
		{name: "new session once", faults: 0, start: 2, get: 3},
		{name: "rejected again fails", faults: 2, wantErr: true, start: 2, get: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, appconfigcache.Options{})
			f.srv.set("app", "prod", "cfg", "text/plain", "one")
			e := cache.MustAdd(f.cache, f.client.Config("app", "prod", "cfg"), cache.MaxAge(time.Minute))
			ctx := context.Background()
			if _, err := e.Get(ctx); err != nil {
				t.Fatal(err)
			}
			f.srv.forgetTokens()
			f.srv.set("app", "prod", "cfg", "text/plain", "two")
			for range tt.faults {
				// Rejects the old token's get and the new session's.
				f.srv.fail(opGet, http.StatusBadRequest, "BadRequestException")
			}
			f.clock.Advance(61 * time.Second)
			got, err := e.Refresh(ctx)
			switch {
			case tt.wantErr:
				// The failure is recorded and the cached value served.
				if st := e.Stats(); st.Errors != 1 || !strings.Contains(st.LastError, "BadRequestException") || string(got) != "one" {
					t.Errorf("got %q, %v, %d errors, last %q; want the stale %q and one BadRequestException",
						got, err, st.Errors, st.LastError, "one")
				}
			case err != nil:
				t.Fatal(err)
			case string(got) != "two":
				t.Errorf("got %q, want %q", got, "two")
			}
			f.wantCalls(t, tt.start, tt.get)
		})
	}
}

// TestErrors: each failure says which entry and what went wrong, and
// classifies for errors.Is.
func TestErrors(t *testing.T) {
	tests := []struct {
		name        string
		spec        func(*appconfigcache.Client) cache.Spec[[]byte]
		fault       *fault
		want        error
		wantInMsg   []string
		start, gets int
	}{
		{
			name: "unknown application",
			spec: func(c *appconfigcache.Client) cache.Spec[[]byte] { return c.Config("nope", "prod", "cfg") },
			want: cache.ErrNotFound, wantInMsg: []string{"appconfig:nope/prod/cfg", "ResourceNotFoundException", "start configuration session"},
			start: 1,
		},
		{
			name: "unknown environment",
			spec: func(c *appconfigcache.Client) cache.Spec[[]byte] { return c.Config("app", "dev", "cfg") },
			want: cache.ErrNotFound, wantInMsg: []string{"appconfig:app/dev/cfg"}, start: 1,
		},
		{
			name: "unknown profile",
			spec: func(c *appconfigcache.Client) cache.Spec[[]byte] { return c.Config("app", "prod", "other") },
			want: cache.ErrNotFound, wantInMsg: []string{"appconfig:app/prod/other"}, start: 1,
		},
		{
			name:  "throttled",
			spec:  func(c *appconfigcache.Client) cache.Spec[[]byte] { return c.Config("app", "prod", "cfg") },
			fault: &fault{opGet, http.StatusTooManyRequests, "ThrottlingException"},
			want:  cache.ErrThrottled, wantInMsg: []string{"get latest configuration", "ThrottlingException"}, start: 1, gets: 1,
		},
		{
			name:  "access denied",
			spec:  func(c *appconfigcache.Client) cache.Spec[[]byte] { return c.Config("app", "prod", "cfg") },
			fault: &fault{opStart, http.StatusForbidden, "AccessDeniedException"},
			want:  cache.ErrAccessDenied, wantInMsg: []string{"AccessDeniedException"}, start: 1,
		},
		{
			name: "missing environment name",
			spec: func(c *appconfigcache.Client) cache.Spec[[]byte] { return c.Config("app", "", "cfg") },
			want: cache.ErrInvalid, wantInMsg: []string{"required"},
		},
		{
			name: "slash in a name cannot reach another configuration",
			spec: func(c *appconfigcache.Client) cache.Spec[[]byte] { return c.Config("app/prod", "cfg", "x") },
			want: cache.ErrNotFound, wantInMsg: []string{"appconfig:app%2Fprod/cfg/x"}, start: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, appconfigcache.Options{})
			f.srv.set("app", "prod", "cfg", "text/plain", "one")
			if tt.fault != nil {
				f.srv.fail(tt.fault.op, tt.fault.status, tt.fault.code)
			}
			e, err := cache.Add(f.cache, tt.spec(f.client)) // a spec that cannot work fails here
			if err == nil {
				_, err = e.Get(context.Background())
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("got error %q, want it to contain %q", err, s)
				}
			}
			f.wantCalls(t, tt.start, tt.gets)
		})
	}
}

// TestStaleWhileThrottled: a throttled refresh serves the cached value and
// keeps the session: the token was not spent.
func TestStaleWhileThrottled(t *testing.T) {
	f := setup(t, appconfigcache.Options{})
	f.srv.set("app", "prod", "cfg", "text/plain", "one")
	e := cache.MustAdd(f.cache, f.client.Config("app", "prod", "cfg"), cache.MaxAge(time.Minute))
	ctx := context.Background()
	if _, err := e.Get(ctx); err != nil {
		t.Fatal(err)
	}
	f.srv.fail(opGet, http.StatusTooManyRequests, "ThrottlingException")
	f.clock.Advance(61 * time.Second)
	got, err := e.Get(ctx)
	if err != nil || string(got) != "one" {
		t.Fatalf("got %q, %v, want the stale %q", got, err, "one")
	}
	if s := e.Stats(); s.Errors != 1 || s.Stale != 1 {
		t.Errorf("got %d errors and %d stale reads, want 1 and 1", s.Errors, s.Stale)
	}
	f.srv.set("app", "prod", "cfg", "text/plain", "two")
	f.clock.Advance(2 * time.Second) // past the cache's retry backoff
	got, err = e.Get(ctx)
	if err != nil || string(got) != "two" {
		t.Fatalf("after the backoff: got %q, %v, want %q", got, err, "two")
	}
	f.wantCalls(t, 1, 3)
}

// TestSharedSession: entries of the same configuration share one session
// and one poll, and an entry whose value is older than the session's latest
// gets the latest even when the poll body is empty.
func TestSharedSession(t *testing.T) {
	f := setup(t, appconfigcache.Options{})
	f.srv.set("app", "prod", "cfg", "application/json", `{"n":1}`)
	type conf struct{ N int }
	raw := cache.MustAdd(f.cache, f.client.Config("app", "prod", "cfg"), cache.MaxAge(time.Minute))
	typed := cache.MustAdd(f.cache, cache.JSON[conf](f.client.Config("app", "prod", "cfg")), cache.MaxAge(2*time.Minute))
	doc := cache.MustAdd(f.cache, f.client.Document("app", "prod", "cfg"), cache.MaxAge(time.Minute))
	ctx := context.Background()

	if err := f.cache.Load(ctx, raw, typed, doc); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, 1, 1)
	d, _ := doc.Get(ctx)
	if d.ContentType != "application/json" || d.VersionLabel != "v1" || string(d.Data) != `{"n":1}` {
		t.Errorf("got document %+v, want JSON v1 {\"n\":1}", d)
	}

	f.srv.set("app", "prod", "cfg", "application/json", `{"n":2}`)
	f.clock.Advance(61 * time.Second)
	if got, _ := raw.Get(ctx); string(got) != `{"n":2}` {
		t.Errorf("raw: got %s, want {\"n\":2}", got)
	}
	f.wantCalls(t, 1, 2)
	// typed expires later; its poll body is empty (the session already
	// delivered n=2 to raw), yet it must get n=2.
	f.clock.Advance(60 * time.Second)
	if got, _ := typed.Get(ctx); got.N != 2 {
		t.Errorf("typed: got %d, want 2", got.N)
	}
	if s := typed.Stats(); s.Unchanged != 0 {
		t.Errorf("typed: got %d unchanged fetches, want 0", s.Unchanged)
	}
}

func TestFeatureFlags(t *testing.T) {
	f := setup(t, appconfigcache.Options{})
	f.srv.set("app", "prod", "flags", "application/json",
		`{"checkout_v2":{"enabled":true,"rollout":10},"dark_mode":{"enabled":false},"bad":{"enabled":"yes"}}`)
	f.srv.set("app", "prod", "flags2", "application/json", `{"on":{"enabled":true}}`)
	bad := cache.MustAdd(f.cache, f.client.FeatureFlags("app", "prod", "flags"))
	if _, err := bad.Get(context.Background()); !errors.Is(err, cache.ErrDecode) || !strings.Contains(err.Error(), `"enabled"`) {
		t.Errorf("got error %v, want ErrDecode naming \"enabled\"", err)
	}

	f.srv.set("app", "prod", "flags", "application/json",
		`{"checkout_v2":{"enabled":true,"rollout":10},"dark_mode":{"enabled":false}}`)
	flags := cache.MustAdd(f.cache, f.client.FeatureFlags("app", "prod", "flags"))
	f.clock.Advance(time.Minute)
	fl, err := flags.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flag string
		want bool
	}{{"checkout_v2", true}, {"dark_mode", false}, {"absent", false}}
	for _, tt := range tests {
		if got := fl.Enabled(tt.flag); got != tt.want {
			t.Errorf("Enabled(%q): got %v, want %v", tt.flag, got, tt.want)
		}
	}
	if got := fl["checkout_v2"].Attributes["rollout"]; got != 10.0 {
		t.Errorf("rollout: got %v, want 10", got)
	}
}

// TestDueTogether: AppConfig has no batch call, so each configuration due
// costs a session and a poll, fetched concurrently; a refresh before the
// poll interval costs nothing.
func TestDueTogether(t *testing.T) {
	f := setup(t, appconfigcache.Options{})
	var entries []cache.Loadable
	for i := range 6 {
		p := fmt.Sprintf("p%d", i)
		f.srv.set("app", "prod", p, "text/plain", p)
		entries = append(entries, cache.MustAdd(f.cache, f.client.Config("app", "prod", p)))
	}
	ctx := context.Background()
	if err := f.cache.Load(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, 6, 6)
	if err := f.cache.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, 6, 6)
	f.clock.Advance(61 * time.Second)
	if err := f.cache.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, 6, 12)
}

// TestConcurrent reads and refreshes from many goroutines while time
// passes: the service must never see a token twice or an early poll.
func TestConcurrent(t *testing.T) {
	f := setup(t, appconfigcache.Options{})
	// A second cache over the same client: its entries share the sessions.
	other, err := cache.New(cache.Options{Clock: f.clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var entries []*cache.Entry[[]byte]
	for i := range 4 {
		p := fmt.Sprintf("p%d", i)
		f.srv.set("app", "prod", p, "text/plain", p)
		// Two entries per configuration: they share a session.
		entries = append(entries,
			cache.MustAdd(f.cache, f.client.Config("app", "prod", p), cache.MaxAge(10*time.Second)),
			cache.MustAdd(other, f.client.Config("app", "prod", p), cache.MaxAge(20*time.Second)))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				e := entries[(g+i)%len(entries)]
				var err error
				if i%7 == 0 {
					_, err = e.Refresh(context.Background())
				} else {
					_, err = e.Get(context.Background())
				}
				if err != nil {
					t.Error(err)
					return
				}
				if g == 0 {
					f.clock.Advance(3 * time.Second)
				}
			}
		})
	}
	wg.Wait()
	if s := f.srv.counts(); strings.Contains(s, "early") || strings.Contains(s, "unknown") {
		t.Errorf("the service rejected calls: %s", s)
	}
}

// TestFakeServer checks the test server itself through the real SDK
// client: it must reject what the service rejects.
func TestFakeServer(t *testing.T) {
	clk := fakeclock.New()
	srv := newFakeAppConfig(clk)
	defer srv.Close()
	srv.set("app", "prod", "cfg", "application/json", `{"a":1}`)
	api := srv.sdk()
	ctx := context.Background()
	start := func() string {
		out, err := api.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{
			ApplicationIdentifier: aws.String("app"), EnvironmentIdentifier: aws.String("prod"),
			ConfigurationProfileIdentifier: aws.String("cfg"), RequiredMinimumPollIntervalInSeconds: aws.Int32(30),
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.InitialConfigurationToken)
	}
	get := func(tok string) (*appconfigdata.GetLatestConfigurationOutput, error) {
		return api.GetLatestConfiguration(ctx, &appconfigdata.GetLatestConfigurationInput{ConfigurationToken: aws.String(tok)})
	}
	problem := func(err error) types.InvalidParameterProblem {
		var bad *types.BadRequestException
		if !errors.As(err, &bad) {
			return ""
		}
		if d, ok := bad.Details.(*types.BadRequestDetailsMemberInvalidParameters); ok {
			return d.Value["ConfigurationToken"].Problem
		}
		return ""
	}

	tok := start()
	first, err := get(tok)
	if err != nil {
		t.Fatal(err)
	}
	if string(first.Configuration) != `{"a":1}` || aws.ToString(first.ContentType) != "application/json" ||
		first.NextPollIntervalInSeconds != 30 || aws.ToString(first.VersionLabel) != "v1" {
		t.Errorf("got first poll %q %q %d %q, want the configuration, its type, 30 and v1",
			first.Configuration, aws.ToString(first.ContentType), first.NextPollIntervalInSeconds, aws.ToString(first.VersionLabel))
	}
	next := aws.ToString(first.NextPollConfigurationToken)

	tests := []struct {
		name    string
		advance time.Duration
		token   string
		want    types.InvalidParameterProblem
	}{
		{"token used twice", 0, tok, types.InvalidParameterProblemCorrupted},
		{"unknown token", 0, "made-up", types.InvalidParameterProblemCorrupted},
		{"poll before the interval", 10 * time.Second, next, types.InvalidParameterProblemPollIntervalNotSatisfied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.advance)
			_, err := get(tt.token)
			if got := problem(err); got != tt.want {
				t.Errorf("got %v (problem %q), want BadRequestException %q", err, got, tt.want)
			}
		})
	}

	clk.Advance(30 * time.Second)
	out, err := get(next)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Configuration) != 0 {
		t.Errorf("unchanged: got body %q, want empty", out.Configuration)
	}
	clk.Advance(24 * time.Hour)
	if _, err := get(aws.ToString(out.NextPollConfigurationToken)); problem(err) != types.InvalidParameterProblemExpired {
		t.Errorf("after 24h: got %v, want BadRequestException Expired", err)
	}
	_, err = api.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{
		ApplicationIdentifier: aws.String("app"), EnvironmentIdentifier: aws.String("prod"),
		ConfigurationProfileIdentifier: aws.String("cfg"), RequiredMinimumPollIntervalInSeconds: aws.Int32(5),
	})
	var bad *types.BadRequestException
	if !errors.As(err, &bad) {
		t.Errorf("interval 5s: got %v, want BadRequestException", err)
	}
	_, err = api.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{
		ApplicationIdentifier: aws.String("nope"), EnvironmentIdentifier: aws.String("prod"),
		ConfigurationProfileIdentifier: aws.String("cfg"),
	})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ResourceType != types.ResourceTypeApplication {
		t.Errorf("unknown application: got %v, want ResourceNotFoundException for the Application", err)
	}
}
