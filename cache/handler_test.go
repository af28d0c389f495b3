package cache_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/fakeclock"
)

func TestHandlerLoadsEntriesBeforeTheHandler(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(clk)
	params := newSource(10, "/prod/app/db_url", "postgres://db", "/prod/app/flags", `{"beta":true}`)
	secrets := newSource(20, "prod/api-key", "k-123")
	dbURL := cache.Add(c, params.spec("/prod/app/db_url"))
	type flags struct{ Beta bool }
	fl := cache.Add(c, cache.JSON[flags](params.spec("/prod/app/flags")))
	key := cache.Add(c, cache.Spec[string]{Key: cache.Key{Source: "secretsmanager", Name: "prod/api-key"}, Fetcher: secrets}, cache.Name("key"))

	var sawURL, sawKey string
	var sawFlags flags
	h := cache.Wrap(c, func(ctx context.Context, ev events.SQSEvent) (string, error) {
		var ok bool
		if sawURL, ok = dbURL.From(ctx); !ok {
			return "", errors.New("db_url not in context")
		}
		if sawFlags, ok = fl.From(ctx); !ok {
			return "", errors.New("flags not in context")
		}
		if sawKey, ok = cache.Lookup[string](ctx, "key"); !ok {
			return "", errors.New("key not found by name")
		}
		if _, ok := cache.Lookup[int](ctx, "key"); ok {
			return "", errors.New("Lookup with the wrong type succeeded")
		}
		return "done " + ev.Records[0].MessageId, nil
	}, dbURL, fl, key)

	payload := []byte(`{"Records":[{"messageId":"m1","body":"x"}]}`)
	for i := range 3 {
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		if string(out) != `"done m1"` {
			t.Fatalf("invoke %d: got %s", i, out)
		}
	}
	if sawURL != "postgres://db" || !sawFlags.Beta || sawKey != "k-123" {
		t.Fatalf("handler saw %q %+v %q", sawURL, sawFlags, sawKey)
	}
	if params.nCalls() != 1 || secrets.nCalls() != 1 {
		t.Fatalf("fetches: params %d, secrets %d; want 1 and 1", params.nCalls(), secrets.nCalls())
	}
	if got := len(params.calls[0]); got != 2 {
		t.Fatalf("parameters in the one call: got %d, want 2", got)
	}
	if st := dbURL.Stats(); st.Hits != 2 || st.Misses != 1 {
		t.Fatalf("stats: got hits=%d misses=%d, want 2 and 1", st.Hits, st.Misses)
	}
	if _, ok := dbURL.From(context.Background()); ok {
		t.Fatal("From outside a handler: got ok")
	}
}

func TestHandlerFailsWhenAnEntryHasNoValue(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(clk)
	src := newSource(10, "/a", "1")
	a := cache.Add(c, src.spec("/a"))
	missing := cache.Add(c, src.spec("/prod/missing"))
	called := false
	h := cache.Wrap(c, func(ctx context.Context, _ json.RawMessage) (string, error) {
		called = true
		return "", nil
	}, a, missing)
	_, err := h.Invoke(context.Background(), []byte(`{}`))
	if !errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), "/prod/missing") {
		t.Fatalf("got %v, want ErrNotFound naming /prod/missing", err)
	}
	if called {
		t.Fatal("the handler ran without its entries")
	}
}

func TestHandlerWarmupPing(t *testing.T) {
	clk := fakeclock.New()
	c, _ := newCache(clk)
	src := newSource(10, "/a", "1", "/b", "2")
	a := cache.Add(c, src.spec("/a"), cache.MaxAge(time.Minute))
	b := cache.Add(c, src.spec("/b"), cache.MaxAge(time.Hour))
	called := 0
	h := cache.Wrap(c, func(ctx context.Context, _ json.RawMessage) (string, error) {
		called++
		return "ok", nil
	}, a, b)
	out, err := h.Invoke(context.Background(), []byte(`{"warmup": true}`))
	if err != nil {
		t.Fatal(err)
	}
	var resp cache.WarmupResponse
	if err := json.Unmarshal(out, &resp); err != nil || !resp.Warmup || resp.Refreshed != 2 {
		t.Fatalf("warm-up answer: got %s (%v)", out, err)
	}
	if called != 0 {
		t.Fatal("the handler ran for a warm-up ping")
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"real": 1}`)); err != nil || called != 1 {
		t.Fatalf("real invocation after warm-up: err %v, called %d", err, called)
	}
	if src.nCalls() != 1 {
		t.Fatalf("fetches: got %d, want 1 (the real invocation found both warm)", src.nCalls())
	}
	// Near expiry, the ping refreshes /a (60s) but not /b (1h).
	clk.Advance(50 * time.Second)
	out, _ = h.Invoke(context.Background(), []byte(`{"source":"serverless-plugin-warmup"}`))
	if err := json.Unmarshal(out, &resp); err != nil || resp.Refreshed != 1 {
		t.Fatalf("second ping: got %s", out)
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
		if got := cache.IsWarmupPing([]byte(tt.payload)); got != tt.ping {
			t.Errorf("IsWarmupPing(%s): got %v, want %v", tt.payload, got, tt.ping)
		}
		if got := cache.IsScheduledEvent([]byte(tt.payload)); got != tt.scheduled {
			t.Errorf("IsScheduledEvent(%s): got %v, want %v", tt.payload, got, tt.scheduled)
		}
	}
}

func TestHandlerRefusesDuplicateShortNames(t *testing.T) {
	c, _ := newCache(fakeclock.New())
	src := newSource(10)
	prod := cache.Add(c, src.spec("/prod/x/pw"))
	dev := cache.Add(c, src.spec("/dev/x/pw"))
	defer func() {
		p := recover()
		if p == nil || !strings.Contains(p.(string), `"pw"`) {
			t.Fatalf("got panic %v, want one naming the short name pw", p)
		}
	}()
	cache.Wrap(c, func(context.Context, json.RawMessage) (string, error) { return "", nil }, prod, dev)
}
