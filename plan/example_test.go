package plan_test

import (
	"fmt"
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
