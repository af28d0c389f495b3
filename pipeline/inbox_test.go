package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/pipeline"
)

// webhook returns a MinIO webhook body for one put.
func webhook(bucket, key, etag, seq string) []byte {
	return fmt.Appendf(nil, `{"EventName":"s3:ObjectCreated:Put","Key":%q,"Records":[{"eventVersion":"2.0",
"eventSource":"minio:s3","eventTime":"2026-11-20T10:00:07.456Z","eventName":"s3:ObjectCreated:Put",
"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":12,"eTag":%q,"sequencer":%q}}}]}`,
		bucket+"/"+key, bucket, strings.ReplaceAll(key, " ", "+"), etag, seq)
}

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestInboxAddDueSettle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	clock := fakeclock.New()
	db := openDB(t, path)
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for i := range 3 {
		id, err := in.Add(ctx, fmt.Appendf(nil, `{"n":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		clock.Advance(time.Second)
	}
	if ids[0] >= ids[1] || ids[1] >= ids[2] {
		t.Fatalf("ids %v: want increasing", ids)
	}
	if got := in.Depth(); got != 3 {
		t.Fatalf("depth %d, want 3", got)
	}

	due, next, err := in.Due(ctx, clock.Now(), 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 3 || !next.IsZero() {
		t.Fatalf("due %d entries, next %v; want 3 and zero", len(due), next)
	}
	if got, want := string(due[1].Body), `{"n":1}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}

	retryAt := clock.Now().Add(time.Minute)
	err = in.Settle(ctx, []pipeline.Outcome{{ID: ids[0]}, {ID: ids[1], Err: "purge edge: HTTP 503", Next: retryAt}})
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Depth(); got != 2 {
		t.Fatalf("depth after settle %d, want 2", got)
	}
	due, next, err = in.Due(ctx, clock.Now(), 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].ID != ids[2] || !next.Equal(retryAt) {
		t.Fatalf("due %v, next %v; want only entry %d, next %v", due, next, ids[2], retryAt)
	}

	st, err := in.Stats(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != 2 || st.Failing != 1 || len(st.Failures) != 1 {
		t.Fatalf("stats %+v: want depth 2, 1 failing", st)
	}
	f := st.Failures[0]
	if f.ID != ids[1] || f.Attempts != 1 || f.LastErr != "purge edge: HTTP 503" || !f.Next.Equal(retryAt) {
		t.Errorf("failing entry %+v: want id %d, 1 attempt, its error and next", f, ids[1])
	}
	if got, want := st.OldestAge, 2.0; got != want { // entry 1 was received 2s before now
		t.Errorf("oldest age %vs, want %vs", got, want)
	}

	// What was added survives closing the file, and ids go on increasing.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, path)
	defer db.Close()
	in, err = pipeline.NewInbox(pipeline.InboxOptions{DB: db, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Depth(); got != 2 {
		t.Fatalf("depth after reopening %d, want 2", got)
	}
	id, err := in.Add(ctx, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if id <= ids[2] {
		t.Errorf("id after reopening %d, want more than %d", id, ids[2])
	}

	if err := in.Delete(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := in.Delete(ctx, ids[1]); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	if got := in.Depth(); got != 2 {
		t.Errorf("depth after delete %d, want 2", got)
	}
}

func TestInboxDueBounds(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "state.db"))
	defer db.Close()
	clock := fakeclock.New()
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := in.Add(ctx, []byte(strings.Repeat("x", 100))); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name            string
		limit, maxBytes int
		want            int
	}{
		{"by count", 2, 1 << 20, 2},
		{"by bytes", 10, 250, 2},
		{"one even if larger", 10, 10, 1},
		{"all", 10, 1 << 20, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, next, err := in.Due(ctx, clock.Now(), tt.limit, tt.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(due) != tt.want {
				t.Fatalf("got %d entries, want %d", len(due), tt.want)
			}
			// More are due at once, or none is left.
			if wantNext := tt.want < 5; next.IsZero() == wantNext || (wantNext && next.After(clock.Now())) {
				t.Errorf("next %v with %d of 5 taken", next, tt.want)
			}
		})
	}
}

func TestInboxConcurrentAdds(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "state.db"))
	defer db.Close()
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	ids := make(chan uint64, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			id, err := in.Add(ctx, fmt.Appendf(nil, `{"n":%d}`, i))
			ids <- id
			errs <- err
		}()
	}
	seen := map[uint64]bool{}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		id := <-ids
		if seen[id] {
			t.Fatalf("id %d given twice", id)
		}
		seen[id] = true
	}
	st, err := in.Stats(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != n || in.Depth() != n {
		t.Errorf("depth %d (stats) and %d (counter), want %d", st.Depth, in.Depth(), n)
	}
}

