package bolt_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/bolt"
	"github.com/offload-dev/offload/ledger/ledgertest"
)

func open(t testing.TB, path string, opts bolt.Options) *bolt.Ledger {
	t.Helper()
	opts.Path = path
	l, err := bolt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConformance(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledger.Ledger {
		return open(t, filepath.Join(t.TempDir(), "offload.db"), bolt.Options{})
	})
}

// Ledgers over one *bbolt.DB (Options.DB), as serve's inbox will share it.
func TestConformanceShared(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledger.Ledger {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "offload.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		l, err := bolt.New(bolt.Options{DB: db})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestRaceOverOneDB(t *testing.T) {
	first := open(t, filepath.Join(t.TempDir(), "offload.db"), bolt.Options{})
	defer first.Close()
	second, err := bolt.New(bolt.Options{DB: first.DB()})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	ledgertest.Race(t, []ledger.Ledger{first, second, first, second})
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "offload.db")
	recs := []ledger.Record{
		{Bucket: "site", Key: "a b.html", Sequencer: "0A", ETag: "e1", VersionID: "v1", Time: ledgertest.T0},
		{Bucket: "site", Key: "gone", Sequencer: "0B", Time: ledgertest.T0, Deleted: true},
		{Bucket: "other", Key: "x", Time: ledgertest.T0},
	}
	l := open(t, path, bolt.Options{})
	if _, err := l.Commit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = open(t, path, bolt.Options{})
	defer l.Close()
	for _, want := range recs {
		got, err := l.Get(ctx, want.Bucket, []string{want.Key})
		if err != nil {
			t.Fatal(err)
		}
		if d := ledgertest.Same(got[want.Key], want); d != "" {
			t.Errorf("after reopen, %s/%s: %s", want.Bucket, want.Key, d)
		}
	}
	// What was held before the reopen still decides.
	errs, err := l.Commit(ctx, []ledger.Record{{Bucket: "site", Key: "a b.html", Sequencer: "09", Time: ledgertest.T0}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], ledger.ErrStale) {
		t.Errorf("older record after reopen: got %v, want ErrStale", errs[0])
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offload.db")
	held := open(t, path, bolt.Options{})
	defer held.Close()

	const timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := bolt.New(bolt.Options{Path: path, Timeout: timeout})
	took := time.Since(start)
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second New: got %v, want ErrLocked", err)
	}
	for _, want := range []string{"ledger/bolt", path, "locked", timeout.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q: want it to mention %q", err, want)
		}
	}
	// bbolt polls the lock every 50ms and gives up a poll early.
	if took < timeout/2 || took > timeout+time.Second {
		t.Errorf("second New gave up after %s, want about %s", took, timeout)
	}

	// Released, the file opens.
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := bolt.New(bolt.Options{Path: path, Timeout: timeout})
	if err != nil {
		t.Fatalf("New after the holder closed: %v", err)
	}
	l.Close()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not-a-db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a bolt file\n", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path string }{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "offload.db")},
		{"not a bolt file", notDB},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := bolt.New(bolt.Options{Path: c.path})
			if err == nil {
				t.Fatalf("New(%s): got no error, want one", c.path)
			}
			if errors.Is(err, bolt.ErrLocked) {
				t.Errorf("New(%s): got %v, want an error other than ErrLocked", c.path, err)
			}
			if !strings.HasPrefix(err.Error(), "ledger/bolt: open "+c.path+": ") {
				t.Errorf("New(%s): got %q, want it to start with who and what", c.path, err)
			}
		})
	}
}

func TestMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offload.db")
	open(t, path, bolt.Options{}).Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("file mode: got %v, want %v", got, want)
	}
}

// The inbox will keep its own buckets beside the ledger's.
func TestSharesTheFile(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "offload.db"), bolt.Options{})
	defer l.Close()
	err := l.DB().Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("inbox"))
		if err != nil {
			return err
		}
		return b.Put([]byte("1"), []byte("event"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Commit(context.Background(), []ledger.Record{{Bucket: "inbox", Key: "1", Time: ledgertest.T0}}); err != nil {
		t.Fatal(err)
	}
	err = l.DB().View(func(tx *bbolt.Tx) error {
		if got := string(tx.Bucket([]byte("inbox")).Get([]byte("1"))); got != "event" {
			t.Errorf("inbox bucket after a Commit to S3 bucket \"inbox\": got %q, want %q", got, "event")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func BenchmarkCommit(b *testing.B) {
	for _, c := range []struct {
		name string
		opts bolt.Options
	}{{"sync", bolt.Options{}}, {"nosync", bolt.Options{NoSync: true}}} {
		b.Run(c.name, func(b *testing.B) {
			l := open(b, filepath.Join(b.TempDir(), "offload.db"), c.opts)
			defer l.Close()
			ledgertest.BenchCommit(b, l, 10000)
		})
	}
}

func BenchmarkGet(b *testing.B) {
	l := open(b, filepath.Join(b.TempDir(), "offload.db"), bolt.Options{})
	defer l.Close()
	ledgertest.BenchGet(b, l, 10000)
}

func TestNewValidates(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "offload.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		name string
		opts bolt.Options
		want string
	}{
		{"neither", bolt.Options{}, "ledger/bolt: Options.Path or Options.DB is required"},
		{"both", bolt.Options{Path: "x.db", DB: db}, `ledger/bolt: Options.Path "x.db" and Options.DB: want one of them`},
		{"negative timeout", bolt.Options{Path: "x.db", Timeout: -time.Second}, "ledger/bolt: Options.Timeout -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := bolt.New(tt.opts); err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
