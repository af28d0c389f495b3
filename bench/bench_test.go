package main

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/purge"
)

// A smoke test at a tiny size, so `go test ./...` stays fast; the harness
// itself runs only with `go run ./bench`.
func TestPipelineSmoke(t *testing.T) {
	if err := flag.Set("test.benchtime", "1x"); err != nil {
		t.Fatal(err)
	}
	r, err := benchPipeline(100, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"cf": 1, "ak": 1, "fy": 99}
	for target, n := range want {
		if got := r.Requests[target]; got != n {
			t.Errorf("%s requests: got %d, want %d", target, got, n)
		}
	}
	if r.Failed != 0 || r.Purged != 95 {
		t.Errorf("got %d purged, %d failed; want 95, 0", r.Purged, r.Failed)
	}
	if s := seedsPerEvent(100); s.Requests != 100 || s.Paths != 100 {
		t.Errorf("per event: got %d requests, %d paths; want 100, 100", s.Requests, s.Paths)
	}

	var b strings.Builder
	err = writeReport(&b, report{
		Machine: machine(),
		Start:   time.Now(),
		Sections: map[int]section{
			1: &hitResult{Rounds: 1, Library: []float64{10}, Extension: []float64{1000}, SDK: []float64{100000}},
			3: &pipelineResult{Rounds: 1, Sizes: []int{100}, Runs: map[int][]*pipeRun{100: {r}}, Seeds: map[int]seedsRun{100: seedsPerEvent(100)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| 100 | 95 | 1 | 1 | 99 |", "100×", "## 2. API calls to refresh N entries\n\n**Not measured in this run**"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}

func TestFakeSplit(t *testing.T) {
	tests := []struct {
		name string
		f    *fakeCDN
		n    int
		want int
	}{
		{"per call", &fakeCDN{PerCall: 3000}, 6001, 3},
		{"one by one", &fakeCDN{PerCall: 1}, 5, 5},
		{"body bytes", &fakeCDN{BodyBytes: 50000}, 2000, 2}, // 2,000 × 33 bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := make([]purge.Item, tt.n)
			for i := range items {
				items[i] = purge.Item{Kind: purge.KindURL, Value: strings.Repeat("x", 30)}
			}
			if got := len(tt.f.split(items)); got != tt.want {
				t.Errorf("got %d requests, want %d", got, tt.want)
			}
		})
	}
}

// BenchmarkPipeline10000 is measurement 3's batch of 10,000 records with no
// CDN latency, for profiling: go test ./bench -run - -bench Pipeline -memprofile m.out
func BenchmarkPipeline10000(b *testing.B) {
	payload := sqsBatch(10000)
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		fakes := newFakes(0)
		purgers := map[string]purge.Purger{}
		for name, f := range fakes {
			purgers[name] = f
		}
		p, err := pipeline.New(pipeline.Options{Plan: planConfig(fakes), Ledger: ledger.NewMemory(), Purgers: purgers})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		out, err := p.Apply(context.Background(), event.Decode(payload))
		if err != nil || out.Failed() != 0 {
			b.Fatal(err, out.Failed())
		}
	}
}
