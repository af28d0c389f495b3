package pipeline_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/pipeline"
)

type applyFunc func(ctx context.Context, changes []event.Change) (*pipeline.Result, error)

func (f applyFunc) Apply(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
	return f(ctx, changes)
}

// failKeys fails the changes to the keys given, with their own errors.
func failKeys(fail map[string]string) pipeline.Applier {
	return applyFunc(func(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
		res := &pipeline.Result{}
		for _, c := range changes {
			cr := pipeline.ChangeResult{Status: pipeline.StatusOK}
			cr.Change = c
			if msg, ok := fail[c.Key]; ok {
				cr.Status, cr.Error = pipeline.StatusFailed, msg
			}
			res.Changes = append(res.Changes, cr)
		}
		return res, nil
	})
}

func TestApplyBatch(t *testing.T) {
	entries := []pipeline.Entry{
		{ID: 7, Body: []byte(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a","sequencer":"01"}}}]}`)},
		{ID: 9, Body: []byte(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"c","sequencer":"02"}}}]}`)},
		{ID: 11, Body: []byte(`{"Records":[]}`)},
	}
	tests := []struct {
		name    string
		applier pipeline.Applier
		want    map[uint64]string
	}{
		{"all done", failKeys(nil), map[uint64]string{}},
		{"one failed", failKeys(map[string]string{"c": "purge edge: 503"}), map[uint64]string{9: "purge edge: 503"}},
		{"no reason", failKeys(map[string]string{"a": ""}), map[uint64]string{7: "failed, no reason given"}},
		{"whole batch", applyFunc(func(context.Context, []event.Change) (*pipeline.Result, error) {
			return nil, errors.New("read ledger: down")
		}), map[uint64]string{7: "read ledger: down", 9: "read ledger: down", 11: "read ledger: down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := pipeline.ApplyBatch(context.Background(), tt.applier, entries)
			if b.Changes != 2 {
				t.Errorf("Changes: got %d, want 2", b.Changes)
			}
			if len(b.Failed) != len(tt.want) {
				t.Errorf("Failed: got %v, want %v", b.Failed, tt.want)
			}
			for id, msg := range tt.want {
				if b.Failed[id] != msg {
					t.Errorf("Failed[%d]: got %q, want %q", id, b.Failed[id], msg)
				}
			}
		})
	}
}

func TestBoltInboxStats(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "state.db"))
	defer db.Close()
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := in.Add(ctx, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	err = in.Settle(ctx, []pipeline.Outcome{{ID: 2, Err: "boom", Next: time.Now().Add(time.Hour)}, {ID: 4, Err: "boom", Dead: true}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := in.Stats(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.Driver != "bolt" || st.Depth != 3 || st.Pending != 2 || st.Redelivered != 1 || st.InFlight != 0 || st.DeadLettered != 1 {
		t.Errorf("Stats: got driver %q depth %d pending %d redelivered %d in flight %d dead %d; want bolt 3 2 1 0 1",
			st.Driver, st.Depth, st.Pending, st.Redelivered, st.InFlight, st.DeadLettered)
	}
}
