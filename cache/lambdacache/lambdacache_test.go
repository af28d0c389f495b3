package lambdacache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// source is an in-memory source: values by name and the calls made.
type source struct {
	mu     sync.Mutex
	values map[string]string
	calls  [][]string
}

func newSource(kv ...string) *source {
	s := &source{values: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.values[kv[i]] = kv[i+1]
	}
	return s
}

func (s *source) BatchSize() int { return 10 }

func (s *source) Fetch(_ context.Context, reqs []*cache.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, r := range reqs {
		names = append(names, r.Key.Name)
		if v, ok := s.values[r.Key.Name]; ok {
			r.Succeed(cache.Raw{Value: v})
		} else {
			r.Fail(fmt.Errorf("%w: no value named %q", cache.ErrNotFound, r.Key.Name))
		}
	}
	s.calls = append(s.calls, names)
}

func (s *source) nCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *source) spec(name string) cache.Spec[string] {
	return cache.Spec[string]{Key: cache.Key{Source: "test", Name: name}, Fetcher: s}
}

func newCache(t *testing.T, clk *fakeclock.Clock) *cache.Cache {
	t.Helper()
	c, err := cache.New(cache.Options{Clock: clk, Jitter: cache.NoJitter})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every entry of the cache is loaded, together, before the handler runs;
// the handler reads them from its context, typed.
func TestWrapLoadsEveryEntry(t *testing.T) {
	clk := fakeclock.New()
	c := newCache(t, clk)
	params := newSource("/prod/app/db_url", "postgres://db", "/prod/app/flags", `{"beta":true}`)
	secrets := newSource("prod/api-key", "k-123")
	dbURL := cache.MustAdd(c, params.spec("/prod/app/db_url"))
	type flags struct{ Beta bool }
	fl := cache.MustAdd(c, cache.JSON[flags](params.spec("/prod/app/flags")))
	key := cache.MustAdd(c, cache.Spec[string]{Key: cache.Key{Source: "secretsmanager", Name: "prod/api-key"}, Fetcher: secrets})

	h := lambdacache.Wrap(c, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		url, ok1 := dbURL.From(ctx)
		f, ok2 := fl.From(ctx)
		k, ok3 := key.From(ctx)
		if !ok1 || !ok2 || !ok3 || url != "postgres://db" || !f.Beta || k != "k-123" {
			return events.SQSEventResponse{}, fmt.Errorf("got %q %+v %q", url, f, k)
		}
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
	})
	payload := []byte(`{"Records":[{"messageId":"m1","body":"x"}]}`)
	for i := range 3 {
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		if want := `{"batchItemFailures":[{"itemIdentifier":"m1"}]}`; string(out) != want {
			t.Fatalf("invoke %d: got %s, want %s", i, out, want)
		}
	}
	if params.nCalls() != 1 || secrets.nCalls() != 1 {
		t.Fatalf("fetches: got params %d, secrets %d; want 1 and 1", params.nCalls(), secrets.nCalls())
	}
	if got := len(params.calls[0]); got != 2 {
		t.Fatalf("parameters in the one call: got %d, want 2", got)
	}
}

func TestWrapFailsWhenAnEntryHasNoValue(t *testing.T) {
	c := newCache(t, fakeclock.New())
	src := newSource("/a", "1")
	cache.MustAdd(c, src.spec("/a"))
	cache.MustAdd(c, src.spec("/prod/missing"))
	called := false
	h := lambdacache.Wrap(c, func(ctx context.Context, _ json.RawMessage) (string, error) {
		called = true
		return "", nil
	})
	_, err := h.Invoke(context.Background(), []byte(`{}`))
	if !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), "/prod/missing") {
		t.Fatalf("got %v, want ErrNotFound naming /prod/missing", err)
	}
	if called {
		t.Fatal("the handler ran without its entries")
	}
}

