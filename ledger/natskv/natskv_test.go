package natskv_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/internal/natstest"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/ledgertest"
	"github.com/offload-dev/offload/ledger/natskv"
)

var server *natstest.Server

func TestMain(m *testing.M) { os.Exit(natstest.RunMain(m, &server)) }

// connect returns a JetStream context on a connection of its own: one
// replica of offload.
func connect(t testing.TB) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(server.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

var buckets atomic.Int32

func newBucket(t testing.TB, js jetstream.JetStream) string {
	t.Helper()
	name := fmt.Sprintf("ledger-%d", buckets.Add(1))
	if _, err := natskv.CreateBucket(context.Background(), js, name, 1); err != nil {
		t.Fatal(err)
	}
	return name
}

func newLedger(t testing.TB, js jetstream.JetStream, bucket string) *natskv.Ledger {
	t.Helper()
	kv, err := natskv.CreateBucket(context.Background(), js, bucket, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := natskv.New(natskv.Options{KV: kv})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConformance(t *testing.T) {
	js := connect(t)
	ledgertest.Run(t, func(t *testing.T) ledger.Ledger {
		return newLedger(t, js, newBucket(t, js))
	})
}

// Two replicas: two connections, two Ledgers, one bucket. The server
// applies each compare-and-set atomically, so nothing stands in for it.
func TestTwoEnvironments(t *testing.T) {
	a, b := connect(t), connect(t)
	bucket := newBucket(t, a)
	la, lb := newLedger(t, a, bucket), newLedger(t, b, bucket)
	ledgertest.Race(t, []ledger.Ledger{la, lb, la, lb})
}

// validKey is what the key-value store accepts (nats.go's own check):
// these characters, and no empty token.
var validKey = regexp.MustCompile(`^[-/_=\.a-zA-Z0-9]+$`)

func TestKeyIsValidForAnyS3Key(t *testing.T) {
	// Not "": the ledger refuses an empty key before it makes one.
	keys := append([]string{".hidden", "trailing.", "a..b", "*", ">", "a b", "\x00", "\xff\xfe",
		strings.Repeat("é", 512)}, ledgertest.OddKeys...)
	seen := map[string]string{}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	for _, bucket := range []string{"my-site", "a.b.c", "x"} {
		for _, k := range keys {
			t.Run(bucket+"/"+k, func(t *testing.T) {
				got := natskv.Key(bucket, k)
				if !validKey.MatchString(got) || strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") || strings.Contains(got, "..") {
					t.Errorf("Key(%q, %q) = %q: not a valid key-value key", bucket, k, got)
				}
				b, o, ok := strings.Cut(got, ".")
				if !ok {
					t.Fatalf("Key(%q, %q) = %q: want bucket.key", bucket, k, got)
				}
				db, err1 := base64.RawURLEncoding.DecodeString(b)
				dk, err2 := base64.RawURLEncoding.DecodeString(o)
				if err1 != nil || err2 != nil || string(db) != bucket || string(dk) != k {
					t.Errorf("Key(%q, %q) = %q decodes to %q, %q (%v, %v)", bucket, k, got, db, dk, err1, err2)
				}
				if prev, dup := seen[got]; dup {
					t.Errorf("Key(%q, %q) = %q, the same as for %s", bucket, k, got, prev)
				}
				seen[got] = bucket + "/" + k
			})
		}
	}
}

// A key of the longest S3 allows (1,024 bytes) and an empty one (which the
// ledger refuses before it writes) in the real store.
func TestLongAndEmptyKeys(t *testing.T) {
	js := connect(t)
	l := newLedger(t, js, newBucket(t, js))
	ctx := context.Background()
	long := strings.Repeat("ü/", 340) + "abcd" // 1,024 bytes
	if len(long) != 1024 {
		t.Fatalf("test key is %d bytes, want 1024", len(long))
	}
	rec := ledger.Record{Bucket: "my-site", Key: long, Sequencer: "01", ETag: "e", Time: ledgertest.T0}
	if errs, err := l.Commit(ctx, []ledger.Record{rec}); err != nil || errs[0] != nil {
		t.Fatalf("Commit of a 1,024-byte key: got %v, %v; want it written", errs, err)
	}
	got, err := l.Get(ctx, "my-site", []string{long})
	if err != nil || ledgertest.Same(got[long], rec) != "" {
		t.Errorf("Get of a 1,024-byte key: got %+v, %v; want %+v", got[long], err, rec)
	}
}

// A store that cannot be reached fails Get and Commit as a whole, naming
// the bucket; nothing is reported as stale.
func TestUnreachable(t *testing.T) {
	s := natstest.Start(t, natstest.Options{})
	nc, err := nats.Connect(s.URL, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	l := newLedger(t, js, "down")
	s.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := l.Get(ctx, "b", []string{"k"}); err == nil || !strings.Contains(err.Error(), "down") {
		t.Errorf("Get with the server down: got %v, want an error naming the bucket", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	errs, err := l.Commit(ctx, []ledger.Record{{Bucket: "b", Key: "k", Sequencer: "01", Time: ledgertest.T0}})
	if err == nil || len(errs) != 1 || errs[0] == nil || errs[0] == ledger.ErrStale {
		t.Errorf("Commit with the server down: got %v, %v; want a failure in place and an error", errs, err)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		opts natskv.Options
		want string
	}{
		{"no KV", natskv.Options{}, "ledger/natskv: Options.KV is required"},
		{"negative concurrency", natskv.Options{KV: fakeKV{}, Concurrency: -1}, "ledger/natskv: Options.Concurrency is -1; want 0 (the default, 32) or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := natskv.New(tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New: got %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := natskv.New(natskv.Options{}, func(o *natskv.Options) { o.KV = fakeKV{} }); err != nil {
		t.Errorf("New with KV set by an option: got %v, want no error", err)
	}
}

type fakeKV struct{ jetstream.KeyValue }

func (fakeKV) Bucket() string { return "fake" }

func BenchmarkCommit100(b *testing.B) {
	js := connect(b)
	ledgertest.BenchCommit(b, newLedger(b, js, newBucket(b, js)), 100)
}

func BenchmarkGet100(b *testing.B) {
	js := connect(b)
	ledgertest.BenchGet(b, newLedger(b, js, newBucket(b, js)), 100)
}

// The longest key-value key the ledger writes is written and read back
// over the real connection; one character more is refused before it is
// sent (nats-server closes a connection whose protocol line is too long),
// and the connection goes on serving.
func TestMaxKeyLen(t *testing.T) {
	js := connect(t)
	l := newLedger(t, js, newBucket(t, js))
	ctx := context.Background()
	// "my-sit" is 8 characters in base64url, and 1,529 bytes are 2,039.
	at := strings.Repeat("k", 1529)
	over := at + "k"
	if n := len(natskv.Key("my-sit", at)); n != natskv.MaxKeyLen {
		t.Fatalf("test key makes %d characters, want %d", n, natskv.MaxKeyLen)
	}
	recs := []ledger.Record{
		{Bucket: "my-sit", Key: at, Sequencer: "01", Time: ledgertest.T0},
		{Bucket: "my-sit", Key: over, Sequencer: "01", Time: ledgertest.T0},
	}
	errs, err := l.Commit(ctx, recs)
	if err != nil || len(errs) != 2 {
		t.Fatalf("Commit: got %v, %v; want two results, no error", errs, err)
	}
	if errs[0] != nil {
		t.Errorf("Commit of a key at the limit: got %v, want nil", errs[0])
	}
	if !errors.Is(errs[1], ledger.ErrInvalid) {
		t.Errorf("Commit of a key over the limit: got %v, want ledger.ErrInvalid", errs[1])
	}
	_, err = l.AddReceipts(ctx, []ledger.Receipt{{Bucket: "my-sit", Key: over, Change: "c", Targets: []string{"cf"}}})
	if err != nil {
		t.Errorf("AddReceipts of a key over the limit: got %v, want it refused alone", err)
	}
	got, err := l.Get(ctx, "my-sit", []string{at, over})
	if _, held := got[at]; err != nil || len(got) != 1 || !held {
		t.Errorf("Get of both: got %d records, %v; want the one at the limit", len(got), err)
	}
	if err := l.Delete(ctx, "my-sit", over); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Delete of a key over the limit: got %v, want ledger.ErrNotFound", err)
	}
	if err := l.Delete(ctx, "my-sit", at); err != nil {
		t.Errorf("Delete of a key at the limit: got %v, want nil", err)
	}
}

// Replicas adding targets to one change's receipt at once lose none: each
// write is a compare-and-set on the key's entry.
func TestConcurrentReceipts(t *testing.T) {
	a, b := connect(t), connect(t)
	bucket := newBucket(t, a)
	ls := []ledger.Ledger{newLedger(t, a, bucket), newLedger(t, b, bucket)}
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rc := ledger.Receipt{Bucket: "my-site", Key: "k.html", Change: "c1", Targets: []string{fmt.Sprintf("t%02d", i)}}
			if errs, err := ls[i%2].AddReceipts(ctx, []ledger.Receipt{rc}); err != nil || errs[0] != nil {
				t.Errorf("AddReceipts %d: got %v, %v; want it written", i, errs, err)
			}
		})
	}
	wg.Wait()
	got, err := ls[0].Receipts(ctx, "my-site", []string{"k.html"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("t%02d", i))
	}
	if rc := got["k.html"]; rc.Change != "c1" || !slices.Equal(rc.Targets, want) {
		t.Errorf("receipt: got %+v, want change c1 with %v", rc, want)
	}
}

// The entries are as the package doc says: a receipt lives in its key's
// entry, a receipt alone is marked norec, a Commit's write replaces the
// entry and so clears the receipt, and checkpoints live under their own
// prefix.
func TestEntries(t *testing.T) {
	js := connect(t)
	name := newBucket(t, js)
	l := newLedger(t, js, name)
	kv, err := js.KeyValue(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	raw := func(key string) string {
		t.Helper()
		e, err := kv.Get(ctx, key)
		if err != nil {
			return err.Error()
		}
		return string(e.Value())
	}
	k := natskv.Key("my-site", "a.html")
	steps := []struct {
		name string
		do   func() error
		key  string
		want string
	}{
		{"a receipt alone", func() error {
			_, err := l.AddReceipts(ctx, []ledger.Receipt{{Bucket: "my-site", Key: "a.html", Change: "c1", Targets: []string{"cf", "ak"}}})
			return err
		}, k, `{"norec":true,"rc":{"change":"c1","targets":["ak","cf"]}}`},
		{"a record clears it", func() error {
			_, err := l.Commit(ctx, []ledger.Record{{Bucket: "my-site", Key: "a.html", Sequencer: "0A", ETag: "e", Time: ledgertest.T0}})
			return err
		}, k, `{"seq":"0A","etag":"e","time":"2026-01-02T03:04:05Z"}`},
		{"a receipt beside the record", func() error {
			_, err := l.AddReceipts(ctx, []ledger.Receipt{{Bucket: "my-site", Key: "a.html", Change: "c2", Targets: []string{"cf"}}})
			return err
		}, k, `{"seq":"0A","etag":"e","time":"2026-01-02T03:04:05Z","rc":{"change":"c2","targets":["cf"]}}`},
		{"deleted", func() error { return l.Delete(ctx, "my-site", "a.html") }, k, jetstream.ErrKeyNotFound.Error()},
		{"a checkpoint", func() error { return l.SetCheckpoint(ctx, "backfill/www", "docs/a b.html") },
			"=checkpoint." + base64.RawURLEncoding.EncodeToString([]byte("backfill/www")), "docs/a b.html"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.do(); err != nil {
				t.Fatal(err)
			}
			if got := raw(s.key); got != s.want {
				t.Errorf("entry %s: got %s, want %s", s.key, got, s.want)
			}
		})
	}
	if _, err := l.Checkpoint(ctx, ""); err == nil || !strings.Contains(err.Error(), "needs a name") {
		t.Errorf("Checkpoint of no name: got %v, want an error saying it needs one", err)
	}
}
