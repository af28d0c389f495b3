package natsinbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/natstest"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/pipeline/natsinbox"
	"github.com/offload-dev/offload/retry"
)

var server *natstest.Server

func TestMain(m *testing.M) { os.Exit(natstest.RunMain(m, &server)) }

func connect(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
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

var names atomic.Int32

// fast are options for tests: streams of the test's own, short waits.
func fast(t testing.TB) func(*natsinbox.Options) {
	n := names.Add(1)
	return func(o *natsinbox.Options) {
		o.Stream, o.Subject = fmt.Sprintf("IN%d", n), fmt.Sprintf("in%d.events", n)
		o.DeadLetterStream, o.DeadLetterSubject = fmt.Sprintf("DEAD%d", n), fmt.Sprintf("in%d.dead", n)
		o.Window = 20 * time.Millisecond
		o.AckWait = time.Second
		o.Backoff = retry.Policy{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func newInbox(t testing.TB, js jetstream.JetStream, optFns ...func(*natsinbox.Options)) *natsinbox.Inbox {
	t.Helper()
	in, err := natsinbox.New(natsinbox.Options{JetStream: js}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	return in
}

func body(key string) []byte {
	return fmt.Appendf(nil, `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":%q,"sequencer":"01"}}}]}`, key)
}

// recorder applies changes, failing those whose key is in fail, and counts
// each key it applied.
type recorder struct {
	mu      sync.Mutex
	applied map[string]int
	batches int
	keys    [][]string // each batch's keys, in order
	fail    map[string]bool
}

func (r *recorder) Apply(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.applied == nil {
		r.applied = map[string]int{}
	}
	r.batches++
	var keys []string
	for _, c := range changes {
		keys = append(keys, c.Key)
	}
	r.keys = append(r.keys, keys)
	res := &pipeline.Result{}
	for _, c := range changes {
		cr := pipeline.ChangeResult{Status: pipeline.StatusOK}
		cr.Change = c
		if r.fail[c.Key] {
			cr.Status, cr.Error = pipeline.StatusFailed, "purge edge: HTTP 503"
		} else {
			r.applied[c.Key]++
		}
		res.Changes = append(res.Changes, cr)
	}
	return res, nil
}

func (r *recorder) batchKeys() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied[key]
}

func (r *recorder) total() (keys, applied int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.applied {
		keys++
		applied += n
	}
	return keys, applied
}

func stats(t *testing.T, in *natsinbox.Inbox) pipeline.InboxStats {
	t.Helper()
	st, err := in.Stats(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFor polls cond (JetStream settles asynchronously) for up to 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAddDedupesAndRunAcks(t *testing.T) {
	ctx := context.Background()
	in := newInbox(t, connect(t, server.URL), fast(t))
	a, err := in.Add(ctx, body("a"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := in.Add(ctx, body("a"))
	if err != nil || again != a {
		t.Errorf("Add of the same body again: got %d, %v; want %d (deduplicated)", again, err, a)
	}
	b, _ := in.Add(ctx, body("b"))
	if b == a {
		t.Errorf("Add of another body: got id %d, the same as the first", b)
	}
	if st := stats(t, in); st.Driver != "nats" || st.Depth != 2 || st.Pending != 2 || st.InFlight != 0 || st.OldestAge < 0 || st.Oldest.IsZero() {
		t.Errorf("Stats before Run: got %+v; want driver nats, depth 2, pending 2, in flight 0, an oldest time", st)
	}

	rec := &recorder{}
	n, err := in.RunOnce(ctx, rec)
	if err != nil || n != 2 {
		t.Fatalf("RunOnce: got %d, %v; want 2 messages", n, err)
	}
	if rec.batches != 1 || rec.count("a") != 1 || rec.count("b") != 1 {
		t.Errorf("applied: got %d batches, %v; want one batch with a and b once", rec.batches, rec.applied)
	}
	// The server removes an acked message from a work-queue stream a
	// moment after the ack.
	waitFor(t, "the acked messages gone", func() bool { return stats(t, in).Depth == 0 })
	if st := stats(t, in); st.Pending != 0 || st.InFlight != 0 || st.Redelivered != 0 {
		t.Errorf("Stats after Run: got %+v; want everything 0 (acked)", st)
	}
}

func TestFailureRedeliveryDeadLetterReplay(t *testing.T) {
	ctx := context.Background()
	in := newInbox(t, connect(t, server.URL), fast(t), func(o *natsinbox.Options) { o.MaxDeliveries = 3 })
	rec := &recorder{fail: map[string]bool{"bad": true}}
	badID, _ := in.Add(ctx, body("bad"))
	in.Add(ctx, body("good"))

	// Delivery 1 and 2 fail and are nak'd; delivery 3 fails and the message
	// becomes a dead letter.
	for range 20 {
		if st := stats(t, in); st.DeadLettered == 1 {
			break
		}
		if _, err := in.RunOnce(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the inbox empty", func() bool { return stats(t, in).Depth == 0 })
	st := stats(t, in)
	if st.DeadLettered != 1 || st.Depth != 0 || rec.count("good") != 1 {
		t.Fatalf("after the failures: got %+v, good applied %d times; want 1 dead letter, depth 0, good once", st, rec.count("good"))
	}
	dead, err := in.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("DeadLetters: got %v, %v; want one", dead, err)
	}
	d := dead[0]
	if d.Attempts != 3 || d.LastErr != "purge edge: HTTP 503" || d.Size != len(body("bad")) || d.Received.IsZero() {
		t.Errorf("dead letter: got attempts %d, error %q, size %d, received %s; want 3, the purge's error, %d, a time",
			d.Attempts, d.LastErr, d.Size, d.Received, len(body("bad")))
	}

	// Fixed: replay it, and it is applied.
	delete(rec.fail, "bad")
	newID, err := in.Replay(ctx, d.ID)
	if err != nil || newID == badID || newID == 0 {
		t.Fatalf("Replay: got %d, %v; want a new id", newID, err)
	}
	if _, err := in.Replay(ctx, d.ID); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Replay of a dead letter already replayed: got %v, want ErrNotFound", err)
	}
	if _, err := in.RunOnce(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if rec.count("bad") != 1 {
		t.Errorf("after the replay: bad applied %d times, want 1", rec.count("bad"))
	}
	waitFor(t, "the replayed message acked", func() bool { return stats(t, in).Depth == 0 })
	if st := stats(t, in); st.DeadLettered != 0 {
		t.Errorf("Stats after the replay: got %+v; want no dead letters", st)
	}
}

// A message that fails when older than MaxAge is a dead letter at once,
// whatever its deliveries.
func TestMaxAgeDeadLetters(t *testing.T) {
	ctx := context.Background()
	later := func() time.Time { return time.Now().Add(2 * time.Hour) } // the message was stored two hours ago
	in := newInbox(t, connect(t, server.URL), fast(t), func(o *natsinbox.Options) { o.MaxDeliveries, o.MaxAge, o.Now = 100, time.Hour, later })
	rec := &recorder{fail: map[string]bool{"bad": true}}
	if _, err := in.Add(ctx, body("bad")); err != nil {
		t.Fatal(err)
	}
	if n, err := in.RunOnce(ctx, rec); err != nil || n != 1 {
		t.Fatalf("RunOnce: took %d, %v; want 1", n, err)
	}
	waitFor(t, "the inbox empty", func() bool { return stats(t, in).Depth == 0 })
	dead, err := in.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 1 {
		t.Fatalf("DeadLetters: got %+v, %v; want one, after 1 delivery", dead, err)
	}
}

func TestDeleteAndDiscard(t *testing.T) {
	ctx := context.Background()
	in := newInbox(t, connect(t, server.URL), fast(t), func(o *natsinbox.Options) { o.MaxDeliveries = 1 })
	id, _ := in.Add(ctx, body("x"))
	if err := in.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := in.Delete(ctx, id); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Delete twice: got %v, want ErrNotFound", err)
	}
	in.Add(ctx, body("y"))
	if _, err := in.RunOnce(ctx, &recorder{fail: map[string]bool{"y": true}}); err != nil {
		t.Fatal(err)
	}
	dead, _ := in.DeadLetters(ctx, 10)
	if len(dead) != 1 {
		t.Fatalf("DeadLetters: got %d, want 1", len(dead))
	}
	if err := in.Discard(ctx, dead[0].ID); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if err := in.Discard(ctx, dead[0].ID); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Discard twice: got %v, want ErrNotFound", err)
	}
	waitFor(t, "the inbox empty", func() bool { return stats(t, in).Depth == 0 })
	if st := stats(t, in); st.DeadLettered != 0 {
		t.Errorf("Stats: got %+v, want no dead letters", st)
	}
}

// Three replicas, each on a connection of its own, share the consumer: every
// event is applied once, and the work is spread.
// TestRunGathers: with a window and a pause of an hour, a message that
// finds the consumer idle is applied at once, and messages that follow on
// its heels are gathered until BatchSize of them are there.
func TestRunGathers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := newInbox(t, connect(t, server.URL), fast(t), func(o *natsinbox.Options) { o.Window, o.Quiet, o.BatchSize = time.Hour, time.Hour, 3 })
	rec := &recorder{}
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, rec) }()
	defer func() { cancel(); <-done }()

	if _, err := in.Add(ctx, body("a")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a, to an idle consumer, applied without waiting the hour", func() bool { return rec.count("a") == 1 })
	for _, k := range []string{"b", "c", "d"} {
		if _, err := in.Add(ctx, body(k)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "b, c and d applied once there are BatchSize of them", func() bool { return rec.count("d") == 1 })
	got := rec.batchKeys()
	if want := [][]string{{"a"}, {"b", "c", "d"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches: got %v, want %v", got, want)
	}
}

func TestReplicasShareTheConsumer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := fast(t)
	var recs []*recorder
	var runs sync.WaitGroup
	var first *natsinbox.Inbox
	for i := range 3 {
		in := newInbox(t, connect(t, server.URL), opts)
		if i == 0 {
			first = in
		}
		rec := &recorder{}
		recs = append(recs, rec)
		runs.Go(func() { _ = in.Run(ctx, rec) })
	}
	const n = 300
	for i := range n {
		if _, err := first.Add(ctx, body(fmt.Sprintf("k%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every event applied", func() bool {
		sum := 0
		for _, r := range recs {
			_, a := r.total()
			sum += a
		}
		return sum >= n
	})
	waitFor(t, "the inbox empty", func() bool { return stats(t, first).Depth == 0 })
	cancel()
	runs.Wait()
	seen := map[string]int{}
	busy := 0
	for _, r := range recs {
		if k, _ := r.total(); k > 0 {
			busy++
		}
		for k, c := range r.applied {
			seen[k] += c
		}
	}
	if len(seen) != n {
		t.Errorf("keys applied: got %d, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s applied %d times, want once", k, c)
		}
	}
	if busy < 2 {
		t.Errorf("replicas that applied something: got %d, want 2 or more", busy)
	}
}

// A replica that dies holding a batch (its connection gone, nothing acked)
// loses nothing: after AckWait another replica gets the messages.
func TestDeadReplicasBatchGoesToAnother(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := fast(t)
	nc, err := nats.Connect(server.URL)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	doomed := newInbox(t, js, opts)
	for i := range 5 {
		doomed.Add(ctx, body(fmt.Sprintf("d%d", i)))
	}
	stuck := make(chan struct{})
	hold := applierFunc(func(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
		close(stuck)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	go func() { _, _ = doomed.RunOnce(ctx, hold) }()
	<-stuck
	nc.Close() // the replica is gone: no ack, no nak, no more "in progress"

	other := newInbox(t, connect(t, server.URL), opts)
	rec := &recorder{}
	go func() { _ = other.Run(ctx, rec) }()
	waitFor(t, "the dead replica's messages applied by another", func() bool { k, _ := rec.total(); return k == 5 })
	waitFor(t, "the inbox empty", func() bool { return stats(t, other).Depth == 0 })
}

// Stop nats-server while events are added and applied: the worker waits
// the outage out, and every event answered is applied.
func TestServerRestart(t *testing.T) {
	s := natstest.Start(t, natstest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := fast(t)
	in := newInbox(t, connect(t, s.URL), opts)
	rec := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Run(ctx, rec) }()

	var accepted []string
	add := func(key string) {
		actx, c := context.WithTimeout(ctx, time.Second)
		defer c()
		if _, err := in.Add(actx, body(key)); err == nil {
			accepted = append(accepted, key)
		}
	}
	for i := range 20 {
		add(fmt.Sprintf("before%d", i))
	}
	s.Kill()
	add("during")
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		add(fmt.Sprintf("after%d", i))
	}
	if len(accepted) < 40 {
		t.Fatalf("events accepted: got %d, want at least the 40 sent while the server was up", len(accepted))
	}
	waitFor(t, "every accepted event applied", func() bool {
		for _, k := range accepted {
			if rec.count(k) == 0 {
				return false
			}
		}
		return true
	})
	waitFor(t, "the inbox empty", func() bool {
		st, err := in.Stats(ctx, 0)
		return err == nil && st.Depth == 0 && st.InFlight == 0
	})
	cancel()
	<-done
}

type applierFunc func(ctx context.Context, changes []event.Change) (*pipeline.Result, error)

func (f applierFunc) Apply(ctx context.Context, changes []event.Change) (*pipeline.Result, error) {
	return f(ctx, changes)
}

func TestProvisionRefusesAStreamWithoutTheSubject(t *testing.T) {
	js := connect(t, server.URL)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}}); err != nil {
		t.Fatal(err)
	}
	in, err := natsinbox.New(natsinbox.Options{JetStream: js, Stream: "OTHER", Subject: "offload.x", DeadLetterSubject: "offload.y"})
	if err != nil {
		t.Fatal(err)
	}
	err = in.Provision(ctx)
	if err == nil || !strings.Contains(err.Error(), "stream OTHER does not take subject offload.x (its subjects: [other.>])") {
		t.Errorf("Provision: got %v, want it to say the stream does not take the subject", err)
	}
	// A stream whose wildcard takes it is used as it is.
	in, _ = natsinbox.New(natsinbox.Options{JetStream: js, Stream: "OTHER", Subject: "other.events", DeadLetterStream: "OTHER_DEAD", DeadLetterSubject: "dead.other"})
	if err := in.Provision(ctx); err != nil {
		t.Errorf("Provision on a stream taking other.>: got %v, want nil", err)
	}
}

func TestNewOptions(t *testing.T) {
	js := connect(t, server.URL)
	tests := []struct {
		name string
		opts natsinbox.Options
		want string
	}{
		{"no JetStream", natsinbox.Options{}, "natsinbox: Options.JetStream is required"},
		{"negative", natsinbox.Options{JetStream: js, MaxDeliveries: -1}, "natsinbox: Options.MaxDeliveries is negative; want 0 (its default) or more"},
		{"one stream", natsinbox.Options{JetStream: js, Stream: "X", DeadLetterStream: "X"}, `natsinbox: Options.Stream and Options.DeadLetterStream are both "X"; want two streams`},
		{"same subject", natsinbox.Options{JetStream: js, Subject: "a.b", DeadLetterSubject: "a.b"}, `natsinbox: Options.Subject "a.b" and Options.DeadLetterSubject "a.b" overlap; want subjects apart`},
		{"wildcard", natsinbox.Options{JetStream: js, Subject: "a.>", DeadLetterSubject: "a.dead"}, `natsinbox: Options.Subject "a.>" and Options.DeadLetterSubject "a.dead" overlap; want subjects apart`},
		{"star", natsinbox.Options{JetStream: js, Subject: "a.*.c", DeadLetterSubject: "a.b.*"}, `natsinbox: Options.Subject "a.*.c" and Options.DeadLetterSubject "a.b.*" overlap; want subjects apart`},
		{"defaults", natsinbox.Options{JetStream: js}, ""},
		{"apart", natsinbox.Options{JetStream: js, Subject: "a.*", DeadLetterSubject: "a.b.c"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := natsinbox.New(tt.opts)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("New: got %q, want %q", got, tt.want)
			}
			if err == nil && tt.name == "defaults" {
				o := in.Options()
				if o.Stream != "OFFLOAD" || o.Subject != "offload.events" || o.Consumer != "offload" || o.DeadLetterStream != "OFFLOAD_DEAD" ||
					o.DeadLetterSubject != "offload.dead" || o.MaxDeliveries != 10 || o.AckWait != 30*time.Second || o.BatchSize != 1000 || o.Quiet != 25*time.Millisecond || o.MaxAge != 0 {
					t.Errorf("defaults: got %+v", o)
				}
			}
		})
	}
}
