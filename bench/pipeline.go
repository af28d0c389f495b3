package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// The targets of measurement 3, one of each way providers take purges.
var targetNames = []string{"cf", "ak", "fy"}

func newFakes(latency time.Duration) map[string]*fakeCDN {
	return map[string]*fakeCDN{
		"cf": {Provider: "cloudfront", PerCall: 3000, Concurrency: 1, Latency: latency},
		"ak": {Provider: "akamai", BodyBytes: 50000, Concurrency: 2, Latency: latency},
		"fy": {Provider: "fastly", PerCall: 1, Concurrency: 8, Latency: latency},
	}
}

func planConfig(fakes map[string]*fakeCDN) plan.Config {
	cfg := plan.Config{Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: targetNames}}}
	for _, n := range targetNames {
		f := fakes[n]
		t := plan.Target{Name: n, Provider: f.Provider, Limits: f.Limits()}
		if f.Provider != "cloudfront" {
			t.BaseURL = "https://www.example.com"
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	return cfg
}

// sqsBatch is an SQS event of n messages, each an S3 notification of one
// put, as a Lambda function behind SQS receives it. Every 25th object is an
// index document (two CDN paths); every 20th message is a redelivery of the
// message before it (S3 delivers at least once).
func sqsBatch(n int) []byte {
	type rec = map[string]any
	records := make([]rec, n)
	for i := range n {
		obj := i
		if i%20 == 19 {
			obj = i - 1
		}
		key := fmt.Sprintf("assets/dir%02d/file+%06d.js", obj%50, obj)
		if obj%25 == 1 {
			key = fmt.Sprintf("docs/p%06d/index.html", obj)
		}
		s3 := rec{"Records": []rec{{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
			"eventTime": "2026-11-20T10:00:00.000Z", "eventName": "ObjectCreated:Put",
			"s3": rec{"bucket": rec{"name": "my-site"}, "object": rec{
				"key": key, "size": 1024, "eTag": fmt.Sprintf("%032x", obj), "sequencer": fmt.Sprintf("0065A1%012X", obj)}},
		}}}
		body, _ := json.Marshal(s3)
		records[i] = rec{"messageId": fmt.Sprintf("m-%06d", i), "eventSource": "aws:sqs", "body": string(body)}
	}
	b, _ := json.Marshal(rec{"Records": records})
	return b
}

// pipeRun is one benchmark of decode + plan + apply of one batch, run in a
// child process so its peak memory is its own.
type pipeRun struct {
	Records     int            // SQS messages in the batch
	Purged      int            // changes the plan purged
	Iterations  int            // testing.Benchmark's b.N, summed over its runs
	NsPerOp     int64          // wall time per batch
	CPUPerOp    int64          // user+system CPU ns per batch
	BytesPerOp  int64          // Go heap allocated per batch
	Requests    map[string]int // purge requests by target
	Items       map[string]int // purged paths or URLs by target
	Failed      int            // changes that failed (must be 0)
	PayloadSize int
	RSSBefore   int64 // resident after building the payload
	PeakRSS     int64 // VmHWM over the benchmark, reset before it
	PeakReset   bool  // whether the reset of VmHWM worked
}

func init() {
	registerChild("pipeline", pipelineChild)
	register(measurement{Num: 3, Title: "Pipeline throughput",
		What:    "changes per second per core through decode + plan + apply, purge requests per provider, billed CloudFront paths and peak memory, against one invalidation per event",
		Measure: func(o options) (section, error) { return measurePipeline(o) }})
}

// pipelineChild runs one pipeline benchmark, as the parent asked in the
// environment, and prints its pipeRun as JSON.
func pipelineChild(w io.Writer) error {
	n, err := strconv.Atoi(os.Getenv("OFFLOAD_BENCH_N"))
	if err != nil {
		return err
	}
	latency, err := time.ParseDuration(os.Getenv("OFFLOAD_BENCH_LATENCY"))
	if err != nil {
		return err
	}
	r, err := benchPipeline(n, latency)
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(r)
}

func benchPipeline(n int, latency time.Duration) (*pipeRun, error) {
	payload := sqsBatch(n)
	r := &pipeRun{Records: n, PayloadSize: len(payload), Requests: map[string]int{}, Items: map[string]int{}}
	runtime.GC()
	debug.FreeOSMemory()
	r.RSSBefore, _ = procStatus("VmRSS")
	r.PeakReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil

	var runErr error
	var cpu time.Duration
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		start := cpuTime()
		for range b.N {
			b.StopTimer()
			fakes := newFakes(latency)
			purgers := map[string]purge.Purger{}
			for name, f := range fakes {
				purgers[name] = f
			}
			p, err := pipeline.New(pipeline.Options{Plan: planConfig(fakes), Ledger: ledger.NewMemory(), Purgers: purgers})
			if err != nil {
				runErr = err
				b.SkipNow()
			}
			b.StartTimer()
			changes := event.Decode(payload)
			out, err := p.Apply(context.Background(), changes)
			if err != nil {
				runErr = err
				b.SkipNow()
			}
			b.StopTimer()
			r.Purged, r.Failed = out.Stats.Purge, out.Failed()
			for name, f := range fakes {
				r.Requests[name], r.Items[name] = int(f.requests.Load()), int(f.items.Load())
			}
			b.StartTimer()
		}
		cpu += cpuTime() - start
		r.Iterations += b.N
	})
	if runErr != nil {
		return nil, runErr
	}
	r.NsPerOp, r.BytesPerOp = res.NsPerOp(), res.AllocedBytesPerOp()
	r.CPUPerOp = int64(cpu) / int64(max(r.Iterations, 1))
	r.PeakRSS, _ = procStatus("VmHWM")
	return r, nil
}

