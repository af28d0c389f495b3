package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/purge"
)

func TestGatherDue(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	g := pipeline.Gather{Window: 500 * time.Millisecond, Quiet: 25 * time.Millisecond, Fill: 1000}
	tests := []struct {
		name              string
		n                 int
		prev, first, last time.Time
		want              time.Time
	}{
		{"first event since start: at once", 1, time.Time{}, ms(0), ms(0), ms(0)},
		{"after a quiet inbox: at once", 1, ms(0), ms(25), ms(25), ms(25)},
		{"several at once after a quiet inbox", 16, ms(0), ms(100), ms(100), ms(100)},
		{"arriving on the heels of the last batch: gather for Quiet", 1, ms(0), ms(10), ms(10), ms(35)},
		{"still arriving: Quiet after the last", 40, ms(0), ms(10), ms(200), ms(225)},
		{"arriving for the whole window: the window ends it", 900, ms(0), ms(10), ms(500), ms(510)},
		{"a full batch: at once", 1000, ms(0), ms(10), ms(190), ms(10)},
		{"more than full: at once", 1500, ms(0), ms(10), ms(190), ms(10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := g.Due(tt.n, tt.prev, tt.first, tt.last); !got.Equal(tt.want) {
				t.Errorf("Due(%d, prev %v, first %v, last %v): got %v, want %v", tt.n,
					tt.prev.Sub(t0), tt.first.Sub(t0), tt.last.Sub(t0), got.Sub(t0), tt.want.Sub(t0))
			}
		})
	}
}

// batchPurger records each Purge call's items, and tells calls.
type batchPurger struct {
	mu    sync.Mutex
	got   [][]string
	calls chan struct{}
}

func (b *batchPurger) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "test"}
	var items []string
	for _, it := range req.Items {
		items = append(items, it.Value)
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true})
	}
	slices.Sort(items)
	b.mu.Lock()
	b.got = append(b.got, items)
	b.mu.Unlock()
	b.calls <- struct{}{}
	return res, nil
}

func (b *batchPurger) batches() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

// TestWorkerRunGathers drives Run on a fake clock, which the test moves
// only once the worker waits on it: an event that finds the inbox idle is
// applied at once, events that follow on its heels are gathered until a
// pause of Quiet, a full batch, or the Window.
func TestWorkerRunGathers(t *testing.T) {
	p := &batchPurger{calls: make(chan struct{}, 100)}
	r := newRig(t, p, func(o *pipeline.WorkerOptions) {
		o.Window, o.Quiet, o.BatchSize = 100*time.Millisecond, 10*time.Millisecond, 3
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.worker.Run(ctx) }()
	defer func() { cancel(); <-done }()

	t0 := r.clock.Now()
	seq := 0
	add := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			seq++
			r.add(t, webhook("site", k, "e", fmt.Sprintf("%02X", seq)))
		}
	}
	applied := func(want ...string) {
		t.Helper()
		select {
		case <-p.calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("no batch applied; want %v (the worker waits until %v)", want, r.clock.Waiting())
		}
		var urls []string
		for _, k := range want {
			urls = append(urls, "http://www.example.com/"+k)
		}
		b := p.batches()
		if got := b[len(b)-1]; !slices.Equal(got, urls) {
			t.Fatalf("batch %d: got %v, want %v", len(b), got, urls)
		}
	}
	// waiting waits until the worker waits for the clock to reach t0+d,
	// and checks that it has applied batches batches meanwhile.
	waiting := func(d time.Duration, batches int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !slices.ContainsFunc(r.clock.Waiting(), func(at time.Time) bool { return at.Equal(t0.Add(d)) }) {
			if time.Now().After(deadline) {
				t.Fatalf("the worker does not wait for +%v; it waits for %v", d, r.clock.Waiting())
			}
			time.Sleep(time.Millisecond)
		}
		if n := len(p.batches()); n != batches {
			t.Fatalf("%d batches applied while the worker waits for +%v, want %d", n, d, batches)
		}
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }

	add("a.html") // idle: at once
	applied("a.html")

	add("b.html") // on a's heels (the clock has not moved): gather
	waiting(ms(10), 1)
	r.clock.Advance(ms(5))
	add("c.html") // the pause starts again
	waiting(ms(15), 1)
	r.clock.Advance(ms(10)) // +15: quiet for 10ms
	applied("b.html", "c.html")

	r.clock.Advance(ms(11)) // +26: quiet since c (+5)
	add("d.html")
	applied("d.html")
	add("e.html", "f.html") // gathered…
	waiting(ms(36), 3)
	add("g.html") // …until a full batch
	applied("e.html", "f.html", "g.html")

}

// TestWorkerRunGatherWindow: events that never pause for Quiet are applied
// when the first of them has waited Window.
func TestWorkerRunGatherWindow(t *testing.T) {
	p := &batchPurger{calls: make(chan struct{}, 100)}
	r := newRig(t, p, func(o *pipeline.WorkerOptions) { o.Window, o.Quiet = 100*time.Millisecond, 10*time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.worker.Run(ctx) }()
	defer func() { cancel(); <-done }()

	t0 := r.clock.Now()
	r.add(t, webhook("site", "first.html", "e", "01"))
	select {
	case <-p.calls:
	case <-time.After(10 * time.Second):
		t.Fatal("the first event, to an idle inbox, was not applied")
	}
	var want []string
	for i := 0; i <= 11; i++ { // at +0, +9, … +99
		if i > 0 {
			r.clock.Advance(9 * time.Millisecond)
		}
		key := fmt.Sprintf("k%02d.html", i)
		r.add(t, webhook("site", key, "e", fmt.Sprintf("%02X", i+2)))
		want = append(want, "http://www.example.com/"+key)
		// Quiet after this one, or the window of the first: the earlier.
		at := t0.Add(min(time.Duration(9*i+10), 100) * time.Millisecond)
		deadline := time.Now().Add(10 * time.Second)
		for !slices.ContainsFunc(r.clock.Waiting(), at.Equal) {
			if time.Now().After(deadline) {
				t.Fatalf("after event %d: the worker does not wait for +%v; it waits for %v", i, at.Sub(t0), r.clock.Waiting())
			}
			time.Sleep(time.Millisecond)
		}
		if n := len(p.batches()); n != 1 {
			t.Fatalf("after event %d: %d batches, want 1 (the first event's)", i, n)
		}
	}
	r.clock.Advance(time.Millisecond) // +100
	select {
	case <-p.calls:
	case <-time.After(10 * time.Second):
		t.Fatalf("nothing applied at the end of the window; the worker waits for %v", r.clock.Waiting())
	}
	b := p.batches()
	if got := b[len(b)-1]; !slices.Equal(got, want) {
		t.Errorf("the window's batch: got %v, want %v", got, want)
	}
}
