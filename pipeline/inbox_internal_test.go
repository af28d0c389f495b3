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

// commitInbox returns an inbox in a bbolt file of its own, and the number
// of commits (appends to its log, each one write and one fdatasync) so far.
func commitInbox(t *testing.T) (*Inbox, func() int) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "state.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	in, err := NewInbox(InboxOptions{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	commits := func() int {
		in.logMu.Lock()
		defer in.logMu.Unlock()
		return in.appends
	}
	return in, commits
}

// TestInboxAddsShareCommits holds the log while Adds pile up, then counts
// the commits (appends to the log) they took.
func TestInboxAddsShareCommits(t *testing.T) {
	tests := []struct {
		name        string
		adds        int
		wantCommits int
	}{
		{"one waits, the rest share the next commit", 50, 2},
		{"a group takes at most maxGroup", maxGroup + 76, 3}, // 1, then 1024, then 75
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, commits := commitInbox(t)
			before := commits()

			in.logMu.Lock()
			ids := make([]uint64, tt.adds)
			errs := make([]error, tt.adds)
			var wg sync.WaitGroup
			add := func(i int) {
				wg.Go(func() { ids[i], errs[i] = in.Add(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i)) })
			}
			// The first leads: it takes itself from the queue and waits
			// for the lock; the others queue behind it.
			queued := func(lead bool, n int) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					in.mu.Lock()
					l, q := in.leading, len(in.queue)
					in.mu.Unlock()
					if l == lead && q == n {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("after 10s: leading %v, %d queued; want %v and %d", l, q, lead, n)
					}
					time.Sleep(time.Millisecond)
				}
			}
			add(0)
			queued(true, 0)
			for i := 1; i < tt.adds; i++ {
				add(i)
			}
			queued(true, tt.adds-1)
			in.logMu.Unlock()
			wg.Wait()

			if got := commits() - before; got != tt.wantCommits {
				t.Errorf("commits: got %d, want %d", got, tt.wantCommits)
			}
			seen := map[uint64]bool{}
			for i, id := range ids {
				if errs[i] != nil || id == 0 || seen[id] {
					t.Fatalf("Add %d: got id %d, %v; want a new id", i, id, errs[i])
				}
				seen[id] = true
			}
			if got, want := in.Depth(), tt.adds; got != want {
				t.Errorf("depth: got %d, want %d", got, want)
			}
			if a := in.arrived(); a.n != tt.adds || a.lastID != uint64(tt.adds) {
				t.Errorf("arrivals: got %d up to id %d, want %d up to %d", a.n, a.lastID, tt.adds, tt.adds)
			}
		})
	}
}

