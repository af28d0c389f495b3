package main

import (
	"fmt"
	"strings"
	"testing"
)

// A small measurement 8: two replicas apply every event, and a PUT through
// JetStream reaches the edge; the report names both.
func TestNATSSmall(t *testing.T) {
	bin, cleanup, err := buildOffload()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	cfg := natsBench{Events: 60, Senders: 4, Updates: 2}
	tp, err := natsThroughputRun(bin, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Accepted <= 0 || tp.Applied <= 0 || tp.Batches < 1 || tp.P99 < tp.P50 {
		t.Errorf("throughput: got %+v; want rates above 0, a batch, p99 ≥ p50", tp)
	}
	f, err := natsFreshRun(bin, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	if f.N != 2 || f.P50 <= 0 || f.Max < f.P50 {
		t.Errorf("fresh: got %+v; want 2 updates timed", f)
	}
	var b strings.Builder
	tp.Label = "JetStream, 2 replicas"
	slower := *tp
	slower.Accepted /= 2
	(&natsResult{Cfg: cfg, Throughput: [][]natsThroughput{{*tp, slower}}, Fresh: []natsFresh{*f}}).write(func(format string, args ...any) {
		b.WriteString(strings.TrimSpace(fmt.Sprintf(format, args...)) + "\n")
	})
	if strings.Contains(b.String(), "%!") {
		t.Errorf("report: a formatting error in\n%s", b.String())
	}
	// Two rounds: the accepted rate is a median and its range.
	row := fmt.Sprintf("| JetStream, 2 replicas | %s |", spreadOf([]float64{tp.Accepted, slower.Accepted}))
	for _, want := range []string{"## 8. Replicas on NATS JetStream", "| inbox | accepted/s", row, "| path | p50 | p99 | max |", "bounded"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report: no %q in\n%s", want, b.String())
		}
	}
}
