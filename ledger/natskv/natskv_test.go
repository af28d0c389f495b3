package natskv_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
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

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "natskv")
	if err != nil {
		panic(err)
	}
	server, err = natstest.Launch(dir, natstest.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	os.Setenv("EXAMPLE_NATS_URL", server.URL)
	code := m.Run()
	server.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

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