// procStatus reads a size field of /proc/self/status, in bytes.
func procStatus(field string) (int64, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			f := strings.Fields(v)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

// seedsRun is the seeds' approach for the same batch: every event, one
// CloudFront invalidation of its path, against the same fake.
type seedsRun struct {
	Records  int
	Requests int
	Paths    int
}

func seedsPerEvent(n int) seedsRun {
	f := newFakes(0)["cf"]
	changes := event.Decode(sqsBatch(n))
	for _, c := range changes {
		path := "/" + (&url.URL{Path: c.Key}).EscapedPath()
		f.Purge(context.Background(), purge.Request{Items: purge.Paths(path)})
	}
	return seedsRun{Records: n, Requests: int(f.requests.Load()), Paths: int(f.items.Load())}
}

type pipelineResult struct {
	Latency time.Duration
	Rounds  int
	Sizes   []int
	Runs    map[int][]*pipeRun // by size, one per round
	Seeds   map[int]seedsRun
}

func (pr *pipelineResult) write(p printer) { writePipeline(p, pr) }

func measurePipeline(opts options) (*pipelineResult, error) {
	res := &pipelineResult{Latency: opts.Latency, Rounds: opts.PipelineRounds, Sizes: opts.Sizes, Runs: map[int][]*pipeRun{}, Seeds: map[int]seedsRun{}}
	for round := range opts.PipelineRounds {
		for _, n := range opts.Sizes {
			r, err := runPipelineChild(n, opts.Latency)
			if err != nil {
				return nil, fmt.Errorf("%d changes: %w", n, err)
			}
			if r.Failed > 0 {
				return nil, fmt.Errorf("%d changes: %d failed", n, r.Failed)
			}
			res.Runs[n] = append(res.Runs[n], r)
			logf(opts, "3 round %d, %d records: %v/batch wall, %v CPU, %d iterations, requests %v, peak RSS %d MiB",
				round+1, n, time.Duration(r.NsPerOp).Round(time.Microsecond), time.Duration(r.CPUPerOp).Round(time.Microsecond), r.Iterations, r.Requests, r.PeakRSS>>20)
		}
	}
	for _, n := range opts.Sizes {
		res.Seeds[n] = seedsPerEvent(n)
	}
	return res, nil
}

func runPipelineChild(n int, latency time.Duration) (*pipeRun, error) {
	var r pipeRun
	err := inChild("pipeline", []string{"OFFLOAD_BENCH_N=" + strconv.Itoa(n), "OFFLOAD_BENCH_LATENCY=" + latency.String()}, &r)
	return &r, err
}
