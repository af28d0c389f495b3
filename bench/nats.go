package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offload-dev/offload/internal/childproc"
	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/internal/natstest"
	"github.com/offload-dev/offload/internal/syncbuf"
	"github.com/offload-dev/offload/internal/varnishtest"
)

func init() {
	register(measurement{Num: 8, Title: "Replicas on NATS JetStream",
		What: "webhook events a second accepted and applied by 1, 2 and 3 `offload serve` replicas sharing a JetStream inbox " +
			"and a key-value ledger, against one process with the bolt inbox; and PUT → fresh at a Varnish edge through " +
			"MinIO's JetStream target against through its webhook",
		Measure: func(o options) (section, error) { return measureNATS(o, defaultNATSBench()) },
	})
}

// natsBench is measurement 8's workload.
type natsBench struct {
	Events  int // webhook events posted per contender and round, each for its own object
	Senders int // concurrent senders
	Rounds  int // throughput rounds; each runs every contender once, in turn
	Updates int // PUT → fresh: updates, one at a time
}

// 10,000 events: at 3,000 the bolt inbox's burst lasted about a second on
// 2 cores, and runs of the same binary differed by a third (the start, the
// first batches, whatever else ran then); at 10,000 three runs in a row
// were within a tenth of each other (more apart when other work shares the
// machine). Three rounds: one run of the bolt inbox gave 4,534 accepted/s
// in a full harness run and 5,231 in a run of this measurement alone
// minutes later, on the same code; the median of three rounds, each
// contender in turn, is what a single run cannot be.
func defaultNATSBench() natsBench {
	return natsBench{Events: 10000, Senders: 16, Rounds: 3, Updates: 40}
}

type natsResult struct {
	Cfg        natsBench
	Window     time.Duration
	Throughput [][]natsThroughput // by contender, its rounds
	Fresh      []natsFresh
	NATS       string
}

type natsThroughput struct {
	Label    string
	Replicas int
	Accepted float64 // events a second answered 202
	Applied  float64 // events a second applied, from the first POST to the last change applied
	P50, P99 time.Duration
	Batches  int
	CPU      time.Duration // the replicas' CPU (user and system), start to stop, per event
}

type natsFresh struct {
	Label    string
	P50, P99 time.Duration
	Max      time.Duration
	N        int
}

func measureNATS(o options, cfg natsBench) (*natsResult, error) {
	res := &natsResult{Cfg: cfg, Window: 500 * time.Millisecond}
	if bin, err := natstest.Binary(); err == nil {
		if out, err := exec.Command(bin, "--version").Output(); err == nil {
			res.NATS = strings.TrimSpace(string(out))
		}
	}
	bin, cleanup, err := buildOffload()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	contenders := []struct {
		label    string
		replicas int
	}{{"bolt inbox, 1 process", 0}, {"JetStream, 1 replica", 1}, {"JetStream, 2 replicas", 2}, {"JetStream, 3 replicas", 3}}
	res.Throughput = make([][]natsThroughput, len(contenders))
	for round := range max(cfg.Rounds, 1) {
		for i, c := range contenders {
			logf(o, "8 throughput, round %d: %s, %d events from %d senders", round+1, c.label, cfg.Events, cfg.Senders)
			t, err := natsThroughputRun(bin, cfg, c.replicas)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.label, err)
			}
			t.Label = c.label
			res.Throughput[i] = append(res.Throughput[i], *t)
		}
	}
	for _, viaNATS := range []bool{false, true} {
		label := "MinIO webhook → offload serve (bolt inbox)"
		if viaNATS {
			label = "MinIO → JetStream → offload serve (1 replica)"
		}
		logf(o, "8 PUT → fresh: %s, %d updates", label, cfg.Updates)
		f, err := natsFreshRun(bin, cfg, viaNATS)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		f.Label = label
		res.Fresh = append(res.Fresh, *f)
	}
	return res, nil
}

