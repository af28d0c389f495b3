package ssmcache_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// env is a fresh moto with a counted SSM client.
type env struct {
	moto    *awstest.Moto
	counter *awstest.Counter
	api     *ssm.Client
	clk     *fakeclock.Clock
	c       *cache.Cache
}

func setup(t *testing.T) *env {
	t.Helper()
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	counter := awstest.NewCounter()
	clk := fakeclock.New()
	c, err := cache.New(cache.Options{Clock: clk, Jitter: cache.NoJitter})
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		moto: moto, counter: counter, clk: clk,
		api: ssm.NewFromConfig(moto.Config(counter)),
		c:   c,
	}
}

func newParams(t *testing.T, api ssmcache.API) *ssmcache.Client {
	t.Helper()
	p, err := ssmcache.New(ssmcache.Options{Client: api})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) put(t *testing.T, name, value string, typ types.ParameterType) {
	t.Helper()
	_, err := e.api.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTypes(t *testing.T) {
	e := setup(t)
	e.put(t, "/production/app/var", "hello", types.ParameterTypeString)
	e.put(t, "/production/app/hosts", "a.example.com,b.example.com", types.ParameterTypeStringList)
	e.put(t, "/production/app/password", "s3cr3t", types.ParameterTypeSecureString)
	e.counter.Reset()

	params := newParams(t, e.api)
	v := cache.MustAdd(e.c, params.String("/production/app/var"))
	hosts := cache.MustAdd(e.c, params.StringList("/production/app/hosts"))
	pw := cache.MustAdd(e.c, params.String("/production/app/password"))
	pwRaw := cache.MustAdd(e.c, params.Parameter("/production/app/password", ssmcache.Encrypted()))
	ctx := context.Background()
	if err := e.c.Load(ctx, v, hosts, pw, pwRaw); err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Get(ctx); got != "hello" {
		t.Fatalf("String: got %q, want hello", got)
	}
	if got, _ := hosts.Get(ctx); !slices.Equal(got, []string{"a.example.com", "b.example.com"}) {
		t.Fatalf("StringList: got %q", got)
	}
	if got, _ := pw.Get(ctx); got != "s3cr3t" {
		t.Fatalf("SecureString: got %q, want it decrypted", got)
	}
	raw, _ := pwRaw.Get(ctx)
	if raw.Value == "s3cr3t" || raw.Type != "SecureString" || raw.Version != 1 {
		t.Fatalf("Encrypted: got %+v, want the ciphertext of a SecureString, version 1", raw)
	}
	if pw.Key() == pwRaw.Key() {
		t.Fatal("decrypted and encrypted reads share a key")
	}
	// One call with decryption, one without.
	if got := e.counter.Count("GetParameters"); got != 2 {
		t.Fatalf("GetParameters calls: got %d, want 2 (%s)", got, e.counter)
	}
}

// 25 parameters stacked on one handler: 3 GetParameters calls, not 25.
func TestStackedParametersCostThreeCalls(t *testing.T) {
	e := setup(t)
	params := newParams(t, e.api)
	var typed []*cache.Entry[string]
	for i := range 25 {
		name := fmt.Sprintf("/production/app/p%02d", i)
		e.put(t, name, fmt.Sprint("value-", i), types.ParameterTypeString)
		en := cache.MustAdd(e.c, params.String(name), cache.MaxAge(5*time.Minute))
		typed = append(typed, en)
	}
	e.counter.Reset()
	h := lambdacache.Wrap(e.c, func(ctx context.Context, _ json.RawMessage) (string, error) {
		var b strings.Builder
		for _, en := range typed {
			v, ok := en.From(ctx)
			if !ok {
				return "", fmt.Errorf("%s missing", en.Name())
			}
			b.WriteString(v[len(v)-1:])
		}
		return b.String(), nil
	})
	for i := range 5 {
		out, err := h.Invoke(context.Background(), []byte(`{}`))
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		if want := `"0123456789012345678901234"`; string(out) != want {
			t.Fatalf("invoke %d: got %s, want %s", i, out, want)
		}
	}
	if got := e.counter.Count("GetParameters"); got != 3 {
		t.Fatalf("GetParameters calls for 25 parameters over 5 invocations: got %d, want 3 (%s)", got, e.counter)
	}
	e.clk.Advance(5 * time.Minute)
	if _, err := h.Invoke(context.Background(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := e.counter.Count("GetParameters"); got != 6 {
		t.Fatalf("after expiry: got %d calls, want 6", got)
	}
}

func TestMapKeyedByLastSegment(t *testing.T) {
	e := setup(t)
	e.put(t, "/production/app/db_host", "db.internal", types.ParameterTypeString)
	e.put(t, "/production/app/db_user", "app", types.ParameterTypeString)
	params := newParams(t, e.api)
	m := cache.MustAdd(e.c, params.Map([]string{"/production/app/db_host", "/production/app/db_user"}))
	got, err := m.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"db_host": "db.internal", "db_user": "app"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if m.Name() != "app" {
		t.Fatalf("short name: got %q, want app", m.Name())
	}
	if got := e.counter.Count("GetParameters"); got != 1 {
		t.Fatalf("calls: got %d, want 1", got)
	}

	missing := cache.MustAdd(e.c, params.Map([]string{"/production/app/db_host", "/production/app/nope", "/production/app/gone"}))
	_, err = missing.Get(context.Background())
	if !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), `"/production/app/nope", "/production/app/gone"`) {
		t.Fatalf("got %v, want ErrNotFound naming both missing parameters", err)
	}

	if _, err := cache.Add(e.c, params.Map([]string{"/a/x", "/b/x"})); !errors.Is(err, cache.ErrInvalid) {
		t.Fatalf("names sharing a last segment: got %v, want ErrInvalid", err)
	}
}

func TestPathPaginatedAndRecursive(t *testing.T) {
	e := setup(t)
	for i := range 23 {
		e.put(t, fmt.Sprintf("/svc/app/k%02d", i), fmt.Sprint(i), types.ParameterTypeString)
	}
	e.put(t, "/svc/app/db/url", "postgres://x", types.ParameterTypeSecureString)
	e.put(t, "/svc/other", "no", types.ParameterTypeString)
	params := newParams(t, e.api)
	flat := cache.MustAdd(e.c, params.Path("/svc/app"))
	tree := cache.MustAdd(e.c, params.Path("/svc/app/", ssmcache.Recursive()))
	ctx := context.Background()
	gotFlat, err := flat.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotFlat) != 23 || gotFlat["k07"] != "7" {
		t.Fatalf("flat: got %d entries (k07=%q), want 23", len(gotFlat), gotFlat["k07"])
	}
	gotTree, err := tree.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotTree) != 24 || gotTree["db/url"] != "postgres://x" {
		t.Fatalf("recursive: got %d entries (db/url=%q), want 24 with db/url decrypted", len(gotTree), gotTree["db/url"])
	}
	if got := e.counter.Count("GetParametersByPath"); got < 6 {
		t.Fatalf("GetParametersByPath calls: got %d, want at least 6 (pages of 10)", got)
	}
}

