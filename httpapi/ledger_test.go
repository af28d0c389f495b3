package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/ledger"
)

// The ledger's routes show and reset one key, any key: the key is in the
// query, so "a//b", ".." and "%2F" reach the ledger as they are. A reset
// makes the key as if never seen, and the next real change is recorded;
// what it held is in the answer. Every exchange is checked against the
// OpenAPI document.
func TestLedgerRoutes(t *testing.T) {
	e := newEnv(t)
	l := e.pipe.Options().Ledger
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	pinned := strings.Repeat("F", ledger.MaxSequencerDigits)
	keys := []string{"index.html", "docs/a b+c.html", "a//b", "..", "%2F", "ü/?#&=.html"}
	var recs []ledger.Record
	for _, k := range keys {
		recs = append(recs, ledger.Record{Bucket: "my-site", Key: k, Sequencer: pinned, ETag: "crafted", Time: t0})
	}
	if _, err := l.Commit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddReceipts(ctx, []ledger.Receipt{{Bucket: "my-site", Key: "receipt-only.html", Change: "c1", Targets: []string{"cf"}}}); err != nil {
		t.Fatal(err)
	}
	target := func(bucket, key string) string {
		return "/v1/ledger?" + url.Values{"bucket": {bucket}, "key": {key}}.Encode()
	}
	entry := func(t *testing.T, body []byte) ledger.Entry {
		t.Helper()
		var got ledger.Entry
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		return got
	}

	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			e.clock.Advance(time.Second)
			rec := e.do(req{method: "GET", target: target("my-site", k)})
			if got := entry(t, rec.Body.Bytes()); rec.Code != 200 || got.Key != k || got.Record == nil || got.Record.Sequencer != pinned {
				t.Fatalf("GET: got %d %s, want 200 with the record of %q", rec.Code, rec.Body, k)
			}
			rec = e.do(req{method: "DELETE", target: target("my-site", k)})
			if got := entry(t, rec.Body.Bytes()); rec.Code != 200 || got.Key != k || got.Record == nil || got.Record.ETag != "crafted" {
				t.Fatalf("DELETE: got %d %s, want 200 with what it held", rec.Code, rec.Body)
			}
			if rec := e.do(req{method: "GET", target: target("my-site", k)}); rec.Code != 404 || errorCode(t, rec) != "not_found" {
				t.Errorf("GET after the reset: got %d %s, want 404 not_found", rec.Code, rec.Body)
			}
			if rec := e.do(req{method: "DELETE", target: target("my-site", k)}); rec.Code != 404 {
				t.Errorf("DELETE twice: got %d %s, want 404", rec.Code, rec.Body)
			}
			// The next real change is recorded.
			real := ledger.Record{Bucket: "my-site", Key: k, Sequencer: "0055AED6DCD90281E5", ETag: "real", Time: t0}
			if errs, err := l.Commit(ctx, []ledger.Record{real}); err != nil || errs[0] != nil {
				t.Errorf("a real change after the reset: got %v, %v; want it recorded", errs, err)
			}
		})
	}

	t.Run("receipt alone", func(t *testing.T) {
		rec := e.do(req{method: "GET", target: target("my-site", "receipt-only.html")})
		if got := entry(t, rec.Body.Bytes()); rec.Code != 200 || got.Record != nil || got.Receipt == nil || got.Receipt.Targets[0] != "cf" {
			t.Fatalf("GET: got %d %s, want the receipt alone", rec.Code, rec.Body)
		}
		if rec := e.do(req{method: "DELETE", target: target("my-site", "receipt-only.html")}); rec.Code != 200 {
			t.Fatalf("DELETE: got %d %s, want 200", rec.Code, rec.Body)
		}
	})

	mistakes := []struct {
		name, target, message string
	}{
		{"no query", "/v1/ledger", "needs bucket and key"},
		{"no key", "/v1/ledger?bucket=my-site", "needs key"},
		{"no bucket", "/v1/ledger?key=a.html", "needs bucket"},
		{"empty key", "/v1/ledger?bucket=my-site&key=", "needs key"},
		{"a bucket S3 would not name", target("my/site", "a.html"), "has '/'"},
		{"a key that is not UTF-8", "/v1/ledger?bucket=my-site&key=%FF", "not valid UTF-8"},
	}
	for _, m := range mistakes {
		for _, method := range []string{"GET", "DELETE"} {
			t.Run(method+" "+m.name, func(t *testing.T) {
				e.clock.Advance(time.Second)
				rec := e.do(req{method: method, target: m.target})
				if rec.Code != 400 || errorCode(t, rec) != "bad_request" || !strings.Contains(rec.Body.String(), m.message) {
					t.Errorf("got %d %s, want 400 bad_request saying %q", rec.Code, rec.Body, m.message)
				}
			})
		}
	}
	t.Run("a key of 40,000 bytes is never held", func(t *testing.T) {
		rec := e.do(req{method: "GET", target: target("my-site", strings.Repeat("k", 40000))})
		if rec.Code != 404 {
			t.Errorf("got %d %.200s, want 404", rec.Code, rec.Body)
		}
	})
}

// Without a pipeline there is no ledger: 503 not_configured.
func TestLedgerRoutesWithoutPipeline(t *testing.T) {
	e := newEnv(t, func(o *httpapi.Options) { o.Pipeline = nil })
	for _, method := range []string{"GET", "DELETE"} {
		rec := e.do(req{method: method, target: "/v1/ledger?bucket=my-site&key=a.html"})
		if rec.Code != 503 || errorCode(t, rec) != "not_configured" {
			t.Errorf("%s: got %d %s, want 503 not_configured", method, rec.Code, rec.Body)
		}
	}
}