// launchServe runs `offload serve` with the configuration text given and
// waits until it listens.
func launchServe(bin, dir, name, cfgText string) (*serveProc, error) {
	cfg := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		return nil, err
	}
	p := &serveProc{log: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--log-json")
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "OFFLOAD_BENCH_TOKEN="+freshToken)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = childproc.Attr(false)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start offload serve: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for p.addr == "" {
		select {
		case <-p.done:
			return nil, fmt.Errorf("offload serve exited before listening:\n%s", p.log)
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("offload serve not listening after 20s:\n%s", p.log)
		}
		p.eachLog(func(m map[string]any) {
			if m["msg"] == "listening" {
				p.addr, _ = m["addr"].(string)
			}
		})
		time.Sleep(20 * time.Millisecond)
	}
	return p, nil
}

// serveConfig is a replica's configuration: the bolt inbox in dir when
// natsURL is "", else the JetStream inbox and the key-value ledger.
func serveConfig(dir, natsURL, edge string) string {
	state := fmt.Sprintf("state:\n  path: %s\n", filepath.Join(dir, "offload.db"))
	if natsURL != "" {
		state = fmt.Sprintf("state:\n  driver: nats\ninbox:\n  driver: nats\n  url: %s\n", natsURL)
	}
	return fmt.Sprintf(`auth:
  tokens: [env:OFFLOAD_BENCH_TOKEN]
%ssites:
  - name: www
    bucket: %s
    targets: [edge]
targets:
  - {name: edge, provider: varnish, endpoints: [%s], host: %s, base_url: "http://%s/%s"}
`, state, freshBucket, edge, freshHost, freshHost, freshBucket)
}

