package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/lambdatest"
	"github.com/offload-dev/offload/ledger/dynamo"
)

// lambdaMemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE for every process;
// the emulator limits nothing by it.
const lambdaMemoryMB = 128

// lambdaParams sizes measurement 4; the harness uses lambdaDefaults, the
// smoke test something tiny.
type lambdaParams struct {
	Rounds int // fresh execution environments (processes) of each kind
	Warm   int // warm single-event invocations per round
	Batch  int // records in the SQS batch, once per round
}

var lambdaDefaults = lambdaParams{Rounds: 5, Warm: 30, Batch: 10000}

// singles is one execution environment's cold start with one event and
// the warm events after it.
type singles struct {
	Init        time.Duration   // process start to its first GET .../next
	FirstAnswer time.Duration   // process start to the first event's response
	ColdCPU     time.Duration   // the process's CPU time up to that response
	ColdFaults  int64           // its page faults (minor and major) up to then
	PeakOne     int64           // VmHWM after the first event, bytes
	Warm        []time.Duration // each warm event's invoke round trip
	WarmCPU     time.Duration   // CPU time over all the warm events
}

// lambdaRound is one round: the bootstrap's singles and batch, the Go
// floors' singles and the Python handler's, each in an execution
// environment of its own.
type lambdaRound struct {
	Offload    singles // with the DynamoDB ledger
	OffloadMem singles // with the in-memory ledger
	Floor      singles // bench/gofloor: one CreateInvalidation per event
	Hello      singles // bench/gofloor/hello: no call
	Python     singles
	Batch      batchRun // with the in-memory ledger
}

// batchRun is the batch sent to a warm bootstrap.
type batchRun struct {
	Took        time.Duration  // the invoke's round trip
	CPU         time.Duration  // the bootstrap's CPU time over it
	Peak        int64          // VmHWM after it, bytes
	Failed      int            // messages the response named as failed
	FailReasons map[string]int // the changes' errors behind them, counted
	Log         batchLog       // the bootstrap's summary of it
}

// dynamoBatch is the batch once more, with the DynamoDB ledger, and the
// calls the bootstrap made for it, counted by operation.
type dynamoBatch struct {
	batchRun
	Invalidations int
	Calls         map[string]int
}

type lambdaResult struct {
	Params             lambdaParams
	MemoryMB           int   // AWS_LAMBDA_FUNCTION_MEMORY_SIZE given to the process
	BinaryBytes        int64 // the stripped bootstrap
	FloorBytes         int64 // bench/gofloor, built as the bootstrap is
	HelloBytes         int64 // bench/gofloor/hello, likewise
	Platform           string
	PayloadBytes       int // sqsBatch(Params.Batch)
	BatchInvalidations int // CloudFront invalidations per batch
	Python             string
	Boto3              string
	Runs               []lambdaRound
	Dynamo             *dynamoBatch
}

func init() {
	register(measurement{Num: 4, Title: "Lambda cold start and per-event cost",
		What:    "start-to-first-response of the bootstrap under the Runtime API emulator, per-event duration when warm, and peak memory for one event (DynamoDB ledger and CloudFront target in moto) and for a 10,000-record SQS batch",
		Measure: func(o options) (section, error) { return measureLambda(o, lambdaDefaults) }})
}

func (r *lambdaResult) write(p printer) { writeLambda(p, r) }

