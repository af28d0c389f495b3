package secretcache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
)

type env struct {
	moto    *awstest.Moto
	counter *awstest.Counter
	api     *secretsmanager.Client
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
		api: secretsmanager.NewFromConfig(moto.Config(counter)),
		c:   c,
	}
}

func newSecrets(t *testing.T, api secretcache.API, optFns ...func(*secretcache.Options)) *secretcache.Client {
	t.Helper()
	sm, err := secretcache.New(secretcache.Options{Client: api}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

func (e *env) create(t *testing.T, name, str string, bin []byte) {
	t.Helper()
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name)}
	if bin != nil {
		in.SecretBinary = bin
	} else {
		in.SecretString = aws.String(str)
	}
	if _, err := e.api.CreateSecret(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func TestStringAndBinaryAsStored(t *testing.T) {
	e := setup(t)
	e.create(t, "prod/api-key", "k-123", nil)
	e.create(t, "prod/tls-key", "", []byte{0x00, 0xff, 0x10})
	e.counter.Reset()
	sm := newSecrets(t, e.api)
	key := cache.MustAdd(e.c, sm.String("prod/api-key"))
	tls := cache.MustAdd(e.c, sm.Binary("prod/tls-key"))
	keyBytes := cache.MustAdd(e.c, sm.Binary("prod/api-key"))
	wrong := cache.MustAdd(e.c, sm.String("prod/tls-key"))
	ctx := context.Background()
	_ = e.c.Load(ctx, key, tls, keyBytes, wrong)

	if got, err := key.Get(ctx); got != "k-123" || err != nil {
		t.Fatalf("string secret: got %q, %v", got, err)
	}
	if got, err := tls.Get(ctx); string(got) != "\x00\xff\x10" || err != nil {
		t.Fatalf("binary secret: got %x, %v", got, err)
	}
	if got, _ := keyBytes.Get(ctx); string(got) != "k-123" {
		t.Fatalf("string secret as bytes: got %q", got)
	}
	if _, err := wrong.Get(ctx); !errors.Is(err, cache.ErrDecode) || !strings.Contains(err.Error(), "read it with Binary") {
		t.Fatalf("binary secret read as a string: got %v", err)
	}
	if got := e.counter.Count("BatchGetSecretValue"); got != 1 {
		t.Fatalf("calls: got %d BatchGetSecretValue (%s), want 1", got, e.counter)
	}
}

func TestTwentyFiveSecretsCostTwoCalls(t *testing.T) {
	e := setup(t)
	sm := newSecrets(t, e.api)
	var entries []cache.Loadable
	for i := range 25 {
		name := fmt.Sprintf("prod/svc/s%02d", i)
		e.create(t, name, fmt.Sprint("v", i), nil)
		entries = append(entries, cache.MustAdd(e.c, sm.String(name)))
	}
	e.counter.Reset()
	if err := e.c.Load(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
	if got := e.counter.Count(); got != 2 {
		t.Fatalf("calls for 25 secrets: got %d (%s), want 2", got, e.counter)
	}
	for i, l := range entries {
		en := l.(*cache.Entry[string])
		if got, _ := en.Get(context.Background()); got != fmt.Sprint("v", i) {
			t.Fatalf("%s: got %q", en.Key(), got)
		}
	}
}

func TestMissingSecretFailsOnlyItsEntry(t *testing.T) {
	e := setup(t)
	e.create(t, "prod/a", "a", nil)
	sm := newSecrets(t, e.api)
	a := cache.MustAdd(e.c, sm.String("prod/a"))
	missing := cache.MustAdd(e.c, sm.String("prod/missing"))
	err := e.c.Load(context.Background(), a, missing)
	if !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), "secretsmanager:prod/missing") {
		t.Fatalf("got %v, want ErrNotFound naming prod/missing", err)
	}
	if got, err := a.Get(context.Background()); got != "a" || err != nil {
		t.Fatalf("the other secret: got %q, %v", got, err)
	}
	// Alone, through GetSecretValue.
	alone := cache.MustAdd(e.c, sm.String("prod/gone"))
	if _, err := alone.Get(context.Background()); !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), "prod/gone") {
		t.Fatalf("alone: got %v", err)
	}
}