// TestInboxAddFailsWholeGroup: a commit that fails (the log's file closed
// under it) fails every Add in it, and none is counted.
func TestInboxAddFailsWholeGroup(t *testing.T) {
	in, _ := commitInbox(t)
	if err := in.log.f.Close(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	ids := make([]uint64, 10)
	for i := range errs {
		wg.Go(func() { ids[i], errs[i] = in.Add(context.Background(), []byte(`{}`)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || ids[i] != 0 || !strings.Contains(err.Error(), "inbox: add to") {
			t.Errorf("Add %d: got id %d, %v; want id 0 and an inbox error", i, ids[i], err)
		}
	}
	if d, a := in.Depth(), in.arrived(); d != 0 || a.n != 0 {
		t.Errorf("after failed Adds: depth %d, arrivals %d; want 0 and 0", d, a.n)
	}
}

// TestArrivalsReadBeforeCounted: the worker may read entries that are in
// the bucket before their Add (or the log's mover) counts them. They are
// not counted as waiting, but the next arrival follows them: it does not
// find the inbox idle.
func TestArrivalsReadBeforeCounted(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		readID   uint64 // read up to, before the count
		counted  uint64 // the ids 1..counted are counted at t0
		wantN    int
		wantPrev time.Time
	}{
		{"all read first", 3, 3, 0, t0},
		{"some read first", 2, 3, 1, time.Time{}},
		{"none read first", 0, 3, 3, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a arrivals
			a.add(int(tt.counted), t0, tt.counted, tt.readID)
			if a.n != tt.wantN || !a.prev.Equal(tt.wantPrev) {
				t.Errorf("got %d waiting after %v, want %d after %v", a.n, a.prev, tt.wantN, tt.wantPrev)
			}
			if tt.wantN == 0 {
				a.add(1, t0.Add(time.Millisecond), tt.counted+1, tt.readID)
				g := Gather{Window: time.Second, Quiet: 10 * time.Millisecond, Fill: 100}
				if due := g.Due(a.n, a.prev, a.first, a.last); !due.After(a.first) {
					t.Errorf("the next arrival, 1ms later: due %v, want after %v (gathered, not idle)", due, a.first)
				}
			}
		})
	}
}

// TestInboxGatherWait: a group waits for the Adds the last commit took and
// left queued, for at most that commit's time and maxGather; not when they
// are there, not for a lone Add, not after a pause.
func TestInboxGatherWait(t *testing.T) {
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		queued int
		expect int
		since  time.Duration // from the last commit's end
		took   time.Duration // the last commit's
		want   time.Duration
	}{
		{"all there", 16, 16, 0, 2 * time.Millisecond, 0},
		{"more than expected", 5, 3, 0, 2 * time.Millisecond, 0},
		{"a lone Add", 1, 1, 0, 2 * time.Millisecond, 0},
		{"the first after a start", 1, 0, 0, 0, 0},
		{"the first of a burst's senders", 1, 16, 300 * time.Microsecond, 2 * time.Millisecond, maxGather},
		{"a commit shorter than maxGather", 8, 16, 0, 400 * time.Microsecond, 400 * time.Microsecond},
		{"after a pause", 1, 16, gatherPause + time.Millisecond, 2 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Inbox{queue: make([]*addition, tt.queued), expect: tt.expect, lastEnd: end, lastTook: tt.took,
				maxGather: maxGather, idle: gatherPause}
			if got := in.gatherWait(end.Add(tt.since)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestInboxGroupWaitsForExpectedAdds: a leader that expects three Adds
// waits (here for as long as it takes: no timer ends the wait) until the
// third is queued, and the three share one commit.
func TestInboxGroupWaitsForExpectedAdds(t *testing.T) {
	in, commits := commitInbox(t)
	before := commits()
	in.mu.Lock()
	in.expect, in.lastEnd, in.lastTook, in.maxGather, in.idle = 3, time.Now(), time.Hour, time.Hour, time.Hour
	in.mu.Unlock()

	const adds = 3
	ids := make([]uint64, adds)
	errs := make([]error, adds)
	var wg sync.WaitGroup
	state := func(want func(waiting bool, queued int) bool, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			in.mu.Lock()
			w, q := in.waiting, len(in.queue)
			in.mu.Unlock()
			if want(w, q) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10s: waiting %v, %d queued; want %s", w, q, what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i := range adds {
		wg.Go(func() { ids[i], errs[i] = in.Add(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i)) })
		if i < adds-1 {
			state(func(w bool, q int) bool { return w && q == i+1 }, fmt.Sprintf("the leader waiting, %d queued", i+1))
		}
	}
	wg.Wait()
	if got := commits() - before; got != 1 {
		t.Errorf("commits: got %d, want 1", got)
	}
	for i, id := range ids {
		if errs[i] != nil || id == 0 {
			t.Errorf("Add %d: got id %d, %v; want an id", i, id, errs[i])
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.waiting || len(in.gathered) != 0 || in.expect != adds {
		t.Errorf("after the commit: waiting %v, %d signals, expect %d; want false, 0, %d", in.waiting, len(in.gathered), in.expect, adds)
	}
}

// TestInboxLogAfterFailedWrite: after a write to the log fails, the next
// Add moves the log's entries into the bucket and starts the log over;
// every Add that returned an id is there after a crash (the file closed
// without closing the inbox), and the one that failed is not.
func TestInboxLogAfterFailedWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInbox(InboxOptions{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	add := func() uint64 {
		t.Helper()
		id, err := in.Add(ctx, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	want := []uint64{add(), add()}

	good := in.log.f
	ro, err := os.Open(in.log.path) // writes to it fail
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	in.log.f = ro
	if id, err := in.Add(ctx, []byte(`{}`)); err == nil || !in.log.broken {
		t.Fatalf("Add to a log that cannot be written: got id %d, %v (broken %v); want an error", id, err, in.log.broken)
	}
	in.log.f = good
	want = append(want, add(), add())
	if in.log.broken || len(in.pending) != 2 {
		t.Errorf("after the failed write: broken %v, %d pending; want false and 2 (the first two moved)", in.log.broken, len(in.pending))
	}

	if err := db.Close(); err != nil { // the crash: the log is not moved
		t.Fatal(err)
	}
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in, err = NewInbox(InboxOptions{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	due, _, err := in.Due(ctx, time.Now(), 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, e := range due {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("after the crash: got ids %v, want %v", got, want)
	}
}
