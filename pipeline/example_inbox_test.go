package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// printPurger prints what it is asked to purge.
type printPurger struct{}

func (printPurger) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "print"}
	for _, it := range req.Items {
		fmt.Println("purge", it.Value)
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true})
	}
	return res, nil
}

// What `offload serve` does with a webhook: the body goes into the durable
// inbox (Add returns once it is on disk), and a worker applies the inbox in
// batches; an entry leaves the inbox only when its changes succeeded.
func ExampleWorker() {
	dir, _ := os.MkdirTemp("", "inbox")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "offload.db"), 0o600, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	inbox, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		panic(err)
	}
	defer inbox.Close() // before the database: it moves what its log holds there
	p, err := pipeline.New(pipeline.Options{
		Plan: plan.Config{
			Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"edge"}}},
			Targets: []plan.Target{{Name: "edge", Provider: "varnish", BaseURL: "https://www.example.com"}},
		},
		Ledger:  ledger.NewMemory(),
		Purgers: map[string]purge.Purger{"edge": printPurger{}},
	})
	if err != nil {
		panic(err)
	}

	body, err := os.ReadFile("../event/testdata/minio-webhook.json")
	if err != nil {
		panic(err)
	}
	id, err := inbox.Add(context.Background(), body)
	if err != nil {
		panic(err)
	}
	fmt.Println("stored entry", id, "depth", inbox.Depth())

	w, err := pipeline.NewWorker(pipeline.WorkerOptions{Inbox: inbox, Applier: p, Logger: discard})
	if err != nil {
		panic(err)
	}
	n, _, err := w.RunOnce(context.Background()) // Run does this after each batch window
	if err != nil {
		panic(err)
	}
	fmt.Println("applied", n, "depth", inbox.Depth())
	// Output:
	// stored entry 1 depth 1
	// purge https://www.example.com/docs/a%20b.html
	// applied 1 depth 0
}

var discard = slog.New(slog.DiscardHandler)