// natsThroughputRun posts cfg.Events webhook events, each for an object
// of its own, round-robin to the replicas (0: one process with the bolt
// inbox), and times their acceptance and their application. The edge is a
// loopback server that answers every PURGE at once.
func natsThroughputRun(bin string, cfg natsBench, replicas int) (*natsThroughput, error) {
	dir, err := os.MkdirTemp("", "offload-bench-nats-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer edge.Close()

	natsURL, n := "", 1
	if replicas > 0 {
		s, err := natstest.Launch(dir, natstest.Options{})
		if err != nil {
			return nil, err
		}
		defer s.Close()
		natsURL, n = s.URL, replicas
	}
	var procs []*serveProc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i := range n {
		p, err := launchServe(bin, dir, fmt.Sprint("replica", i), serveConfig(dir, natsURL, edge.URL))
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
	}

	// The bodies are built before the clock starts, and each answer is
	// read to its end, so that its connection is kept: the senders cost
	// what a webhook sender on kept-alive connections does (MinIO's), not a
	// TCP connection per event.
	bodies := make([][]byte, cfg.Events)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"EventName":"s3:ObjectCreated:Put","Records":[{"eventVersion":"2.0","eventSource":"minio:s3",`+
			`"eventTime":"2026-11-20T10:00:07.456Z","eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":%q},`+
			`"object":{"key":"bench%%2F%05d.html","size":12,"eTag":"e%05d","sequencer":"%016X"}}}]}`, freshBucket, i, i, i+1)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Senders}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	lat := make([]time.Duration, cfg.Events)
	ids := make([]uint64, cfg.Events) // the inbox entry each 202 names
	next := make(chan int)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Senders {
		wg.Go(func() {
			for i := range next {
				req, _ := http.NewRequest(http.MethodPost, "http://"+procs[i%n].addr+"/v1/events", bytes.NewReader(bodies[i]))
				req.Header.Set("Authorization", "Bearer "+freshToken)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					lat[i] = time.Since(t0)
					failed.Add(1)
					continue
				}
				var answer struct{ ID uint64 }
				err = json.NewDecoder(resp.Body).Decode(&answer)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusAccepted || answer.ID == 0 {
					failed.Add(1)
					continue
				}
				ids[i] = answer.ID
			}
		})
	}
	for i := range cfg.Events {
		next <- i
	}
	close(next)
	wg.Wait()
	accepted := time.Since(start)
	if f := failed.Load(); f > 0 {
		return nil, fmt.Errorf("%d of %d events were not answered 202 with an inbox id", f, cfg.Events)
	}
	// One entry each: the bolt inbox's ids, or the shared stream's sequences.
	slices.Sort(ids)
	if d := len(slices.Compact(ids)); d != cfg.Events {
		return nil, fmt.Errorf("%d events answered 202 with %d distinct inbox ids, want %d", cfg.Events, d, cfg.Events)
	}
	changes := func() (sum, batches int) {
		for _, p := range procs {
			p.eachLog(func(m map[string]any) {
				if m["msg"] == "inbox batch applied" {
					c, _ := m["done"].(float64)
					sum += int(c)
					batches++
				}
			})
		}
		return sum, batches
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if got, _ := changes(); got >= cfg.Events {
			break
		}
		if time.Now().After(deadline) {
			got, _ := changes()
			return nil, fmt.Errorf("%d of %d events applied after 5 minutes", got, cfg.Events)
		}
		time.Sleep(10 * time.Millisecond)
	}
	applied := time.Since(start)
	_, batches := changes()
	var cpu time.Duration
	for _, p := range procs {
		p.stop()
		cpu += p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	}
	slices.Sort(lat)
	return &natsThroughput{Replicas: replicas, Accepted: float64(cfg.Events) / accepted.Seconds(),
		Applied: float64(cfg.Events) / applied.Seconds(), P50: lat[len(lat)/2], P99: lat[len(lat)*99/100], Batches: batches,
		CPU: cpu / time.Duration(cfg.Events)}, nil
}

// natsFreshRun puts cfg.Updates new versions of objects cached at a
// Varnish edge (TTL 1 day), one at a time, and times each from the PUT's
// answer to the first read through Varnish that serves the new bytes:
// MinIO's notification reaches `offload serve` by its webhook, or through
// JetStream.
func natsFreshRun(bin string, cfg natsBench, viaNATS bool) (*natsFresh, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "offload-bench-natsfresh-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	minioAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cache, err := varnishtest.Launch(dir, minioAddr, varnishtest.Options{TTL: 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	defer cache.Close()
	var (
		natsURL string
		mopts   = miniotest.Options{Address: minioAddr}
	)
	if viaNATS {
		s, err := natstest.Launch(dir, natstest.Options{})
		if err != nil {
			return nil, err
		}
		defer s.Close()
		natsURL = s.URL
		// No queue directory, as for the webhook: with one, MinIO sends
		// from it every 3 s (its store's retry interval).
		mopts.NATS = []miniotest.NATS{{ID: "offload", Address: s.Addr, Subject: "offload.events"}}
	}
	p, err := launchServe(bin, dir, "serve", serveConfig(dir, natsURL, cache.URL))
	if err != nil {
		return nil, err
	}
	defer p.stop()
	if !viaNATS {
		mopts.Webhooks = []miniotest.Webhook{{ID: "offload", Endpoint: "http://" + p.addr + "/v1/events", AuthToken: freshToken}}
	}
	m, err := miniotest.Launch(filepath.Join(dir, "minio"), mopts)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := setupBucket(ctx, m, false); err != nil {
		return nil, err
	}
	arn := miniotest.QueueARN("offload")
	if viaNATS {
		arn = miniotest.NATSQueueARN("offload")
	}
	if err := m.SetNotifyARN(ctx, freshBucket, arn); err != nil {
		return nil, err
	}

	fc := freshConfig{Size: 1024}
	const objects = 10
	for obj := range objects {
		if err := putVersion(ctx, m.Client(), fc, obj, 0); err != nil {
			return nil, err
		}
	}
	if err := p.waitPurges(objects, time.Minute); err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for obj := range objects {
		if _, _, err := readObject(ctx, client, cache.URL, obj); err != nil { // cached now
			return nil, err
		}
	}
	var took []time.Duration
	for u := range cfg.Updates {
		obj, ver := u%objects, u/objects+1
		if err := putVersion(ctx, m.Client(), fc, obj, ver); err != nil {
			return nil, err
		}
		put := time.Now()
		for {
			got, _, err := readObject(ctx, client, cache.URL, obj)
			if err != nil {
				return nil, err
			}
			if got >= ver {
				took = append(took, time.Since(put))
				break
			}
			if time.Since(put) > time.Minute {
				return nil, fmt.Errorf("object %d version %d not served a minute after its PUT", obj, ver)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	slices.Sort(took)
	return &natsFresh{P50: took[len(took)/2], P99: took[len(took)*99/100], Max: took[len(took)-1], N: len(took)}, nil
}

func freeAddr() (string, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (r *natsResult) write(p printer) {
	p("## 8. Replicas on NATS JetStream")
	p("")
	p("`offload serve` with `inbox.driver: nats` and `state.driver: nats` (%s on loopback, file", r.NATS)
	p("storage), each replica a process of its own, against one process with the embedded bolt inbox.")
	p("Every contender runs on this machine at once with its senders, so the replicas share its cores.")
	p("")
	p("**Throughput.** %d senders, each on a kept-alive connection as MinIO's webhook is, post %d", r.Cfg.Senders, r.Cfg.Events)
	p("MinIO-style webhook events, each for an object of its own, round-robin to the replicas; the target")
	p("is a loopback HTTP server that answers every PURGE at once. Every answer is checked: a 202 with an")
	p("inbox id of its own. Accepted: events answered 202 (stored: fsynced to bolt, or acknowledged by")
	p("JetStream) a second, until the last answer. Applied: events planned, purged and recorded a second, from the first POST")
	p("until the replicas' logs count every event applied. Batch window %v (the default). CPU/event:", r.Window)
	p("the CPU time (user and system) the `offload serve` processes used from start to stop, over the events:")
	p("what an event costs to accept and apply, less sensitive than the rates to what else runs here.")
	p("%d rounds, each running every contender once, in turn; median (range) over the rounds, and the", max(r.Cfg.Rounds, 1))
	p("median alone for the latencies and batches.")
	p("")
	p("| inbox | accepted/s | POST p50 | POST p99 | applied/s | batches | serve CPU/event, µs |")
	p("|---|---:|---:|---:|---:|---:|---:|")
	for _, runs := range r.Throughput {
		var acc, app, p50, p99, bat, cpu []float64
		for _, t := range runs {
			acc, app = append(acc, t.Accepted), append(app, t.Applied)
			p50, p99 = append(p50, float64(t.P50)), append(p99, float64(t.P99))
			bat, cpu = append(bat, float64(t.Batches)), append(cpu, float64(t.CPU.Microseconds()))
		}
		p("| %s | %s | %s | %s | %s | %.0f | %s |", runs[0].Label, spreadOf(acc), fmtDur(time.Duration(spreadOf(p50).Median)),
			fmtDur(time.Duration(spreadOf(p99).Median)), spreadOf(app), spreadOf(bat).Median, spreadOf(cpu))
	}
	p("")
	p("**PUT → fresh.** %d updates, one at a time, to objects Varnish holds for a day; each is timed", r.Cfg.Updates)
	p("from the PUT's answer to the first read through Varnish that serves the new bytes (reads every")
	p("5 ms). The notification reaches one `offload serve` by MinIO's webhook, or by MinIO's NATS target")
	p("publishing to JetStream; neither with a queue directory at MinIO (with one, MinIO sends what it")
	p("queued every 3 s, its store's retry interval, which would add up to that). Each update finds")
	p("the inbox idle and is applied at once; the batch window (%v) only bounds how long a burst is", r.Window)
	p("gathered.")
	p("")
	p("| path | p50 | p99 | max |")
	p("|---|---:|---:|---:|")
	for _, f := range r.Fresh {
		p("| %s | %s | %s | %s |", f.Label, fmtDur(f.P50), fmtDur(f.P99), fmtDur(f.Max))
	}
	p("")
	p("On this machine's %d cores the scaling is bounded by the cores: the replicas, nats-server and the", runtime.NumCPU())
	p("senders all share them, so more replicas cannot apply many more events a second here, and the")
	p("figures show what a replica costs as much as what it adds. On machines of their own, each replica")
	p("adds its cores.")
	p("What bounds the rate next is the shared ledger: each change is a key-value read and a")
	p("compare-and-set write, two round trips to nats-server, and every replica's commits go through")
	p("the one stream of the bucket; after it, nats-server's own CPU for the inbox stream's publish")
	p("acknowledgements and acks (one of each per event).")
	p("")
}
