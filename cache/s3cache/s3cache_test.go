package s3cache_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/s3cache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// statusRecorder remembers the status and body size of every GetObject answer.
type statusRecorder struct {
	next     http.RoundTripper
	mu       sync.Mutex
	statuses []int
	bodies   atomic.Int64
}

func (s *statusRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet {
		s.mu.Lock()
		s.statuses = append(s.statuses, resp.StatusCode)
		s.mu.Unlock()
		s.bodies.Add(max(resp.ContentLength, 0))
	}
	return resp, err
}

func (s *statusRecorder) last() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.statuses...)
}

type env struct {
	api *s3.Client
	rec *statusRecorder
	clk *fakeclock.Clock
	c   *cache.Cache
}

func setup(t *testing.T) *env {
	t.Helper()
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	rec := &statusRecorder{next: awstest.Transport()}
	api := s3.NewFromConfig(moto.Config(rec), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("models")}); err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New()
	c, err := cache.New(cache.Options{Clock: clk, Jitter: cache.NoJitter})
	if err != nil {
		t.Fatal(err)
	}
	return &env{api: api, rec: rec, clk: clk, c: c}
}

func newObjects(t *testing.T, api s3cache.API, optFns ...func(*s3cache.Options)) *s3cache.Client {
	t.Helper()
	c, err := s3cache.New(s3cache.Options{Client: api}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) put(t *testing.T, key string, body []byte) {
	t.Helper()
	if _, err := e.api.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// lambda-cache's check_before_download, in one request: an unchanged object
// is a 304 with no body.
func TestBytesUnchangedObjectIsNotDownloaded(t *testing.T) {
	e := setup(t)
	e.put(t, "config/app.json", []byte(`{"v":1}`))
	obj := cache.MustAdd(e.c, newObjects(t, e.api).Bytes("s3://models/config/app.json"), cache.MaxAge(time.Minute))
	ctx := context.Background()
	if got, err := obj.Get(ctx); string(got) != `{"v":1}` || err != nil {
		t.Fatalf("first read: got %q, %v", got, err)
	}
	e.clk.Advance(time.Minute)
	if got, _ := obj.Get(ctx); string(got) != `{"v":1}` {
		t.Fatalf("unchanged: got %q", got)
	}
	if got := e.rec.last(); len(got) != 2 || got[0] != 200 || got[1] != 304 {
		t.Fatalf("statuses: got %v, want [200 304]", got)
	}
	if st := obj.Stats(); st.Unchanged != 1 || st.Refreshes != 2 {
		t.Fatalf("stats: got %+v", st)
	}
	e.put(t, "config/app.json", []byte(`{"v":2}`))
	e.clk.Advance(time.Minute)
	if got, _ := obj.Get(ctx); string(got) != `{"v":2}` {
		t.Fatalf("changed: got %q", got)
	}
	if got := e.rec.last(); got[2] != 200 {
		t.Fatalf("statuses: got %v, want a 200 for the changed object", got)
	}
}

func TestFileWrittenWholeAndKeptWhenUnchanged(t *testing.T) {
	e := setup(t)
	dir := t.TempDir()
	v1 := bytes.Repeat([]byte("a"), 1<<20)
	e.put(t, "models/model.bin", v1)
	src := newObjects(t, e.api, func(o *s3cache.Options) { o.Dir = dir })
	file := cache.MustAdd(e.c, src.File("s3://models/models/model.bin", ""), cache.MaxAge(time.Minute))
	ctx := context.Background()
	p, err := file.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(dir, "model.bin") {
		t.Fatalf("path: got %q, want %q", p, filepath.Join(dir, "model.bin"))
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, v1) {
		t.Fatalf("file content: got %d bytes, want %d", len(b), len(v1))
	}
	before, _ := os.Stat(p)

	e.clk.Advance(time.Minute)
	if _, err := file.Get(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if !os.SameFile(before, after) || e.rec.last()[1] != 304 {
		t.Fatalf("an unchanged object was written again (statuses %v)", e.rec.last())
	}

	// Readers racing a refresh see the old file or the new one, whole.
	v2 := bytes.Repeat([]byte("b"), 1<<20)
	e.put(t, "models/model.bin", v2)
	e.clk.Advance(time.Minute)
	stop := make(chan struct{})
	var bad atomic.Int32
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(p)
			if err != nil || !(bytes.Equal(b, v1) || bytes.Equal(b, v2)) {
				bad.Add(1)
			}
		}
	})
	if _, err := file.Get(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d reads saw a partial file", bad.Load())
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, v2) {
		t.Fatal("the file was not replaced with the new object")
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, ".*part")); len(parts) != 0 {
		t.Fatalf("temporary files left behind: %v", parts)
	}

	// A file removed behind the cache's back is fetched again, in full.
	os.Remove(p)
	e.clk.Advance(time.Minute)
	if _, err := file.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, v2) {
		t.Fatal("a removed file was not restored")
	}
}

