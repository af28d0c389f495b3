package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/dynamo"
)

func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	db := dynamodb.NewFromConfig(cfg)
	if err := dynamo.CreateTable(ctx, db, "offload-example", time.Minute); err != nil {
		fmt.Println(err)
		return
	}
	l, err := dynamo.New(dynamo.Options{Client: db, Table: "offload-example"})
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
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(errs[0], errors.Is(errs[1], ledger.ErrStale))
	recs, _ := l.Get(ctx, "my-site", []string{"index.html"})
	fmt.Println(recs["index.html"].ETag)
	// Output:
	// <nil> true
	// e1
}