func TestWarmupPing(t *testing.T) {
	clk := fakeclock.New()
	c := newCache(t, clk)
	src := newSource("/a", "1", "/b", "2")
	cache.MustAdd(c, src.spec("/a"), cache.MaxAge(time.Minute))
	cache.MustAdd(c, src.spec("/b"), cache.MaxAge(time.Hour))
	called := 0
	h := lambdacache.Wrap(c, func(ctx context.Context, _ json.RawMessage) (string, error) {
		called++
		return "ok", nil
	})
	warm := func(payload string, want int) {
		t.Helper()
		out, err := h.Invoke(context.Background(), []byte(payload))
		var resp lambdacache.WarmupResponse
		if err != nil || json.Unmarshal(out, &resp) != nil || !resp.Warmup || resp.Refreshed != want {
			t.Fatalf("ping %s: got %s, %v; want a warm-up answer with %d refreshed", payload, out, err, want)
		}
	}
	warm(`{"warmup": true}`, 2)
	if called != 0 {
		t.Fatalf("handler calls for a warm-up ping: got %d, want 0", called)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"real": 1}`)); err != nil || called != 1 {
		t.Fatalf("real invocation after warm-up: got err %v, %d calls; want 1", err, called)
	}
	if src.nCalls() != 1 {
		t.Fatalf("fetches: got %d, want 1 (the real invocation found both warm)", src.nCalls())
	}
	// Near expiry, the ping refreshes /a (60s) but not /b (1h).
	clk.Advance(50 * time.Second)
	warm(`{"source":"serverless-plugin-warmup"}`, 1)
}

// A warm-up that cannot refresh an entry logs it; the ping has no caller.
func TestWarmupFailureIsLogged(t *testing.T) {
	c := newCache(t, fakeclock.New())
	cache.MustAdd(c, newSource().spec("/prod/missing"))
	var logs bytes.Buffer
	h := lambdacache.Wrap(c, func(ctx context.Context, _ json.RawMessage) (string, error) { return "", nil },
		func(o *lambdacache.Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	out, err := h.Invoke(context.Background(), []byte(`{"warmup":true}`))
	if err != nil || string(out) != `{"warmup":true,"refreshed":1}` {
		t.Fatalf("got %s, %v; want the warm-up answer", out, err)
	}
	if !strings.Contains(logs.String(), "warm-up could not refresh every entry") || !strings.Contains(logs.String(), "/prod/missing") {
		t.Fatalf("log: got %q, want a line naming /prod/missing", logs.String())
	}
}

func TestWarmupDetection(t *testing.T) {
	scheduled := `{"version":"0","id":"53dc4d37","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2015-10-08T16:53:06Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/warm"],"detail":{}}`
	tests := []struct {
		payload         string
		ping, scheduled bool
	}{
		{`{"warmup":true}`, true, true},
		{`{"warmup":false}`, false, false},
		{`{"source":"serverless-plugin-warmup"}`, true, true},
		{scheduled, false, true},
		{`{"Records":[{"body":"warmup"}]}`, false, false},
		{`not json warmup`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.payload, func(t *testing.T) {
			if got := lambdacache.IsWarmupPing([]byte(tt.payload)); got != tt.ping {
				t.Errorf("IsWarmupPing: got %v, want %v", got, tt.ping)
			}
			if got := lambdacache.IsScheduledEvent([]byte(tt.payload)); got != tt.scheduled {
				t.Errorf("IsScheduledEvent: got %v, want %v", got, tt.scheduled)
			}
		})
	}
}

// With IsScheduledEvent, an EventBridge schedule is a warm-up too.
func TestIsWarmupOption(t *testing.T) {
	c := newCache(t, fakeclock.New())
	called := false
	h := lambdacache.Wrap(c, func(ctx context.Context, _ json.RawMessage) (string, error) { called = true; return "", nil },
		func(o *lambdacache.Options) { o.IsWarmup = lambdacache.IsScheduledEvent })
	out, err := h.Invoke(context.Background(), []byte(`{"detail-type":"Scheduled Event","source":"aws.events"}`))
	if err != nil || called || !strings.Contains(string(out), `"warmup":true`) {
		t.Fatalf("got %s, %v, handler called %v; want a warm-up answer", out, err, called)
	}
}