func TestTooLarge(t *testing.T) {
	e := setup(t)
	dir := t.TempDir()
	e.put(t, "big.bin", make([]byte, 4096))
	src := newObjects(t, e.api, func(o *s3cache.Options) {
		o.Dir = dir
		o.MaxBytes = 1024
		o.FreeSpace = func(string) (int64, error) { return 1000, nil }
	})
	mem := cache.MustAdd(e.c, src.Bytes("s3://models/big.bin"))
	file := cache.MustAdd(e.c, src.File("s3://models/big.bin", "big.bin"))
	ctx := context.Background()
	if _, err := mem.Get(ctx); !errors.Is(err, cache.ErrTooLarge) || !strings.Contains(err.Error(), "4096 bytes") {
		t.Fatalf("memory: got %v, want ErrTooLarge naming the size", err)
	}
	_, err := file.Get(ctx)
	if !errors.Is(err, cache.ErrTooLarge) || !strings.Contains(err.Error(), "1000 free") || !strings.Contains(err.Error(), "s3://models/big.bin") {
		t.Fatalf("file: got %v, want ErrTooLarge naming the object and the free space", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files left after refusing: %v", entries)
	}
}

func TestErrorsNameTheEntry(t *testing.T) {
	e := setup(t)
	src := newObjects(t, e.api)
	ctx := context.Background()
	for _, tt := range []struct {
		uri  string
		want error
		text string
	}{
		{"s3://models/missing.json", cache.ErrNotFound, "s3://models/missing.json"},
		{"s3://nobucket/x", cache.ErrNotFound, "s3://nobucket/x"},
		{"models/x.json", cache.ErrInvalid, "does not start with s3://"},
		{"s3://models", cache.ErrInvalid, "no object key"},
		{"s3://models/", cache.ErrInvalid, "no object key"},
		{"s3:///key", cache.ErrInvalid, "no bucket"},
	} {
		en, err := cache.Add(e.c, src.Bytes(tt.uri)) // a malformed URI fails here
		if err == nil {
			_, err = en.Get(ctx)
		}
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), tt.uri) {
			t.Errorf("%s: got %v, want %v mentioning %q", tt.uri, err, tt.want, tt.text)
		}
	}
}

func TestKeysWithSpacesAndVersions(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	if _, err := e.api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("models"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String("a b/ü.txt"), Body: strings.NewReader("one")})
	if err != nil {
		t.Fatal(err)
	}
	e.put(t, "a b/ü.txt", []byte("two"))
	src := newObjects(t, e.api)
	latest := cache.MustAdd(e.c, src.Bytes("s3://models/a b/ü.txt"))
	first := cache.MustAdd(e.c, src.Bytes("s3://models/a%20b/%C3%BC.txt", s3cache.VersionID(aws.ToString(out.VersionId))))
	if got, err := latest.Get(ctx); string(got) != "two" {
		t.Fatalf("latest: got %q, %v", got, err)
	}
	if got, err := first.Get(ctx); string(got) != "one" {
		t.Fatalf("version: got %q, %v", got, err)
	}
}
