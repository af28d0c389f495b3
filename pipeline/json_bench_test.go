package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/eventgen"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/dryrun"
)

// What `offload apply` writes for one SQS event of 10,000 and of 100,000
// messages, applied to a dry-run target (its purges: 1,000 URLs each, with
// an outcome per URL).
func BenchmarkResultWriteJSON(b *testing.B) {
	dr, err := dryrun.New(dryrun.Options{Name: "edge", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	cfg := plan.Config{Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: []string{"edge"}}},
		Targets: []plan.Target{{Name: "edge", Provider: "log", BaseURL: "https://www.example.com",
			Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindURL: 1000}}}}}
	for _, n := range []int{10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			p := newPipeline(b, pipeline.Options{Plan: cfg, Ledger: ledger.NewMemory(), Purgers: map[string]purge.Purger{"edge": dr}})
			res, err := p.Apply(context.Background(), event.Decode(eventgen.SQS(n, eventgen.Options{Lean: true})))
			if err != nil {
				b.Fatal(err)
			}
			if res.Failed() != 0 || len(res.Purges) == 0 {
				b.Fatalf("got %d failed changes and %d purges, want none failed and some purges", res.Failed(), len(res.Purges))
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := res.WriteJSON(io.Discard, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
