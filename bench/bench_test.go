package main

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
)

// A smoke test of measurement 3 at a tiny size, in this process, through
// the real provider clients to the test servers; the harness itself runs
// only with `go run ./bench`.
func TestPipelineSmoke(t *testing.T) {
	if err := flag.Set("test.benchtime", "1x"); err != nil {
		t.Fatal(err)
	}
	fakes := startCDNFakes()
	defer fakes.Close()
	const latency = time.Millisecond
	r, err := runPipeline(fakes, 100, latency, func(ep cdnEndpoints) (*pipeRun, error) { return benchPipeline(ep, 100, latency) })
	if err != nil {
		t.Fatal(err)
	}
	// 95 objects (every 20th message a redelivery), 4 of them index.html
	// with a directory path too: 99 paths, one CloudFront call, one Akamai
	// call, one Fastly call per URL.
	want := map[string]int{"cf": 1, "ak": 1, "fy": 99}
	for target, n := range want {
		if got := r.Requests[target]; got != n {
			t.Errorf("%s requests: got %d, want %d", target, got, n)
		}
	}
	if r.Purged != 95 || r.CFPaths != 99 {
		t.Errorf("got %d purged, %d CloudFront paths; want 95, 99", r.Purged, r.CFPaths)
	}
	s, err := seedsPerEvent(fakes, 100, latency)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 100 || s.Paths != 100 || s.Wall < 100*latency {
		t.Errorf("per event: got %d requests, %d paths in %v; want 100, 100, at least %v", s.Requests, s.Paths, s.Wall, 100*latency)
	}

	var b strings.Builder
	err = writeReport(&b, report{
		Machine: machine(),
		Start:   time.Now(),
		Sections: map[int]section{
			1: &hitResult{Rounds: 1, Library: []float64{10}, Extension: []float64{1000}, SDK: []float64{100000}},
			3: &pipelineResult{Rounds: 1, Latency: latency, Sizes: []int{100}, Runs: map[int][]*pipeRun{100: {r}}, Seeds: map[int]seedsRun{100: s}, PerEventMax: perEventMax},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| 100 | 95 | 1 | 1 | 99 | 99 | $0.00 | 100 | 100 | $0.00 |", "## 2. API calls to load and refresh N entries\n\n**Not measured in this run**"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}

// BenchmarkPipeline10000 is measurement 3's batch of 10,000 records with no
// added latency, for profiling: go test ./bench -run - -bench Pipeline -memprofile m.out
func BenchmarkPipeline10000(b *testing.B) {
	fakes := startCDNFakes()
	defer fakes.Close()
	ps, cfg, err := purgers(fakes.endpoints(), 0)
	if err != nil {
		b.Fatal(err)
	}
	payload := sqsBatch(10000)
	b.ReportAllocs()
	for b.Loop() {
		p, err := newPipeline(cfg, ps)
		if err != nil {
			b.Fatal(err)
		}
		out, err := p.Apply(context.Background(), event.Decode(payload))
		if err != nil || out.Failed() != 0 {
			b.Fatal(err, out.Failed())
		}
	}
}
