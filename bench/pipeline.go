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
// child process so its peak memory and CPU time are its own.
type pipeRun struct {
	Records     int   // SQS messages in the batch
	Purged      int   // changes the plan purged
	Iterations  int   // testing.Benchmark's b.N, summed over its runs
	NsPerOp     int64 // wall time per batch
	CPUPerOp    int64 // user+system CPU ns per batch
	BytesPerOp  int64 // Go heap allocated per batch
	Failed      int   // changes that failed (must be 0)
	PayloadSize int
	RSSBefore   int64 // resident after building the payload
	PeakRSS     int64 // VmHWM over the benchmark, reset before it
	PeakReset   bool  // whether the reset of VmHWM worked

	// Set by the parent from the test servers' counts, per batch.
	Requests map[string]int // purge requests by target
	CFPaths  int            // paths sent to CloudFront
}

func init() {
	registerChild("pipeline", pipelineChild)
	register(measurement{Num: 3, Title: "Pipeline throughput",
		What:    "changes per second per core through decode + plan + apply and offload's provider clients, purge requests per provider, billed CloudFront paths and peak memory, against one invalidation per event, timed",
		Measure: func(o options) (section, error) { return measurePipeline(o) }})
}

const cdnEnv = "OFFLOAD_BENCH_CDN"

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
	var ep cdnEndpoints
	if err := json.Unmarshal([]byte(os.Getenv(cdnEnv)), &ep); err != nil {
		return fmt.Errorf("%s: %w", cdnEnv, err)
	}
	r, err := benchPipeline(ep, n, latency)
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(r)
}

// newPipeline is the pipeline measurement 3 runs: the planner's view of
// the targets, a fresh in-memory ledger, the provider clients. The one
// place measurement 3 builds offload's pipeline.
func newPipeline(cfg plan.Config, ps map[string]purge.Purger) (*pipeline.Pipeline, error) {
	return pipeline.New(pipeline.Options{Plan: cfg, Ledger: ledger.NewMemory(), Purgers: ps})
}

func benchPipeline(ep cdnEndpoints, n int, latency time.Duration) (*pipeRun, error) {
	payload := sqsBatch(n)
	ps, cfg, err := purgers(ep, latency)
	if err != nil {
		return nil, err
	}
	r := &pipeRun{Records: n, PayloadSize: len(payload)}
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
			p, err := newPipeline(cfg, ps)
			if err != nil {
				runErr = err
				b.SkipNow()
			}
			b.StartTimer()
			out, err := p.Apply(context.Background(), event.Decode(payload))
			if err != nil {
				runErr = err
				b.SkipNow()
			}
			r.Purged, r.Failed = out.Stats.Purge, out.Failed()
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

// seedsRun is the per-event baseline for one batch.
type seedsRun struct {
	Records  int
	Requests int
	Paths    int
	Wall     time.Duration // 0 when not timed
}

// seedsPerEvent runs the per-event baseline over the batch of n records
// against the CloudFront server of fakes, and counts what it received.
func seedsPerEvent(fakes *cdnFakes, n int, latency time.Duration) (seedsRun, error) {
	var paths []string
	for _, c := range event.Decode(sqsBatch(n)) {
		paths = append(paths, "/"+(&url.URL{Path: c.Key}).EscapedPath())
	}
	before := fakes.counts()
	begin := time.Now()
	err := perEvent(context.Background(), cloudFrontSDK(fakes.endpoints().CloudFront, latency), paths)
	wall := time.Since(begin)
	got := fakes.counts().sub(before)
	return seedsRun{Records: n, Requests: got.Requests["cf"], Paths: got.CFPaths, Wall: wall}, err
}

type pipelineResult struct {
	Latency     time.Duration
	Rounds      int
	Sizes       []int
	Runs        map[int][]*pipeRun // by size, one per round
	Seeds       map[int]seedsRun
	PerEventMax int // the largest batch the per-event baseline was timed for
}

func (pr *pipelineResult) write(p printer) { writePipeline(p, pr) }

// perEventMax bounds the per-event baseline's timing: it takes at least
// records × latency, 2,000 s for 100,000 records at 20 ms.
const perEventMax = 10000

func measurePipeline(opts options) (*pipelineResult, error) {
	fakes := startCDNFakes()
	defer fakes.Close()
	res := &pipelineResult{Latency: opts.Latency, Rounds: opts.PipelineRounds, Sizes: opts.Sizes, Runs: map[int][]*pipeRun{}, Seeds: map[int]seedsRun{}, PerEventMax: perEventMax}
	for round := range opts.PipelineRounds {
		for _, n := range opts.Sizes {
			r, err := runPipeline(fakes, n, opts.Latency, func(ep cdnEndpoints) (*pipeRun, error) { return runPipelineChild(ep, n, opts.Latency) })
			if err != nil {
				return nil, fmt.Errorf("%d changes: %w", n, err)
			}
			res.Runs[n] = append(res.Runs[n], r)
			logf(opts, "3 round %d, %d records: %v/batch wall, %v CPU, %d iterations, requests %v, peak RSS %d MiB",
				round+1, n, time.Duration(r.NsPerOp).Round(time.Microsecond), time.Duration(r.CPUPerOp).Round(time.Microsecond), r.Iterations, r.Requests, r.PeakRSS>>20)
		}
	}
	for _, n := range opts.Sizes {
		if n > perEventMax {
			continue
		}
		s, err := seedsPerEvent(fakes, n, opts.Latency)
		if err != nil {
			return nil, fmt.Errorf("per event, %d records: %w", n, err)
		}
		res.Seeds[n] = s
		logf(opts, "3 per event, %d records: %v, %d requests", n, s.Wall.Round(time.Millisecond), s.Requests)
	}
	return res, nil
}

// runPipeline runs one benchmark by bench against fakes and sets its
// requests per batch from what the servers answered.
func runPipeline(fakes *cdnFakes, n int, latency time.Duration, bench func(cdnEndpoints) (*pipeRun, error)) (*pipeRun, error) {
	before := fakes.counts()
	r, err := bench(fakes.endpoints())
	if err != nil {
		return nil, err
	}
	if r.Failed > 0 {
		return nil, fmt.Errorf("%d changes failed", r.Failed)
	}
	got := fakes.counts().sub(before)
	if len(got.Refused) > 0 {
		return nil, fmt.Errorf("the test servers refused requests (by target and status): %v", got.Refused)
	}
	r.Requests = map[string]int{}
	for k, v := range got.Requests {
		if v%r.Iterations != 0 {
			return nil, fmt.Errorf("%s: %d requests over %d batches", k, v, r.Iterations)
		}
		r.Requests[k] = v / r.Iterations
	}
	if got.CFPaths%r.Iterations != 0 {
		return nil, fmt.Errorf("cf: %d paths over %d batches", got.CFPaths, r.Iterations)
	}
	r.CFPaths = got.CFPaths / r.Iterations
	return r, nil
}

func runPipelineChild(ep cdnEndpoints, n int, latency time.Duration) (*pipeRun, error) {
	raw, err := json.Marshal(ep)
	if err != nil {
		return nil, err
	}
	var r pipeRun
	err = inChild("pipeline", []string{"OFFLOAD_BENCH_N=" + strconv.Itoa(n), "OFFLOAD_BENCH_LATENCY=" + latency.String(), cdnEnv + "=" + string(raw)}, &r)
	return &r, err
}
