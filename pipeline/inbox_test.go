package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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

func openDB(t *testing.T, path string) *bbolt.DB {
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
