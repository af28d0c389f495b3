package bolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/bolt"
)

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "offload")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	l, err := bolt.New(bolt.Options{Path: filepath.Join(dir, "offload.db"), Timeout: 2 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	errs, err := l.Commit(ctx, []ledger.Record{
		{Bucket: "my-site", Key: "index.html", Sequencer: "0055AED6DCD90281E5", ETag: "e1", Time: t0},
		{Bucket: "my-site", Key: "index.html", Sequencer: "0055AED6DCD90281E4", ETag: "e0", Time: t0},
	})
	fmt.Println(errs, err)
	recs, _ := l.Get(ctx, "my-site", []string{"index.html"})
	fmt.Println(recs["index.html"].ETag)
	// Output:
	// [<nil> ledger: a newer change is already recorded] <nil>
	// e1
}
