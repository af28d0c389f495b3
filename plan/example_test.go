package plan_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// Plan three changes to a site served by CloudFront (paths) and Akamai
// (URLs): a changed page, an index document (also purged at its
// directory), and a put that did not change the object, which is skipped.
func ExampleMake() {
	cfg := plan.Config{
		Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", Targets: []string{"cf", "ak"}}},
		Targets: []plan.Target{
			{Name: "cf", Provider: "cloudfront", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 3000}}},
			{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com"},
		},
	}
	t := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	changes := []event.Change{
		{Bucket: "my-site", Key: "docs/a b.html", Kind: event.KindPut, ETag: "e2", Sequencer: "02", Time: t},
		{Bucket: "my-site", Key: "docs/index.html", Kind: event.KindPut, ETag: "e2", Sequencer: "02", Time: t},
		{Bucket: "my-site", Key: "logo.png", Kind: event.KindPut, ETag: "e1", Sequencer: "02", Time: t},
	}
	// What the ledger holds for these objects (plan.Objects says which to read).
	held := map[plan.Object]ledger.Record{}
	for _, c := range changes {
		held[plan.Object{Bucket: c.Bucket, Key: c.Key}] = ledger.Record{Bucket: c.Bucket, Key: c.Key, ETag: "e1", Sequencer: "01", Time: t.Add(-time.Hour)}
	}

	p := plan.Make(cfg, changes, held)
	for _, d := range p.Changes {
		fmt.Println(d.Key+":", d.Decision, d.Reason)
	}
	for _, b := range p.Purges {
		if b.Provider == "cloudfront" {
			fmt.Println(b.Target, b.Paths)
		} else {
			fmt.Println(b.Target, b.URLs)
		}
	}
	// Output:
	// docs/a b.html: purge changed
	// docs/index.html: purge changed
	// logo.png: skip unchanged
	// ak [https://www.example.com/docs/ https://www.example.com/docs/a%20b.html https://www.example.com/docs/index.html]
	// cf [/docs/ /docs/a%20b.html /docs/index.html]
}

// A change redelivered after it was purged at CloudFront and failed at
// Akamai: its receipt, read from the ledger, leaves CloudFront out.
func ExampleResume() {
	cfg := plan.Config{
		Sites: []plan.Site{{Name: "www", Bucket: "my-site", Targets: []string{"cf", "ak"}}},
		Targets: []plan.Target{
			{Name: "cf", Provider: "cloudfront"},
			{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com"},
		},
	}
	t := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	c := event.Change{Bucket: "my-site", Key: "a.html", Kind: event.KindPut, ETag: "e2", Sequencer: "02", Time: t}
	o := plan.Object{Bucket: "my-site", Key: "a.html"}
	held := map[plan.Object]ledger.Record{o: {Bucket: "my-site", Key: "a.html", ETag: "e1", Sequencer: "01", Time: t}}
	receipts := map[plan.Object]ledger.Receipt{o: {Bucket: "my-site", Key: "a.html", Change: plan.ChangeID(c), Targets: []string{"cf"}}}

	p := plan.Resume(cfg, []event.Change{c}, held, receipts)
	fmt.Println(p.Changes[0].Decision, p.Changes[0].Reason, "done at", p.Changes[0].Done)
	for _, b := range p.Purges {
		fmt.Println(b.Target, b.URLs)
	}
	fmt.Println("purged up to", p.Commits[0].Record.Purged)
	// Output:
	// purge changed done at [cf]
	// ak [https://www.example.com/a.html]
	// purged up to 02
}

func ExampleChangeID() {
	c := event.Change{Bucket: "my-site", Key: "a.html", Kind: event.KindPut, ETag: "e1", Sequencer: "0055AED6DCD90281E5"}
	fmt.Println(plan.ChangeID(c))
	// Output:
	// seq:000000000000000055AED6DCD90281E5 put e1
}

// Stream a payload into a Builder and write its plan as it is made, as
// `offload plan` does: a redelivered put is a duplicate of the first.
func ExampleBuilder_WriteJSON() {
	cfg := plan.Config{
		Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"cf"}}},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront"}},
	}
	const put = `{"eventName":"ObjectCreated:Put","eventTime":"2026-11-20T10:00:00Z","s3":{"bucket":{"name":"my-site"},"object":{"key":"a.html","eTag":"e1","sequencer":"01"}}}`
	var b plan.Builder
	if err := event.Read(strings.NewReader(`{"Records":[`+put+`,`+put+`]}`), &b); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.WriteJSON(os.Stdout, cfg, nil, nil, false); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"changes":[{"bucket":"my-site","key":"a.html","kind":"put","etag":"e1","sequencer":"01","time":"2026-11-20T10:00:00Z","event":"ObjectCreated:Put","record":0,"decision":"purge","reason":"new","sites":["www"]},{"bucket":"my-site","key":"a.html","kind":"put","etag":"e1","sequencer":"01","time":"2026-11-20T10:00:00Z","event":"ObjectCreated:Put","record":1,"decision":"skip","reason":"duplicate","detail":"the same event was already seen","sites":["www"]}],"mirrors":[],"purges":[{"target":"cf","provider":"cloudfront","paths":["/a.html"],"changes":[0],"requests":1}],"commits":[{"record":{"bucket":"my-site","key":"a.html","sequencer":"01","etag":"e1","time":"2026-11-20T10:00:00Z","purged":"01"},"changes":[0]}],"stats":{"changes":2,"purge":1,"skip":1,"reasons":{"duplicate":1,"new":1},"requests":{"cf":1},"items":{"cf":1},"billed_paths":1}}
}

// How many changes serve gathers into one batch for a Cloudflare zone that
// takes 30 URLs a request: 1,020, so that a burst of one URL per change
// makes 34 full requests a batch rather than 33 and one of 10.
func ExampleConfig_FillingBatch() {
	cfg := plan.Config{Targets: []plan.Target{
		{Name: "cf", Provider: "cloudflare", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindURL: 30}}},
	}}
	fmt.Println(cfg.FillingBatch(1000, 3000))
	// Output: 1020
}

// A Compact is the plan of a Builder's changes with each decision made
// only when asked for: what `offload apply` applies.
func ExampleBuilder_Compact() {
	cfg := plan.Config{
		Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"cf"}}},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront"}},
	}
	const put = `{"eventName":"ObjectCreated:Put","eventTime":"2026-11-20T10:00:00Z","s3":{"bucket":{"name":"my-site"},"object":{"key":"a.html","eTag":"e1","sequencer":"01"}}}`
	var b plan.Builder
	if err := event.Read(strings.NewReader(`{"Records":[`+put+`,`+put+`]}`), &b); err != nil {
		fmt.Println(err)
		return
	}
	c := b.Compact(cfg, nil, nil)
	for i := range c.Len() {
		d := c.Decision(i)
		fmt.Println(d.Key, d.Decision, d.Reason)
	}
	for _, batch := range c.Purges() {
		fmt.Println(batch.Target, batch.Paths)
	}
	// Output:
	// a.html purge new
	// a.html skip duplicate
	// cf [/a.html]
}
