package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// linePurger prints what it is asked to purge.
type linePurger struct{}

func (linePurger) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "print"}
	for _, it := range req.Items {
		fmt.Println("purge", it.Value)
		res.Outcomes = append(res.Outcomes, purge.Outcome{Item: it, OK: true})
	}
	return res, nil
}

// What `offload apply` does: a payload streamed into a Builder, applied,
// and the result written as it is made. The redelivered put is skipped as
// a duplicate; the ledger records the first.
func ExamplePipeline_ApplyFrom() {
	p, err := pipeline.New(pipeline.Options{
		Plan: plan.Config{
			Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"edge"}}},
			Targets: []plan.Target{{Name: "edge", Provider: "varnish", BaseURL: "https://www.example.com"}},
		},
		Ledger:  ledger.NewMemory(),
		Purgers: map[string]purge.Purger{"edge": linePurger{}},
	})
	if err != nil {
		panic(err)
	}
	const put = `{"eventName":"ObjectCreated:Put","eventTime":"2026-11-20T10:00:00Z","s3":{"bucket":{"name":"my-site"},"object":{"key":"a.html","eTag":"e1","sequencer":"01"}}}`
	var b plan.Builder
	if err := event.Read(strings.NewReader(`{"Records":[`+put+`,`+put+`]}`), &b); err != nil {
		panic(err)
	}
	failed, err := p.ApplyFrom(context.Background(), &b, os.Stdout, false)
	fmt.Println(failed, err)
	// Output:
	// purge https://www.example.com/a.html
	// {"changes":[{"bucket":"my-site","key":"a.html","kind":"put","etag":"e1","sequencer":"01","time":"2026-11-20T10:00:00Z","event":"ObjectCreated:Put","record":0,"decision":"purge","reason":"new","sites":["www"],"status":"ok"},{"bucket":"my-site","key":"a.html","kind":"put","etag":"e1","sequencer":"01","time":"2026-11-20T10:00:00Z","event":"ObjectCreated:Put","record":1,"decision":"skip","reason":"duplicate","detail":"the same event was already seen","sites":["www"],"status":"skipped"}],"mirrors":[],"purges":[{"target":"edge","provider":"varnish","urls":["https://www.example.com/a.html"],"changes":[0],"requests":1,"status":"ok","result":{"provider":"print","calls":[],"outcomes":[{"item":{"kind":"url","value":"https://www.example.com/a.html"},"ok":true}]}}],"stats":{"changes":2,"purge":1,"skip":1,"reasons":{"duplicate":1,"new":1},"requests":{"edge":1},"items":{"edge":1},"billed_paths":0},"committed":1}
	// 0 <nil>
}