func TestVersionSelector(t *testing.T) {
	e := setup(t)
	e.put(t, "/app/flag", "v1", types.ParameterTypeString)
	e.put(t, "/app/flag", "v2", types.ParameterTypeString)
	params := newParams(t, e.api)
	latest := cache.MustAdd(e.c, params.String("/app/flag"))
	first := cache.MustAdd(e.c, params.String("/app/flag", ssmcache.Version(1)))
	gone := cache.MustAdd(e.c, params.String("/app/flag", ssmcache.Version(9)))
	ctx := context.Background()
	_ = e.c.Load(ctx, latest, first, gone)
	if got, err := latest.Get(ctx); got != "v2" {
		t.Fatalf("latest: got %q (%v), want v2", got, err)
	}
	if got, err := first.Get(ctx); got != "v1" {
		t.Fatalf("version 1: got %q (%v), want v1", got, err)
	}
	if _, err := gone.Get(ctx); !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), "/app/flag:9") {
		t.Fatalf("version 9: got %v, want ErrNotFound naming /app/flag:9", err)
	}
	if got := e.counter.Count("GetParameters"); got != 1 {
		t.Fatalf("calls: got %d, want 1", got)
	}
}

func TestMissingParameterFailsOnlyItsEntry(t *testing.T) {
	e := setup(t)
	e.put(t, "/prod/x/a", "a", types.ParameterTypeString)
	params := newParams(t, e.api)
	a := cache.MustAdd(e.c, params.String("/prod/x/a"))
	missing := cache.MustAdd(e.c, params.String("/prod/x/missing"))
	err := e.c.Load(context.Background(), a, missing)
	if !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), `ssm:/prod/x/missing`) {
		t.Fatalf("got %v, want ErrNotFound naming ssm:/prod/x/missing", err)
	}
	if got, err := a.Get(context.Background()); got != "a" || err != nil {
		t.Fatalf("the other entry: got %q, %v", got, err)
	}
}