func measureLambda(opts options, lp lambdaParams) (*lambdaResult, error) {
	dir, err := os.MkdirTemp("", "offload-bench-lambda-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	logf(opts, "4 building the bootstrap")
	bin, err := buildBootstrap(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return nil, err
	}
	logf(opts, "4 building the Go floors")
	floor, floorBytes, err := buildFloor(dir, "gofloor")
	if err != nil {
		return nil, err
	}
	hello, helloBytes, err := buildFloor(dir, "gofloor/hello")
	if err != nil {
		return nil, err
	}
	py, err := writePythonLambda(filepath.Join(dir, "python"))
	if err != nil {
		return nil, err
	}
	logf(opts, "4 starting moto")
	moto, err := awstest.StartMoto()
	if err != nil {
		return nil, err
	}
	defer moto.Close()
	ctx := context.Background()
	cf := cloudfront.NewFromConfig(moto.Config())
	dist, err := awstest.NewDistribution(ctx, cf)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(moto.Config())
	awsEnv := func(endpoint string) []string {
		return []string{
			"AWS_ENDPOINT_URL=" + endpoint,
			"AWS_ACCESS_KEY_ID=testing",
			"AWS_SECRET_ACCESS_KEY=testing",
			"AWS_SESSION_TOKEN=testing",
			"AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"TMPDIR=" + dir,
		}
	}
	// writeConfig writes a configuration with the CloudFront target and
	// the given state, and returns the environment that names it.
	writeConfig := func(name, state, endpoint string) ([]string, error) {
		cfg := filepath.Join(dir, name+".yaml")
		yaml := fmt.Sprintf("state: %s\n"+
			"sites: [{name: www, bucket: my-site, targets: [cf]}]\n"+
			"targets: [{name: cf, provider: cloudfront, distribution_id: %s}]\n", state, dist)
		return append(awsEnv(endpoint), "OFFLOAD_CONFIG="+cfg), os.WriteFile(cfg, []byte(yaml), 0o644)
	}
	newTable := func(name string) (string, error) {
		table := fmt.Sprintf("offload-bench-%s-%d", name, time.Now().UnixNano())
		return table, dynamo.CreateTable(ctx, db, table, 30*time.Second)
	}
	// invalidated runs f and returns how many invalidations moto received
	// meanwhile.
	invalidated := func(f func() error) (int, error) {
		before, err := countInvalidations(ctx, cf, dist)
		if err != nil {
			return 0, err
		}
		if err := f(); err != nil {
			return 0, err
		}
		after, err := countInvalidations(ctx, cf, dist)
		return after - before, err
	}
	// singlesOf runs one kind of execution environment's single events
	// and checks that each sent perEvent invalidations.
	singlesOf := func(round int, what string, perEvent int, o lambdatest.Options, invoke func(*lambdatest.Runtime, int) (time.Duration, error)) (s singles, err error) {
		n, err := invalidated(func() (err error) {
			s, err = runSingles(o, lp.Warm, invoke)
			return err
		})
		if err != nil {
			return s, fmt.Errorf("round %d, %s single events: %w", round+1, what, err)
		}
		if want := perEvent * (1 + lp.Warm); n != want {
			return s, fmt.Errorf("round %d: moto received %d invalidations for %d %s single events, want %d", round+1, n, 1+lp.Warm, what, want)
		}
		return s, nil
	}
	// batchOf runs the batch in a warm bootstrap and checks the number of
	// invalidations: the warm-up event's one, and the batch's in calls of
	// at most 3,000 paths, the same number every time.
	batch := sqsBatch(lp.Batch)
	res := &lambdaResult{Params: lp, MemoryMB: lambdaMemoryMB, BinaryBytes: st.Size(), FloorBytes: floorBytes, HelloBytes: helloBytes, PayloadBytes: len(batch),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, Python: py.Version, Boto3: py.Boto3}
	batchOf := func(round int, env []string) (batchRun, error) {
		var b batchRun
		n, err := invalidated(func() (err error) {
			b, err = runBatch(bin, env, round, batch, lp.Batch)
			return err
		})
		if err != nil {
			return b, err
		}
		if res.BatchInvalidations == 0 {
			res.BatchInvalidations = n - 1
		}
		if n-1 != res.BatchInvalidations || n < 2 {
			return b, fmt.Errorf("moto received %d invalidations for the batch, want %d and one for the warm-up event", n, res.BatchInvalidations)
		}
		return b, nil
	}

	for round := range lp.Rounds {
		var r lambdaRound
		// offload's single events, with a DynamoDB ledger (a table of its
		// own per round, so every round starts from the same state).
		table, err := newTable(fmt.Sprint(round))
		if err != nil {
			return nil, err
		}
		env, err := writeConfig(fmt.Sprintf("single-%d", round), "{driver: dynamodb, table: "+table+"}", moto.URL)
		if err != nil {
			return nil, err
		}
		r.Offload, err = singlesOf(round, "offload", 1, lambdatest.Options{Path: bin, Env: env, MemoryMB: lambdaMemoryMB},
			func(rt *lambdatest.Runtime, i int) (time.Duration, error) {
				d, _, err := invokeBatch(rt, singleEvent(round, i), 30*time.Second, 1)
				return d, err
			})
		if err != nil {
			return nil, err
		}
		// And with the in-memory ledger: one call to moto per event, as
		// the Python handler makes (other object keys and message ids, so
		// that no CallerReference repeats one of the first process's).
		env, err = writeConfig(fmt.Sprintf("single-mem-%d", round), "{driver: memory}", moto.URL)
		if err != nil {
			return nil, err
		}
		memEvent := func(rt *lambdatest.Runtime, i int) (time.Duration, error) {
			d, _, err := invokeBatch(rt, singleEvent(1000+round, i), 30*time.Second, 1)
			return d, err
		}
		// The Go floors, with the same events: one invalidation each, and
		// none. These three run in an order that turns each round, so
		// that none always follows the same process.
		floorEnv := append(awsEnv(moto.URL), "DISTRIBUTION_ID="+dist)
		runs := []func() error{
			func() (err error) {
				r.OffloadMem, err = singlesOf(round, "offload (in-memory ledger)", 1, lambdatest.Options{Path: bin, Env: env, MemoryMB: lambdaMemoryMB}, memEvent)
				return err
			},
			func() (err error) {
				r.Floor, err = singlesOf(round, "Go floor", 1, lambdatest.Options{Path: floor, Env: floorEnv, MemoryMB: lambdaMemoryMB}, memEvent)
				return err
			},
			func() (err error) {
				r.Hello, err = singlesOf(round, "Go hello-world", 0, lambdatest.Options{Path: hello, Env: floorEnv, MemoryMB: lambdaMemoryMB}, memEvent)
				return err
			},
		}
		for i := range runs {
			if err := runs[(i+round)%len(runs)](); err != nil {
				return nil, err
			}
		}
		// The Python handler's, against the same moto and distribution.
		pyEnv := append(awsEnv(moto.URL), "DISTRIBUTION_ID="+dist, "_HANDLER=handler.lambda_handler")
		r.Python, err = singlesOf(round, "Python", 1, lambdatest.Options{Path: py.Bootstrap, Dir: py.Dir, Env: pyEnv, MemoryMB: lambdaMemoryMB},
			func(rt *lambdatest.Runtime, i int) (time.Duration, error) { return invokePython(rt, round, i) })
		if err != nil {
			return nil, err
		}
		// The batch, with the in-memory ledger.
		env, err = writeConfig(fmt.Sprintf("batch-%d", round), "{driver: memory}", moto.URL)
		if err != nil {
			return nil, err
		}
		if r.Batch, err = batchOf(round, env); err != nil {
			return nil, fmt.Errorf("round %d, batch: %w", round+1, err)
		}
		res.Runs = append(res.Runs, r)
		logf(opts, "4 round %d: offload init %v, first response %v, peak %d KiB, warm median %v; in-memory ledger init %v, first response %v; Go floor init %v, first response %v, warm median %v; hello-world init %v, first response %v; Python init %v, first response %v, peak %d KiB, warm median %v; batch %v, CPU %v, peak %d KiB, %d failed",
			round+1, r.Offload.Init.Round(time.Millisecond), r.Offload.FirstAnswer.Round(time.Millisecond), r.Offload.PeakOne>>10, medianDuration(r.Offload.Warm),
			r.OffloadMem.Init.Round(100*time.Microsecond), r.OffloadMem.FirstAnswer.Round(100*time.Microsecond),
			r.Floor.Init.Round(100*time.Microsecond), r.Floor.FirstAnswer.Round(100*time.Microsecond), medianDuration(r.Floor.Warm),
			r.Hello.Init.Round(100*time.Microsecond), r.Hello.FirstAnswer.Round(100*time.Microsecond),
			r.Python.Init.Round(time.Millisecond), r.Python.FirstAnswer.Round(time.Millisecond), r.Python.PeakOne>>10, medianDuration(r.Python.Warm),
			r.Batch.Took.Round(time.Millisecond), r.Batch.CPU, r.Batch.Peak>>10, r.Batch.Failed)
	}

	// The batch once, as deployed: the DynamoDB ledger, every call the
	// bootstrap makes counted at a proxy in front of moto.
	logf(opts, "4 the %d-record batch with the DynamoDB ledger", lp.Batch)
	table, err := newTable("batch")
	if err != nil {
		return nil, err
	}
	counter := awstest.NewCounter()
	proxy, err := awsProxy(moto.URL, counter)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	env, err := writeConfig("batch-dynamo", "{driver: dynamodb, table: "+table+"}", proxy.URL)
	if err != nil {
		return nil, err
	}
	d := &dynamoBatch{}
	if d.batchRun, err = batchOf(len(res.Runs), env); err != nil {
		return nil, fmt.Errorf("batch with the DynamoDB ledger: %w", err)
	}
	d.Calls = counter.Counts()
	res.Dynamo = d
	logf(opts, "4 batch with the DynamoDB ledger: %v, CPU %v, peak %d KiB, %d failed, calls %s",
		d.Took.Round(time.Millisecond), d.CPU, d.Peak>>10, d.Failed, counter)
	return res, nil
}

func medianDuration(ds []time.Duration) time.Duration {
	return time.Duration(spreadOf(durationsMs(ds)).Median * 1e6).Round(10 * time.Microsecond)
}

// runSingles runs one execution environment with single events: the cold
// start with event 0, then warm more, one after another. invoke sends
// event i and checks its answer.
func runSingles(o lambdatest.Options, warm int, invoke func(rt *lambdatest.Runtime, i int) (time.Duration, error)) (singles, error) {
	var s singles
	rt, err := lambdatest.Start(o)
	if err != nil {
		return s, err
	}
	defer rt.Close()
	if _, err := invoke(rt, 0); err != nil {
		return s, err
	}
	pid, err := onlyProcess(rt)
	if err != nil {
		return s, err
	}
	p := rt.Processes()[0]
	s.Init, s.FirstAnswer = p.Init, p.FirstAnswer
	if s.PeakOne, err = procField(pid, "VmHWM"); err != nil {
		return s, err
	}
	if s.ColdCPU, s.ColdFaults, err = procStat(pid); err != nil {
		return s, err
	}
	for i := range warm {
		d, err := invoke(rt, i+1)
		if err != nil {
			return s, err
		}
		s.Warm = append(s.Warm, d)
	}
	cpu, err := procCPU(pid)
	if err != nil {
		return s, err
	}
	s.WarmCPU = cpu - s.ColdCPU
	_, err = onlyProcess(rt)
	return s, err
}

// runBatch runs one execution environment for the batch: one event to
// warm it, then the batch.
func runBatch(bin string, env []string, round int, batch []byte, records int) (batchRun, error) {
	var b batchRun
	rt, err := lambdatest.Start(lambdatest.Options{Path: bin, Env: env, MemoryMB: lambdaMemoryMB})
	if err != nil {
		return b, err
	}
	defer rt.Close()
	if _, _, err := invokeBatch(rt, singleEvent(round, 9999), 30*time.Second, 1); err != nil {
		return b, err
	}
	pid, err := onlyProcess(rt)
	if err != nil {
		return b, err
	}
	cpu, err := procCPU(pid)
	if err != nil {
		return b, err
	}
	// Lambda's longest timeout: the batch is measured, not cut off.
	if b.Took, b.Failed, err = invokeBatch(rt, batch, 15*time.Minute, records); err != nil {
		return b, err
	}
	// The invocation's summary line comes after its failures, if any:
	// they are reported, not hidden.
	logs, err := rt.WaitOutput(context.Background(), `"message":"invocation"`, 2)
	if err != nil {
		return b, err
	}
	if b.Log, err = lastSummary(logs); err != nil {
		return b, err
	}
	if b.Failed > 0 {
		b.FailReasons = failReasons(logs)
	}
	if b.Peak, err = procField(pid, "VmHWM"); err != nil {
		return b, err
	}
	end, err := procCPU(pid)
	if err != nil {
		return b, err
	}
	b.CPU = end - cpu
	_, err = onlyProcess(rt)
	return b, err
}

// invokeBatch sends one SQS batch and returns how long it took and how
// many messages the response names as failed. A single event must not fail.
func invokeBatch(rt *lambdatest.Runtime, payload []byte, timeout time.Duration, records int) (time.Duration, int, error) {
	begin := time.Now()
	out, errPayload, err := rt.Invoke(context.Background(), payload, timeout)
	took := time.Since(begin)
	if err == nil && errPayload != nil {
		err = fmt.Errorf("function error %s", errPayload)
	}
	failed := 0
	if err == nil {
		failed, err = batchFailures(out)
	}
	if err == nil && failed > 0 && records == 1 {
		err = errors.New("the message failed")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%d records: %w\n%s", records, err, logExcerpt(rt.Logs()))
	}
	return took, failed, nil
}

// onlyProcess returns the pid of the environment's one process, which must
// not have been restarted.
func onlyProcess(rt *lambdatest.Runtime) (int, error) {
	ps := rt.Processes()
	if len(ps) != 1 || ps[0].Exited {
		return 0, fmt.Errorf("got processes %+v, want one, running", ps)
	}
	return ps[0].Pid, nil
}

// buildBootstrap builds cmd/offload as `make bootstrap` does, stripped and
// with -trimpath, but for this machine, into dir/bootstrap.
func buildBootstrap(dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	return out, goBuild(out, []string{"CGO_ENABLED=0"}, "-tags", "lambda.norpc,offload_lambda", "-trimpath", "-ldflags=-s -w")
}

// buildFloor builds bench/<pkg> as the bootstrap is built (without the
// offload_lambda tag, which is offload's own) into dir, and returns its
// path and size.
func buildFloor(dir, pkg string) (string, int64, error) {
	out := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "-"))
	if err := goBuildPkg(out, "github.com/offload-dev/offload/bench/"+pkg, []string{"CGO_ENABLED=0"}, "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"); err != nil {
		return "", 0, err
	}
	st, err := os.Stat(out)
	if err != nil {
		return "", 0, err
	}
	return out, st.Size(), nil
}