func TestInboxDeadLetters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	clock := fakeclock.New()
	db := openDB(t, path)
	defer func() { db.Close() }()
	open := func() *pipeline.Inbox {
		t.Helper()
		in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	in := open()
	t0 := clock.Now()
	var ids []uint64
	for i := range 4 {
		id, err := in.Add(ctx, fmt.Appendf(nil, `{"n":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		clock.Advance(time.Second)
	}
	err := in.Settle(ctx, []pipeline.Outcome{
		{ID: ids[0]},
		{ID: ids[1], Err: "purge edge: 400 Bad Request", Dead: true},
		{ID: ids[2], Err: "purge edge: 503", Next: clock.Now().Add(time.Minute)},
		{ID: ids[3], Err: "mirror ns: timeout", Dead: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantDepth int, want ...pipeline.Entry) {
		t.Helper()
		st, err := in.Stats(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if st.Depth != wantDepth || in.Depth() != wantDepth || st.DeadLettered != len(want) {
			t.Errorf("%s: depth %d (counter %d), dead %d; want %d and %d", when, st.Depth, in.Depth(), st.DeadLettered, wantDepth, len(want))
		}
		dead, err := in.DeadLetters(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != len(want) {
			t.Fatalf("%s: dead letters %+v, want %+v", when, dead, want)
		}
		for i, d := range dead {
			w := want[i]
			if d.ID != w.ID || !d.Received.Equal(w.Received) || d.Attempts != w.Attempts || d.LastErr != w.LastErr || d.Size != w.Size || d.Body != nil || !d.Next.IsZero() {
				t.Errorf("%s: dead letter %d: got %+v, want %+v", when, i, d, w)
			}
		}
	}
	d1 := pipeline.Entry{ID: ids[1], Received: t0.Add(time.Second), Attempts: 1, LastErr: "purge edge: 400 Bad Request", Size: len(`{"n":1}`)}
	d3 := pipeline.Entry{ID: ids[3], Received: t0.Add(3 * time.Second), Attempts: 1, LastErr: "mirror ns: timeout", Size: len(`{"n":3}`)}
	check("after settling", 1, d1, d3)
	if dead, err := in.DeadLetters(ctx, 1); err != nil || len(dead) != 1 || dead[0].ID != ids[1] {
		t.Errorf("DeadLetters(1): got %+v, %v; want the oldest only", dead, err)
	}

	// The dead letters are in the file: they survive a restart.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, path)
	in = open()
	check("after reopening", 1, d1, d3)

	// Replay: back in the inbox under a new id, as received now, with no
	// attempts; the dead letter is gone.
	clock.Advance(time.Hour)
	newID, err := in.Replay(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if newID <= ids[3] {
		t.Errorf("replayed as %d, want a new id after %d", newID, ids[3])
	}
	check("after replay", 2, d3)
	due, _, err := in.Due(ctx, clock.Now(), 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[1].ID != newID || string(due[1].Body) != `{"n":1}` || due[1].Attempts != 0 || due[1].LastErr != "" || !due[1].Received.Equal(clock.Now()) {
		t.Errorf("due after replay: %+v; want entry %d, then %d with the dead letter's body, received now, no attempts", due, ids[2], newID)
	}
	if _, err := in.Replay(ctx, ids[1]); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("replaying twice: got %v, want ErrNotFound", err)
	}

	// Discard: gone for good.
	if err := in.Discard(ctx, ids[3]); err != nil {
		t.Fatal(err)
	}
	check("after discard", 2)
	for _, id := range []uint64{ids[3], ids[0], ids[2], 999} { // discarded, done, waiting in the inbox, never was
		if err := in.Discard(ctx, id); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("Discard(%d): got %v, want ErrNotFound", id, err)
		}
		if _, err := in.Replay(ctx, id); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("Replay(%d): got %v, want ErrNotFound", id, err)
		}
	}
	check("after discarding what is not a dead letter", 2)
}

// TestInboxReopenAfterCrash: what Add returned is there after the file is
// closed without closing the inbox (as a crash leaves it), twice over, and
// what was settled between is not back: the log's second round, shorter
// than its first, ends before the first round's records.
func TestInboxReopenAfterCrash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	var db *bbolt.DB
	crashAndReopen := func() *pipeline.Inbox {
		t.Helper()
		if db != nil {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
		db = openDB(t, path)
		in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	defer func() { db.Close() }()
	add := func(in *pipeline.Inbox, n int) {
		t.Helper()
		for range n {
			if _, err := in.Add(ctx, []byte(`{"n":0}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	due := func(in *pipeline.Inbox) []uint64 {
		t.Helper()
		es, _, err := in.Due(ctx, time.Now(), 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for _, e := range es {
			if string(e.Body) != `{"n":0}` {
				t.Errorf("entry %d: got body %q, want {\"n\":0}", e.ID, e.Body)
			}
			ids = append(ids, e.ID)
		}
		return ids
	}

	in := crashAndReopen()
	add(in, 5)
	in = crashAndReopen()
	if got, want := due(in), []uint64{1, 2, 3, 4, 5}; !slices.Equal(got, want) || in.Depth() != 5 {
		t.Fatalf("after the first crash: got %v (depth %d), want %v", got, in.Depth(), want)
	}
	var done []pipeline.Outcome
	for id := range uint64(5) {
		done = append(done, pipeline.Outcome{ID: id + 1})
	}
	if err := in.Settle(ctx, done); err != nil {
		t.Fatal(err)
	}
	add(in, 2)
	in = crashAndReopen()
	if got, want := due(in), []uint64{6, 7}; !slices.Equal(got, want) || in.Depth() != 2 {
		t.Errorf("after the second crash: got %v (depth %d), want %v", got, in.Depth(), want)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
}

// Two inboxes of one process appending to one log would overwrite each
// other's records: the second is refused until the first is closed.
func TestInboxLogHasOneInbox(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "state.db"))
	defer db.Close()
	other := openDB(t, filepath.Join(dir, "other.db"))
	defer other.Close()
	first, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts pipeline.InboxOptions
	}{
		{"the same database", pipeline.InboxOptions{DB: db}},
		{"another database naming the log", pipeline.InboxOptions{DB: other, Log: filepath.Join(dir, "state.db.inbox-log")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := pipeline.NewInbox(c.opts)
			if err == nil {
				in.Close()
				t.Fatal("NewInbox: got an inbox, want an error: the log is open")
			}
			if want := "another inbox of this process has it open"; !strings.Contains(err.Error(), want) {
				t.Errorf("NewInbox: got %v, want an error with %q", err, want)
			}
		})
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		t.Fatalf("NewInbox after Close: got %v, want an inbox", err)
	}
	second.Close()
}
