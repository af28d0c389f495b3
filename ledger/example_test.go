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