func TestStagesAndVersions(t *testing.T) {
	e := setup(t)
	e.create(t, "prod/db", "old-password", nil)
	ctx := context.Background()
	first, err := e.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("prod/db"), SecretString: aws.String("new-password")}); err != nil {
		t.Fatal(err)
	}
	sm := newSecrets(t, e.api)
	current := cache.MustAdd(e.c, sm.String("prod/db"))
	previous := cache.MustAdd(e.c, sm.String("prod/db", secretcache.Stage("AWSPREVIOUS")))
	byID := cache.MustAdd(e.c, sm.Secret("prod/db", secretcache.VersionID(aws.ToString(first.VersionId))))
	if err := e.c.Load(ctx, current, previous, byID); err != nil {
		t.Fatal(err)
	}
	if got, _ := current.Get(ctx); got != "new-password" {
		t.Fatalf("current: got %q", got)
	}
	if got, _ := previous.Get(ctx); got != "old-password" {
		t.Fatalf("AWSPREVIOUS: got %q", got)
	}
	if got, _ := byID.Get(ctx); got.String != "old-password" || got.VersionID != aws.ToString(first.VersionId) {
		t.Fatalf("by version id: got %+v", got)
	}
	if current.Key() == previous.Key() {
		t.Fatal("stages share a key")
	}
}

func TestJSONFieldAndStruct(t *testing.T) {
	e := setup(t)
	e.create(t, "prod/rds", `{"username":"app","password":"p@ss","port":5432}`, nil)
	sm := newSecrets(t, e.api)
	pw := cache.MustAdd(e.c, sm.Field("prod/rds", "password"))
	port := cache.MustAdd(e.c, sm.Field("prod/rds", "port"))
	nope := cache.MustAdd(e.c, sm.Field("prod/rds", "host"))
	type creds struct {
		Username, Password string
		Port               int
	}
	all := cache.MustAdd(e.c, cache.JSON[creds](sm.String("prod/rds")))
	ctx := context.Background()
	_ = e.c.Load(ctx, pw, port, nope, all)
	if got, _ := pw.Get(ctx); got != "p@ss" || pw.Name() != "password" {
		t.Fatalf("field: got %q (name %q)", got, pw.Name())
	}
	if got, _ := port.Get(ctx); got != "5432" {
		t.Fatalf("number field: got %q", got)
	}
	if _, err := nope.Get(ctx); !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), `"host"`) {
		t.Fatalf("missing field: got %v", err)
	}
	if got, _ := all.Get(ctx); got.Port != 5432 || got.Username != "app" {
		t.Fatalf("JSON: got %+v", got)
	}
	if got := e.counter.Count("BatchGetSecretValue") + e.counter.Count("GetSecretValue"); got != 1 {
		t.Fatalf("calls: got %d (%s), want 1: four entries of one secret share a read", got, e.counter)
	}
}

// A role without secretsmanager:BatchGetSecretValue still gets its secrets,
// one GetSecretValue each, and the fetcher stops trying to batch.
func TestBatchDeniedFallsBack(t *testing.T) {
	e := setup(t)
	for _, n := range []string{"a", "b", "c"} {
		e.create(t, "prod/"+n, n, nil)
	}
	proxy := awstest.NewFaultProxy(e.moto.URL)
	defer proxy.Close()
	proxy.Inject(awstest.Fault{Op: "BatchGetSecretValue", Times: -1, Code: "AccessDeniedException",
		Message: "not authorized to perform: secretsmanager:BatchGetSecretValue"})
	sm := newSecrets(t, secretsmanager.NewFromConfig(awstest.Config(proxy.URL, e.counter)))
	var entries []cache.Loadable
	for _, n := range []string{"a", "b", "c"} {
		entries = append(entries, cache.MustAdd(e.c, sm.String("prod/"+n), cache.MaxAge(time.Minute)))
	}
	e.counter.Reset()
	if err := e.c.Load(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	if err := e.c.Load(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
	if got := e.counter.Count("BatchGetSecretValue"); got != 1 {
		t.Fatalf("BatchGetSecretValue calls: got %d, want 1 (then no more)", got)
	}
	if got := e.counter.Count("GetSecretValue"); got != 6 {
		t.Fatalf("GetSecretValue calls: got %d, want 6", got)
	}
}
