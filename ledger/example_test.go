package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/offload-dev/offload/ledger"
)

func ExampleMemory() {
	ctx := context.Background()
	l := ledger.NewMemory()
	defer l.Close()

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// S3 delivered two changes of one object out of order, and a redelivery.
	errs, err := l.Commit(ctx, []ledger.Record{
		{Bucket: "my-site", Key: "docs/a b.html", Sequencer: "0055AED6DCD90281E6", ETag: "new", Time: t0.Add(time.Second)},
		{Bucket: "my-site", Key: "docs/a b.html", Sequencer: "0055AED6DCD90281E5", ETag: "old", Time: t0},
		{Bucket: "my-site", Key: "docs/a b.html", Sequencer: "0055AED6DCD90281E6", ETag: "new", Time: t0.Add(time.Second)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, e := range errs {
		fmt.Println(i, errors.Is(e, ledger.ErrStale))
	}
	recs, _ := l.Get(ctx, "my-site", []string{"docs/a b.html", "never-seen"})
	fmt.Println(len(recs), recs["docs/a b.html"].ETag)
	// Output:
	// 0 false
	// 1 true
	// 2 true
	// 1 new
}

// A job that walks a bucket commits a page of records, then marks the last
// key it finished; run again, it starts after the mark.
func ExampleCheckpointer() {
	ctx := context.Background()
	var l ledger.Ledger = ledger.NewMemory()
	defer l.Close()
	cp, ok := l.(ledger.Checkpointer)
	if !ok {
		fmt.Println("this ledger cannot resume a job")
		return
	}
	after, _ := cp.Checkpoint(ctx, "backfill/www")
	fmt.Printf("start after %q\n", after)

	page := []ledger.Record{{Bucket: "my-site", Key: "a.html", ETag: "e1"}, {Bucket: "my-site", Key: "b.html", ETag: "e2"}}
	if _, err := l.Commit(ctx, page); err != nil {
		fmt.Println(err)
		return
	}
	_ = cp.SetCheckpoint(ctx, "backfill/www", page[len(page)-1].Key)

	after, _ = cp.Checkpoint(ctx, "backfill/www")
	fmt.Printf("start after %q\n", after)
	// Output:
	// start after ""
	// start after "b.html"
}

// An operator's reset: a crafted event recorded a sequencer above any S3
// gives, so every real change to the key is stale. Delete forgets the key,
// and the next real change is recorded.
func ExampleLookup() {
	ctx := context.Background()
	l := ledger.NewMemory()
	defer l.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	crafted := ledger.Record{Bucket: "my-site", Key: "index.html", Sequencer: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", Time: t0}
	real := ledger.Record{Bucket: "my-site", Key: "index.html", Sequencer: "0055AED6DCD90281E5", ETag: "e1", Time: t0}
	l.Commit(ctx, []ledger.Record{crafted})
	errs, _ := l.Commit(ctx, []ledger.Record{real})
	fmt.Println("real change:", errs[0])

	e, _ := ledger.Lookup(ctx, l, "my-site", "index.html")
	fmt.Println("held:", e.Record.Sequencer)
	fmt.Println("reset:", l.Delete(ctx, "my-site", "index.html"))
	_, err := ledger.Lookup(ctx, l, "my-site", "index.html")
	fmt.Println("after:", errors.Is(err, ledger.ErrNotFound))
	errs, _ = l.Commit(ctx, []ledger.Record{real})
	fmt.Println("real change again:", errs[0])
	// Output:
	// real change: ledger: a newer change is already recorded
	// held: FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
	// reset: <nil>
	// after: true
	// real change again: <nil>
}