// One parameter the function may not read fails the whole GetParameters
// call; the fetcher asks name by name to say which one.
func TestAccessDeniedNamesTheParameter(t *testing.T) {
	e := setup(t)
	e.put(t, "/prod/ok", "fine", types.ParameterTypeString)
	e.put(t, "/prod/denied", "hidden", types.ParameterTypeString)
	proxy := awstest.NewFaultProxy(e.moto.URL)
	defer proxy.Close()
	api := ssm.NewFromConfig(awstest.Config(proxy.URL, e.counter))
	proxy.Inject(awstest.Fault{Op: "GetParameters", Body: "/prod/denied", Times: -1,
		Code: "AccessDeniedException", Message: "User: arn:aws:sts::123456789012:assumed-role/fn is not authorized to perform: ssm:GetParameters on resource: /prod/denied"})
	params := newParams(t, api)
	ok := cache.MustAdd(e.c, params.String("/prod/ok"))
	denied := cache.MustAdd(e.c, params.String("/prod/denied"))
	err := e.c.Load(context.Background(), ok, denied)
	if !errors.Is(err, cache.ErrAccessDenied) || !strings.Contains(err.Error(), "ssm:/prod/denied") || strings.Contains(err.Error(), "ssm:/prod/ok") {
		t.Fatalf("got %v, want ErrAccessDenied for /prod/denied only", err)
	}
	if got, err := ok.Get(context.Background()); got != "fine" || err != nil {
		t.Fatalf("the allowed entry: got %q, %v", got, err)
	}
}

func TestThrottleAfterRetries(t *testing.T) {
	e := setup(t)
	e.put(t, "/prod/busy", "v", types.ParameterTypeString)
	proxy := awstest.NewFaultProxy(e.moto.URL)
	defer proxy.Close()
	api := ssm.NewFromConfig(awstest.Config(proxy.URL), func(o *ssm.Options) {
		o.RetryMaxAttempts = 3
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 5*time.Millisecond)
	})
	proxy.Inject(awstest.Fault{Op: "GetParameters", Times: -1, Code: "ThrottlingException", Message: "Rate exceeded"})
	busy := cache.MustAdd(e.c, newParams(t, api).String("/prod/busy"))
	_, err := busy.Get(context.Background())
	if !errors.Is(err, cache.ErrThrottled) || !strings.Contains(err.Error(), "ssm:/prod/busy") || !strings.Contains(err.Error(), "Rate exceeded") {
		t.Fatalf("got %v, want ErrThrottled naming the entry with AWS's message", err)
	}
	if got := proxy.Served("GetParameters"); got != 3 {
		t.Fatalf("attempts: got %d, want 3 (the SDK's retries)", got)
	}
	// Throttled: the batch is not split into one call per name.
	proxy.Clear()
	e.clk.Advance(2 * time.Second) // past the backoff
	if v, err := busy.Get(context.Background()); v != "v" || err != nil {
		t.Fatalf("after the throttle: got %q, %v", v, err)
	}
}

// lambda-cache's own behaviour, against SSM through the real client: the
// TTL cycle, a forced refresh while fresh, and max age 0.
func TestLambdaCacheBehaviour(t *testing.T) {
	e := setup(t)
	e.put(t, "/production/app/var", "v1", types.ParameterTypeString)
	params := newParams(t, e.api)
	v := cache.MustAdd(e.c, params.String("/production/app/var"), cache.MaxAge(300*time.Second))
	// The same parameter with another max age is another cache's entry: in
	// one cache a key is one entry.
	other, err := cache.New(cache.Options{Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	always := cache.MustAdd(other, params.String("/production/app/var"), cache.MaxAge(cache.AlwaysFetch), cache.Name("always"))
	ctx := context.Background()
	read := func(en *cache.Entry[string], want string) {
		t.Helper()
		if got, err := en.Get(ctx); got != want || err != nil {
			t.Fatalf("%s: got %q, %v; want %q", en.Name(), got, err, want)
		}
	}
	read(v, "v1")
	e.put(t, "/production/app/var", "v2", types.ParameterTypeString)
	e.clk.Advance(299 * time.Second)
	read(v, "v1") // before expiry: the old value
	read(always, "v2")
	e.clk.Advance(time.Second)
	read(v, "v2") // after: the new one
	e.put(t, "/production/app/var", "v3", types.ParameterTypeString)
	read(v, "v2")
	if got, err := v.Refresh(ctx); got != "v3" || err != nil { // forced while fresh
		t.Fatalf("Refresh: got %q, %v", got, err)
	}
	read(always, "v3")
	read(always, "v3")
	if got := e.counter.Count("GetParameters"); got != 6 {
		t.Fatalf("GetParameters calls: got %d (%s), want 6", got, e.counter)
	}
}
