package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func openTestDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// dueIDs returns the ids and bodies of what the worker would read.
func dueIDs(t *testing.T, in *Inbox) []string {
	t.Helper()
	due, _, err := in.Due(context.Background(), time.Now().Add(time.Hour), 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range due {
		out = append(out, fmt.Sprintf("%d:%s", e.ID, e.Body))
	}
	return out
}

// TestInboxLogAcceptsWhileBoltIsBusy: with a log, Add does not wait for
// bbolt's writer (held here, as the ledger or the worker may hold it); the
// entries reach the bucket once it is free.
func TestInboxLogAcceptsWhileBoltIsBusy(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, filepath.Join(dir, "state.db"))
	defer db.Close()
	in, err := NewInbox(InboxOptions{DB: db, Log: filepath.Join(dir, "inbox.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	hold, err := db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 20 {
		id, err := in.Add(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf(`%d:{"n":%d}`, id, i))
	}
	st, err := in.Stats(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != 20 || st.Pending != 20 || in.Depth() != 20 {
		t.Errorf("while bbolt is busy: depth %d (counter %d), pending %d; want 20, all waiting", st.Depth, in.Depth(), st.Pending)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Added():
	case <-time.After(10 * time.Second):
		t.Fatal("no signal to the worker 10s after bbolt was free")
	}
	// Copied, and told to the worker as arrivals.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, a := dueIDs(t, in), in.arrived()
		if slices.Equal(got, want) && a.n == 20 && a.lastID == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in the bucket: got %v, want %v; arrivals %d up to %d, want 20 up to 20", got, want, a.n, a.lastID)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestInboxLogRecovers opens an inbox on a log left by a process that died:
// the records the bucket's sequence says were copied are not copied again,
// those above it are, a torn record at the end is not, and ids go on after
// the last.
func TestInboxLogRecovers(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := func(id uint64) Entry {
		return Entry{ID: id, Received: t0.Add(time.Duration(id) * time.Second), Body: fmt.Appendf(nil, `{"id":%d}`, id)}
	}
	tests := []struct {
		name    string
		copied  uint64   // the bucket's sequence before the crash
		inLog   []uint64 // records in the log, in order
		torn    bool     // and half of one more
		want    []uint64 // in the bucket after open
		wantNew uint64   // the next Add's id
	}{
		{"nothing copied", 0, []uint64{1, 2, 3}, false, []uint64{1, 2, 3}, 4},
		{"some copied", 2, []uint64{1, 2, 3, 4}, false, []uint64{1, 2, 3, 4}, 5},
		{"all copied", 4, []uint64{3, 4}, false, []uint64{1, 2, 3, 4}, 5},
		{"torn at the end", 2, []uint64{1, 2, 3}, true, []uint64{1, 2, 3}, 4},
		{"only a torn record", 0, nil, true, nil, 1},
		{"an empty log", 3, nil, false, []uint64{1, 2, 3}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openTestDB(t, filepath.Join(dir, "state.db"))
			defer db.Close()
			// What was copied before the crash is in the bucket.
			err := db.Update(func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte(InboxBucket))
				if err != nil {
					return err
				}
				for id := uint64(1); id <= tt.copied; id++ {
					if err := b.Put(key(id), encodeEntry(rec(id))); err != nil {
						return err
					}
				}
				return b.SetSequence(tt.copied)
			})
			if err != nil {
				t.Fatal(err)
			}
			var data []byte
			for _, id := range tt.inLog {
				data = appendRecord(data, rec(id))
			}
			if tt.torn {
				whole := appendRecord(nil, rec(99))
				data = append(data, whole[:len(whole)-3]...)
			}
			logPath := filepath.Join(dir, "inbox.log")
			if err := os.WriteFile(logPath, data, 0o600); err != nil {
				t.Fatal(err)
			}

			in, err := NewInbox(InboxOptions{DB: db, Log: logPath})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var want []string
			for _, id := range tt.want {
				want = append(want, fmt.Sprintf(`%d:{"id":%d}`, id, id))
			}
			if got := dueIDs(t, in); !slices.Equal(got, want) {
				t.Errorf("in the bucket: got %v, want %v", got, want)
			}
			if fi, err := os.Stat(logPath); err != nil || fi.Size() != 0 {
				t.Errorf("the log after open: %v, %v; want it empty", fi.Size(), err)
			}
			id, err := in.Add(context.Background(), []byte(`{}`))
			if err != nil || id != tt.wantNew {
				t.Errorf("next Add: got %d, %v; want %d", id, err, tt.wantNew)
			}
		})
	}
}

// TestInboxLogRewinds: once everything logged is copied and the log has
// grown past logRewindBytes, it is emptied.
func TestInboxLogRewinds(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, filepath.Join(dir, "state.db"))
	defer db.Close()
	logPath := filepath.Join(dir, "inbox.log")
	in, err := NewInbox(InboxOptions{DB: db, Log: logPath})
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 64<<10)
	n := logRewindBytes/len(body) + 1
	for range n {
		if _, err := in.Add(context.Background(), body); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(logPath)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log holds %d bytes 10s after the last Add, want 0", fi.Size())
		}
		time.Sleep(time.Millisecond)
	}
	if got := len(dueIDs(t, in)); got != n {
		t.Errorf("in the bucket: %d entries, want %d", got, n)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Add(context.Background(), body); err == nil {
		t.Error("Add after Close: got no error")
	}
}

// TestInboxLogConcurrentAdds: Adds from many goroutines share flushes;
// every one gets its own id, ids run without a gap, and every entry
// reaches the bucket with its body, there after the inbox is reopened on
// the same log.
func TestInboxLogConcurrentAdds(t *testing.T) {
	dir := t.TempDir()
	dbPath, logPath := filepath.Join(dir, "state.db"), filepath.Join(dir, "inbox.log")
	db := openTestDB(t, dbPath)
	in, err := NewInbox(InboxOptions{DB: db, Log: logPath})
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 32, 40
	ids := make([][]string, senders)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf(`{"s":%d,"i":%d}`, s, i)
				id, err := in.Add(context.Background(), []byte(body))
				if err != nil {
					t.Error(err)
					return
				}
				ids[s] = append(ids[s], fmt.Sprintf("%d:%s", id, body))
			}
		})
	}
	wg.Wait()
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(ids...)
	slices.SortFunc(want, func(a, b string) int {
		var x, y int
		fmt.Sscanf(a, "%d:", &x)
		fmt.Sscanf(b, "%d:", &y)
		return x - y
	})
	for i, w := range want {
		if !strings.HasPrefix(w, fmt.Sprintf("%d:", i+1)) {
			t.Fatalf("ids given: entry %d is %s, want id %d (no gap, none twice)", i, w, i+1)
		}
	}
	in, err = NewInbox(InboxOptions{DB: db, Log: logPath})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if got := dueIDs(t, in); !slices.Equal(got, want) {
		t.Errorf("in the bucket after reopening: %d entries, want %d; first difference in %v", len(got), len(want), firstDiff(got, want))
	}
	if st, err := in.Stats(context.Background(), 0); err != nil || st.Depth != senders*each {
		t.Errorf("Stats: depth %d, %v; want %d", st.Depth, err, senders*each)
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("got %s, want %s", got[i], want[i])
		}
	}
	return "the shorter's end"
}