// s3Put is an S3 notification of one put of key, as S3 sends it.
func s3Put(key string, n int) []byte {
	type rec = map[string]any
	b, _ := json.Marshal(rec{"Records": []rec{{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
		"eventTime": "2026-11-20T10:00:00.000Z", "eventName": "ObjectCreated:Put",
		"s3": rec{"bucket": rec{"name": "my-site"}, "object": rec{
			"key": key, "size": 2048, "eTag": fmt.Sprintf("%032x", n), "sequencer": fmt.Sprintf("0065A2%012X", n)}},
	}}})
	return b
}

// singleEvent is an SQS batch of one message carrying one S3 put
// notification, of an object new in every round and event.
func singleEvent(round, i int) []byte {
	type rec = map[string]any
	body := s3Put(fmt.Sprintf("pages/r%d/page%04d.html", round, i), round*100000+i)
	b, _ := json.Marshal(rec{"Records": []rec{{"messageId": fmt.Sprintf("s-%d-%04d", round, i), "eventSource": "aws:sqs", "body": string(body)}}})
	return b
}

// batchFailures counts the messages a partial batch response names.
func batchFailures(out []byte) (int, error) {
	var resp struct {
		Failures *[]json.RawMessage `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.Failures == nil {
		return 0, fmt.Errorf("response %.200s is not a partial batch response", out)
	}
	return len(*resp.Failures), nil
}

// batchLog is what the bootstrap's "invocation" log line says of a batch.
type batchLog struct {
	Records int `json:"records"`
	Changes int `json:"changes"`
	Purged  int `json:"purged"`
	Skipped int `json:"skipped"`
	Failed  int `json:"failed"`
	Purges  int `json:"purges"`
}

func lastSummary(logs []byte) (batchLog, error) {
	lines := bytes.Split(bytes.TrimSpace(logs), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var l struct {
			Message string `json:"message"`
			batchLog
		}
		if json.Unmarshal(lines[i], &l) == nil && l.Message == "invocation" {
			return l.batchLog, nil
		}
	}
	return batchLog{}, errors.New("no invocation line in the bootstrap's log")
}

// failReasons counts the bootstrap's "change failed" log lines by error.
func failReasons(logs []byte) map[string]int {
	out := map[string]int{}
	for _, line := range bytes.Split(logs, []byte("\n")) {
		var l struct{ Message, Error string }
		if json.Unmarshal(line, &l) == nil && l.Message == "change failed" {
			out[l.Error]++
		}
	}
	return out
}

func countInvalidations(ctx context.Context, c *cloudfront.Client, dist string) (int, error) {
	n := 0
	pages := cloudfront.NewListInvalidationsPaginator(c, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(dist)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("list invalidations in moto: %w", err)
		}
		n += len(out.InvalidationList.Items)
	}
	return n, nil
}

// procField reads a size field (kB) of /proc/<pid>/status, in bytes.
func procField(pid int, field string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// procCPU is the user plus system time of every thread of process pid so
// far, from /proc/<pid>/stat, in clock ticks taken as 1/100 s (USER_HZ).
func procCPU(pid int) (time.Duration, error) {
	cpu, _, err := procStat(pid)
	return cpu, err
}

// procStat is procCPU and the process's page faults so far, minor and
// major, from the same read of /proc/<pid>/stat.
func procStat(pid int) (time.Duration, int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name may hold spaces; the fields after it do not.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, raw)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, raw)
	}
	// minflt, majflt, utime, stime: fields 10, 12, 14, 15 of proc(5).
	var n [4]int64
	for k, j := range []int{7, 9, 11, 12} {
		if n[k], err = strconv.ParseInt(f[j], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, raw)
		}
	}
	return time.Duration(n[2]+n[3]) * 10 * time.Millisecond, n[0] + n[1], nil
}

// logExcerpt is the first few warnings and errors in the bootstrap's
// log, or else its end.
func logExcerpt(logs []byte) string {
	var out []string
	for _, line := range strings.Split(string(logs), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
			if len(out) == 5 {
				break
			}
		}
	}
	if len(out) == 0 && len(logs) > 2000 {
		logs = logs[len(logs)-2000:]
	}
	if len(out) == 0 {
		return string(logs)
	}
	return strings.Join(out, "\n")
}

func durationsMs(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / 1e6
	}
	return out
}

// singlesFigures are one kind of environment's figures, one per round.
type singlesFigures struct{ init, first, coldCPU, faults, peak, warm, warmCPU []float64 }

func figuresOf(ss []singles) singlesFigures {
	var f singlesFigures
	for _, s := range ss {
		f.init = append(f.init, ms(s.Init))
		f.first = append(f.first, ms(s.FirstAnswer))
		f.coldCPU = append(f.coldCPU, ms(s.ColdCPU))
		f.faults = append(f.faults, float64(s.ColdFaults))
		f.peak = append(f.peak, float64(s.PeakOne)/(1<<20))
		f.warm = append(f.warm, spreadOf(durationsMs(s.Warm)).Median)
		f.warmCPU = append(f.warmCPU, ms(s.WarmCPU)/float64(max(len(s.Warm), 1)))
	}
	return f
}

func writeLambda(p printer, r *lambdaResult) {
	var off, mem, flo, hel, py []singles
	var batch, batchCPU, peakBatch []float64
	for _, run := range r.Runs {
		off, mem, py = append(off, run.Offload), append(mem, run.OffloadMem), append(py, run.Python)
		flo, hel = append(flo, run.Floor), append(hel, run.Hello)
		batch = append(batch, ms(run.Batch.Took))
		batchCPU = append(batchCPU, ms(run.Batch.CPU))
		peakBatch = append(peakBatch, float64(run.Batch.Peak)/(1<<20))
	}
	o, m, f, h, y := figuresOf(off), figuresOf(mem), figuresOf(flo), figuresOf(hel), figuresOf(py)
	lp := r.Params
	n := commas(int64(lp.Batch))
	var bl batchLog
	if len(r.Runs) > 0 {
		bl = r.Runs[len(r.Runs)-1].Batch.Log
	}

	p("## 4. Lambda cold start and per-event cost")
	p("")
	p("Four functions run under `internal/lambdatest`, an emulator of the Lambda Runtime API on")
	p("127.0.0.1, with `AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d`, which limits nothing here: the emulator", r.MemoryMB)
	p("sets no memory or CPU limit. Three of them purge the same **CloudFront distribution in moto** on")
	p("127.0.0.1, so every purge is a real `CreateInvalidation` call to moto; the invalidations moto")
	p("received are counted and checked after every run (none for the hello-world function).")
	p("")
	p("- **offload**: the real `bootstrap` (`cmd/offload` built as `make bootstrap` builds it, `-tags")
	p("  lambda.norpc,offload_lambda -trimpath -ldflags='-s -w'`, but for this machine's %s; %s MiB), with a", r.Platform, fmtNum(float64(r.BinaryBytes)/(1<<20)))
	p("  configuration file naming one CloudFront target. Its events are SQS batches whose messages")
	p("  each carry one S3 put notification, as the deploy template's S3 → SQS → Lambda wiring delivers")
	p("  them; every response is checked to be a partial batch response.")
	p("- **Go floor**: `bench/gofloor`, the least a Go function can do for offload's event, built as the")
	p("  bootstrap is (`-tags lambda.norpc -trimpath -ldflags='-s -w'`; %s MiB): aws-lambda-go's", fmtNum(float64(r.FloorBytes)/(1<<20)))
	p("  `lambda.Start`, a CloudFront client of the AWS SDK for Go v2 made at init from the environment")
	p("  (region, static keys, moto's endpoint; no `config` package), and a handler that decodes the SQS")
	p("  event's S3 notifications and makes **one `CreateInvalidation`** of their paths. No ledger, no")
	p("  configuration file, no batching: what any Go function of the kind pays. It gets the same")
	p("  events as offload with the in-memory ledger, and the same checks.")
	p("- **Go hello-world**: `bench/gofloor/hello` (%s MiB), `lambda.Start` with a handler that takes", fmtNum(float64(r.HelloBytes)/(1<<20)))
	p("  the SQS event and answers that nothing failed: **no call**, no AWS SDK linked. Its cold start is")
	p("  the Go runtime, aws-lambda-go and the emulator's own share; its warm round trip is the")
	p("  emulator's.")
	p("- **Python (boto3)**: `bench/pylambda/handler.py`, a handler of the kind offload replaces: for")
	p("  each record of the S3 notification S3 invokes it with, one `create_invalidation` of the")
	p("  object's path with `str(time.time())` as CallerReference, through a boto3 client made at import.")
	p("  Python %s, boto3 %s (the interpreter moto runs on). It runs under a custom runtime's", r.Python, r.Boto3)
	p("  `bootstrap` that execs `bench/pylambda/runtime.py`, a Runtime API loop of the standard library")
	p("  (GET `/invocation/next`, call the handler, POST `/response`): AWS's runtime interface client")
	p("  for Python (`awslambdaric`) cannot be installed here, since PyPI is not reachable from this")
	p("  machine. Each response is checked to report one invalidation.")
	p("")
	p("%d rounds; each round starts six fresh processes (execution environments):", len(r.Runs))
	p("")
	p("1. **offload, single events**, with a **DynamoDB ledger** in moto (the deploy template's state")
	p("   store; a new table each round), so one event is a ledger read (`BatchGetItem`), one")
	p("   invalidation and a ledger write (`PutItem`): first **one event, cold** (the process's first")
	p("   invocation), then **%d warm events** one after another, each of an object not seen before; the", lp.Warm)
	p("   round's warm figure is their median;")
	p("2. **offload, single events, in-memory ledger**: the same, with `state: {driver: memory}`, so one")
	p("   event is one call to moto, as for the Python handler;")
	p("3. **Go floor, single events**: the same events as 2, one cold, %d warm; one invalidation each;", lp.Warm)
	p("4. **Go hello-world, single events**: the same events, one cold, %d warm; no call (2, 3 and 4", lp.Warm)
	p("   run in an order that turns each round: 2, 3, 4 in the first, 3, 4, 2 in the second, and so on);")
	p("5. **Python, single events**, the same: one cold, %d warm. It keeps no ledger: one event is one", lp.Warm)
	p("   invalidation;")
	p("6. **offload, one batch of %s records**, measurement 3's SQS batch (every 20th message a", n)
	p("   redelivery, every 25th object an `index.html`), sent after one event has warmed the process,")
	p("   with the **in-memory ledger**, so the batch's figures leave out the ledger's I/O (the same batch")
	p("   with the DynamoDB ledger follows below). The bootstrap logged %s changes for it, %s purged and", commas(int64(bl.Changes)), commas(int64(bl.Purged)))
	p("   %s skipped, and moto received %d invalidations for it (at most 3,000 paths each).", commas(int64(bl.Skipped)), r.BatchInvalidations)
	p("")
	p("*Init* is the emulator's time from starting the process to its first `GET")
	p("/runtime/invocation/next` (what Lambda reports as Init Duration); *start → first response* runs")
	p("from starting the process until the first event's response arrives, init included. Warm and")
	p("batch times are the harness's round trip through the emulator (payload handed over, response")
	p("back). CPU is the process's user+system time from `/proc/<pid>/stat`, in 10 ms ticks (warm: the")
	p("round's total over its %d events, divided); page faults, minor and major, come from the same", lp.Warm)
	p("file. Peak memory is the process's `VmHWM` from `/proc/<pid>/status`, read once the response")
	p("is in: its peak since it started. Median (range) over the rounds; each ratio is taken within a")
	p("round.")
	p("")
	ratio := func(num, den []float64) string { return ratioString(ratios(num, den)) }
	p("| | offload, DynamoDB ledger | offload, in-memory ledger | Go floor (aws-lambda-go + SDK CloudFront client, one CreateInvalidation) | Go hello-world (aws-lambda-go, no call) | Python (boto3) | offload, in-memory ledger ÷ Go floor | Python ÷ offload, in-memory ledger |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(what, unit string, o, m, f, h, y []float64) {
		cells := []string{what}
		for _, xs := range [][]float64{o, m, f, h, y} {
			cells = append(cells, strings.TrimSpace(spreadOf(xs).String()+" "+unit))
		}
		p("| %s | %s | %s |", strings.Join(cells, " | "), ratio(m, f), ratio(y, m))
	}
	row("cold: init (start → first `/next`)", "ms", o.init, m.init, f.init, h.init, y.init)
	row("cold: start → first response, one event", "ms", o.first, m.first, f.first, h.first, y.first)
	row("cold: CPU up to that response", "ms", o.coldCPU, m.coldCPU, f.coldCPU, h.coldCPU, y.coldCPU)
	row("cold: page faults up to that response", "", o.faults, m.faults, f.faults, h.faults, y.faults)
	row("warm: one event, round trip", "ms", o.warm, m.warm, f.warm, h.warm, y.warm)
	row("warm: CPU per event", "ms", o.warmCPU, m.warmCPU, f.warmCPU, h.warmCPU, y.warmCPU)
	row("peak memory (`VmHWM`), one event, cold", "MiB", o.peak, m.peak, f.peak, h.peak, y.peak)
	p("")
	writeFloors(p, m, f, h)
	p("Median (range) over the rounds. The batch, offload only:")
	p("")
	p("| %s-record batch, in-memory ledger | median (range) |", n)
	p("|---|---:|")
	p("| warm, round trip | %s ms |", spreadOf(batch))
	p("| CPU | %s ms |", spreadOf(batchCPU))
	p("| peak memory (`VmHWM`) through the batch | %s MiB |", spreadOf(peakBatch))
	p("")
	p("The Python handler has no batch figure: S3 invokes it once per notification. What it would do")
	p("with %s records is %s invalidations, one after another; measurement 3 times that loop.", n, n)
	p("")
	for i, run := range r.Runs {
		writeBatchFailures(p, fmt.Sprintf("In round %d the batch's", i+1), n, run.Batch)
	}
	if d := r.Dynamo; d != nil {
		writeDynamoBatch(p, r, d)
	}
	p("The batch's payload is %s bytes (%s MiB). Lambda takes at most 6 MB in a synchronous", commas(int64(r.PayloadBytes)), fmtNum(float64(r.PayloadBytes)/(1<<20)))
	p("invoke, and an SQS event source mapping hands a function at most 10,000 messages and 6 MB at")
	p("once.")
	if r.PayloadBytes > lambdatest.MaxResponseSize {
		p("**This payload is over that limit**: Lambda would not deliver these %s records in one", n)
		p("invocation. The emulator does not enforce the limit, so the batch ran anyway.")
	}
	p("")
	p("Its records (%s bytes each on average) carry only the fields offload reads; records as SQS", commas(int64(r.PayloadBytes/max(lp.Batch, 1))))
	p("delivers them also carry a receipt handle, attributes and the rest of the S3 notification")
	p("(request ids, the requester, the bucket's ARN), so a real batch of %s such messages is", n)
	p("larger and may pass 6 MB, in which case Lambda delivers fewer messages per invocation. The")
	p("deploy template asks for batches of 1,000.")
	p("")
	p("What this does not show: Lambda at %d MB gives a function a fraction of a vCPU, while the", r.MemoryMB)
	p("emulator throttles nothing and every function had this machine's CPUs (see Machine), shared with")
	p("moto and the harness; at %d MB in Lambda the cold start and CPU figures of all would be larger.", r.MemoryMB)
	p("moto on 127.0.0.1 answers in milliseconds, where CloudFront and DynamoDB over the network take")
	p("longer. The emulator starts a process; Lambda first starts a micro-VM and fetches the code, and")
	p("its managed Python runtime starts its own runtime client, not the loop used here. Lambda reports")
	p("Max Memory Used for the whole execution environment; `VmHWM` is the function process's own peak.")
	p("")
}

// writeFloors says what the Go floors show, from the round's own figures:
// how far offload is above the floor, and how the floor's cold start
// divides into what any Go function pays and what its one call adds.
func writeFloors(p printer, m, f, h singlesFigures) {
	diff := func(a, b []float64) spread {
		out := make([]float64, len(a))
		for i := range a {
			out[i] = a[i] - b[i]
		}
		return spreadOf(out)
	}
	p("**What the floors show.** The hello-world function's start → first response, %s ms, is what this", spreadOf(h.first))
	p("machine and emulator charge a Go function that does nothing: starting the process, the Go")
	p("runtime, aws-lambda-go's init, the first `/next` and one response. The Go floor adds the SDK's")
	p("packages and a CloudFront client at init (its init is %s ms above hello-world's) and one", diff(f.init, h.init))
	p("`CreateInvalidation` to moto, the first on a new connection (its start → first response is %s ms", diff(f.first, h.first))
	p("above hello-world's; warm, one call's round trip is %s ms against hello-world's %s ms). So the", spreadOf(f.warm), spreadOf(h.warm))
	p("Go floor's start → first response, %s ms, is what a Go function on aws-lambda-go and the SDK's", spreadOf(f.first))
	p("CloudFront client pays here for its first purge before it does anything of its own.")
	p("offload with the in-memory ledger is above the floor by %s ms at init and by %s ms at start", diff(m.init, f.init), diff(m.first, f.first))
	p("→ first response, with %s more page faults up to it: the cost of its larger binary's", diff(m.faults, f.faults))
	p("package init, its configuration, its pipeline and the purge client's own work (each difference")
	p("is taken within a round; median (range) over the rounds).")
	p("")
}

func writeBatchFailures(p printer, who, n string, b batchRun) {
	if b.Failed == 0 {
		return
	}
	p("**%s response named %s of %s messages as failed**, so its figures are", who, commas(int64(b.Failed)), n)
	p("not those of a batch that succeeded. The changes' errors, counted:")
	p("")
	reasons := make([]string, 0, len(b.FailReasons))
	for e := range b.FailReasons {
		reasons = append(reasons, e)
	}
	slices.Sort(reasons)
	for _, e := range reasons {
		p("- %s × `%s`", commas(int64(b.FailReasons[e])), e)
	}
	p("")
}

func writeDynamoBatch(p printer, r *lambdaResult, d *dynamoBatch) {
	n := commas(int64(r.Params.Batch))
	ops := make([]string, 0, len(d.Calls))
	for op, c := range d.Calls {
		ops = append(ops, fmt.Sprintf("%s × `%s`", commas(int64(c)), op))
	}
	slices.Sort(ops)
	p("### The %s-record batch with the DynamoDB ledger", n)
	p("")
	p("The same batch, once, in a fresh process of its own (warmed by one event), as deployed: with the")
	p("**DynamoDB ledger** in moto (a new table). Its AWS endpoint is a proxy in the harness in front of")
	p("moto whose transport counts every call by operation (`internal/awstest.Counter`). One round")
	p("only: the ledger writes each record with its own conditional `PutItem`, and moto, one Python")
	p("process, answered %s of them in this round trip, about %s a second, so the round trip", commas(int64(d.Calls["PutItem"])), fmtNum(float64(d.Calls["PutItem"])/d.Took.Seconds()))
	p("below is mostly moto's pace, not offload's; the in-memory rows above are offload's own cost.")
	p("")
	p("| | with the DynamoDB ledger (moto) |")
	p("|---|---:|")
	p("| round trip | %s ms |", commas(int64(ms(d.Took))))
	p("| bootstrap CPU | %s ms |", commas(int64(ms(d.CPU))))
	p("| peak memory (`VmHWM`) | %s MiB |", fmtNum(float64(d.Peak)/(1<<20)))
	p("| changes, purged, skipped | %s, %s, %s |", commas(int64(d.Log.Changes)), commas(int64(d.Log.Purged)), commas(int64(d.Log.Skipped)))
	p("")
	p("The calls the bootstrap made, the warm-up event's included: %s.", strings.Join(ops, ", "))
	p("")
	writeBatchFailures(p, "With the DynamoDB ledger the batch's", n, d.batchRun)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
