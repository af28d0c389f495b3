package natskv_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/natskv"
)

func ExampleNew() {
	ctx := context.Background()
	nc, err := nats.Connect(os.Getenv("EXAMPLE_NATS_URL")) // nats://127.0.0.1:4222
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := natskv.CreateBucket(ctx, js, "offload-example-ledger", 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := natskv.New(natskv.Options{KV: kv})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	errs, err := l.Commit(ctx, []ledger.Record{
		{Bucket: "my-site", Key: "docs/a b.html", Sequencer: "0055AED6DCD90281E5", ETag: "e1", Time: t0},
		{Bucket: "my-site", Key: "docs/a b.html", Sequencer: "0055AED6DCD90281E4", ETag: "e0", Time: t0},
	})
	fmt.Println(errs, err)
	recs, _ := l.Get(ctx, "my-site", []string{"docs/a b.html"})
	fmt.Println(recs["docs/a b.html"].ETag)
	fmt.Println(natskv.Key("my-site", "docs/a b.html"))
	// Output:
	// [<nil> ledger: a newer change is already recorded] <nil>
	// e1
	// bXktc2l0ZQ.ZG9jcy9hIGIuaHRtbA
}
