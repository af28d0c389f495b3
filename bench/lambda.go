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

// The Python CloudFront-invalidation Lambda this project replaces, as its
// own logs reported it (quoted in issue 6, not measured here).
const (
	pyRefMs       = 1085
	pyRefMB       = 36
	pyRefMemoryMB = 128
)

// lambdaParams sizes measurement 4; the harness uses lambdaDefaults, the
// smoke test something tiny.
type lambdaParams struct {
	Rounds int // fresh execution environments (processes)
	Warm   int // warm single-event invocations per round
	Batch  int // records in the SQS batch, once per round
}

var lambdaDefaults = lambdaParams{Rounds: 5, Warm: 30, Batch: 10000}

// lambdaRound is one round: an execution environment with a cold start
// and warm single events, then another with the batch.
type lambdaRound struct {
	Init        time.Duration   // process start to its first GET .../next
	FirstAnswer time.Duration   // process start to the first event's response
	ColdCPU     time.Duration   // the process's CPU time up to that response
	PeakOne     int64           // VmHWM after the first event, bytes
	Warm        []time.Duration // each warm event's invoke round trip
	WarmCPU     time.Duration   // CPU time over all the warm events
	Batch       time.Duration   // the batch's invoke round trip
	BatchCPU    time.Duration   // CPU time of the batch
	PeakBatch   int64           // VmHWM after the batch, bytes
	BatchFailed int             // messages the batch's response named as failed
	FailReasons map[string]int  // the changes' errors behind them, counted
	BatchLog    batchLog        // the bootstrap's summary of the batch
}

type lambdaResult struct {
	Params             lambdaParams
	MemoryMB           int   // AWS_LAMBDA_FUNCTION_MEMORY_SIZE given to the process
	BinaryBytes        int64 // the stripped bootstrap
	Platform           string
	PayloadBytes       int // sqsBatch(Params.Batch)
	BatchInvalidations int // CloudFront invalidations per batch
	Runs               []lambdaRound
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
	env := []string{
		"AWS_ENDPOINT_URL=" + moto.URL,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=testing",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"TMPDIR=" + dir,
	}
	// writeConfig writes a configuration with the CloudFront target and
	// the given state, and returns the environment that names it.
	writeConfig := func(name, state string) ([]string, error) {
		cfg := filepath.Join(dir, name+".yaml")
		yaml := fmt.Sprintf("state: %s\n"+
			"sites: [{name: www, bucket: my-site, targets: [cf]}]\n"+
			"targets: [{name: cf, provider: cloudfront, distribution_id: %s}]\n", state, dist)
		return append(slices.Clone(env), "OFFLOAD_CONFIG="+cfg), os.WriteFile(cfg, []byte(yaml), 0o644)
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

	batch := sqsBatch(lp.Batch)
	res := &lambdaResult{Params: lp, MemoryMB: pyRefMemoryMB, BinaryBytes: st.Size(), PayloadBytes: len(batch),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	for round := range lp.Rounds {
		// Single events, with a DynamoDB ledger (a table of its own per
		// round, so every round starts from the same state).
		table := fmt.Sprintf("offload-bench-%d-%d", round, time.Now().UnixNano())
		if err := dynamo.CreateTable(ctx, db, table, 30*time.Second); err != nil {
			return nil, err
		}
		singleEnv, err := writeConfig(fmt.Sprintf("single-%d", round), "{driver: dynamodb, table: "+table+"}")
		if err != nil {
			return nil, err
		}
		var r *lambdaRound
		n, err := invalidated(func() (err error) {
			r, err = runSingles(bin, singleEnv, round, lp.Warm)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("round %d, single events: %w", round+1, err)
		}
		if want := 1 + lp.Warm; n != want {
			return nil, fmt.Errorf("round %d: moto received %d invalidations for %d single events, want one each", round+1, n, want)
		}

		// The batch, with the in-memory ledger.
		batchEnv, err := writeConfig(fmt.Sprintf("batch-%d", round), "{driver: memory}")
		if err != nil {
			return nil, err
		}
		n, err = invalidated(func() error { return runBatch(bin, batchEnv, round, batch, lp.Batch, r) })
		if err != nil {
			return nil, fmt.Errorf("round %d, batch: %w", round+1, err)
		}
		// The warm-up event's one, and the batch's in calls of at most
		// 3,000 paths: the same number every round.
		if res.BatchInvalidations == 0 {
			res.BatchInvalidations = n - 1
		}
		if n-1 != res.BatchInvalidations || n < 2 {
			return nil, fmt.Errorf("round %d: moto received %d invalidations for the batch, want %d and one for the warm-up event", round+1, n, res.BatchInvalidations)
		}
		res.Runs = append(res.Runs, *r)
		logf(opts, "4 round %d: init %v, first response %v, peak %d KiB; warm median %v; batch %v, CPU %v, peak %d KiB, %d failed",
			round+1, r.Init.Round(time.Millisecond), r.FirstAnswer.Round(time.Millisecond), r.PeakOne>>10,
			time.Duration(spreadOf(durationsMs(r.Warm)).Median*1e6).Round(10*time.Microsecond),
			r.Batch.Round(time.Millisecond), r.BatchCPU, r.PeakBatch>>10, r.BatchFailed)
	}
	return res, nil
}

// runSingles runs one execution environment with single events: the cold
// start with one event, then warm more, one after another.
func runSingles(bin string, env []string, round, warm int) (*lambdaRound, error) {
	rt, err := lambdatest.Start(lambdatest.Options{Path: bin, Env: env, MemoryMB: pyRefMemoryMB})
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	r := &lambdaRound{}
	if _, _, err := invokeBatch(rt, singleEvent(round, 0), 30*time.Second, 1); err != nil {
		return nil, err
	}
	pid, err := onlyProcess(rt)
	if err != nil {
		return nil, err
	}
	p := rt.Processes()[0]
	r.Init, r.FirstAnswer = p.Init, p.FirstAnswer
	if r.PeakOne, err = procField(pid, "VmHWM"); err != nil {
		return nil, err
	}
	if r.ColdCPU, err = procCPU(pid); err != nil {
		return nil, err
	}
	for i := range warm {
		d, _, err := invokeBatch(rt, singleEvent(round, i+1), 30*time.Second, 1)
		if err != nil {
			return nil, err
		}
		r.Warm = append(r.Warm, d)
	}
	cpu, err := procCPU(pid)
	if err != nil {
		return nil, err
	}
	r.WarmCPU = cpu - r.ColdCPU
	_, err = onlyProcess(rt)
	return r, err
}

// runBatch runs one execution environment for the batch: one event to
// warm it, then the batch, and records the batch's figures in r.
func runBatch(bin string, env []string, round int, batch []byte, records int, r *lambdaRound) error {
	rt, err := lambdatest.Start(lambdatest.Options{Path: bin, Env: env, MemoryMB: pyRefMemoryMB})
	if err != nil {
		return err
	}
	defer rt.Close()
	if _, _, err := invokeBatch(rt, singleEvent(round, 9999), 30*time.Second, 1); err != nil {
		return err
	}
	pid, err := onlyProcess(rt)
	if err != nil {
		return err
	}
	cpu, err := procCPU(pid)
	if err != nil {
		return err
	}
	// Lambda's longest timeout: the batch is measured, not cut off.
	if r.Batch, r.BatchFailed, err = invokeBatch(rt, batch, 15*time.Minute, records); err != nil {
		return err
	}
	// The invocation's summary line comes after its failures, if any:
	// they are reported, not hidden.
	logs, err := rt.WaitOutput(context.Background(), `"message":"invocation"`, 2)
	if err != nil {
		return err
	}
	if r.BatchLog, err = lastSummary(logs); err != nil {
		return err
	}
	if r.BatchFailed > 0 {
		r.FailReasons = failReasons(logs)
	}
	if r.PeakBatch, err = procField(pid, "VmHWM"); err != nil {
		return err
	}
	end, err := procCPU(pid)
	if err != nil {
		return err
	}
	r.BatchCPU = end - cpu
	_, err = onlyProcess(rt)
	return err
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
	return out, goBuild(out, []string{"CGO_ENABLED=0"}, "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w")
}

// singleEvent is an SQS batch of one message carrying one S3 put
// notification, of an object new in every round and event.
func singleEvent(round, i int) []byte {
	type rec = map[string]any
	s3 := rec{"Records": []rec{{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
		"eventTime": "2026-11-20T10:00:00.000Z", "eventName": "ObjectCreated:Put",
		"s3": rec{"bucket": rec{"name": "my-site"}, "object": rec{
			"key": fmt.Sprintf("pages/r%d/page%04d.html", round, i), "size": 2048,
			"eTag": fmt.Sprintf("%032x", round*100000+i), "sequencer": fmt.Sprintf("0065A2%012X", i)}},
	}}}
	body, _ := json.Marshal(s3)
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
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it do not.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, raw)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, raw)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, raw)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
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

func writeLambda(p printer, r *lambdaResult) {
	var init, first, coldCPU, peakOne, warm, warmCPU, batch, batchCPU, peakBatch, refCold, refWarm, refMem []float64
	for _, run := range r.Runs {
		w := spreadOf(durationsMs(run.Warm)).Median
		init = append(init, ms(run.Init))
		first = append(first, ms(run.FirstAnswer))
		coldCPU = append(coldCPU, ms(run.ColdCPU))
		peakOne = append(peakOne, float64(run.PeakOne)/(1<<20))
		warm = append(warm, w)
		warmCPU = append(warmCPU, ms(run.WarmCPU)/float64(max(len(run.Warm), 1)))
		batch = append(batch, ms(run.Batch))
		batchCPU = append(batchCPU, ms(run.BatchCPU))
		peakBatch = append(peakBatch, float64(run.PeakBatch)/(1<<20))
		refCold = append(refCold, pyRefMs/ms(run.FirstAnswer))
		refWarm = append(refWarm, pyRefMs/w)
		refMem = append(refMem, pyRefMB/(float64(run.PeakOne)/(1<<20)))
	}
	lp := r.Params
	n := commas(int64(lp.Batch))
	var bl batchLog
	if len(r.Runs) > 0 {
		bl = r.Runs[len(r.Runs)-1].BatchLog
	}

	p("## 4. Lambda cold start and per-event cost")
	p("")
	p("The real `bootstrap` (`cmd/offload` built as `make bootstrap` builds it, `-tags lambda.norpc")
	p("-trimpath -ldflags='-s -w'`, but for this machine's %s; %s MiB) runs under", r.Platform, fmtNum(float64(r.BinaryBytes)/(1<<20)))
	p("`internal/lambdatest`, an emulator of the Lambda Runtime API on 127.0.0.1, told")
	p("`AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d`, which limits nothing here: the emulator sets no memory", r.MemoryMB)
	p("or CPU limit. Its configuration file names one **CloudFront target** in moto on 127.0.0.1, so")
	p("every purge is a real `CreateInvalidation` call to moto; the invalidations moto received are")
	p("counted and checked. Every event is an SQS batch whose messages each carry one S3 put")
	p("notification, as the deploy template's S3 → SQS → Lambda wiring delivers them, and every")
	p("response is checked to be a partial batch response. %d rounds; each round starts two fresh", len(r.Runs))
	p("processes (execution environments):")
	p("")
	p("1. **single events**, with a **DynamoDB ledger** in moto (the deploy template's state store; a")
	p("   new table each round), so one event is a ledger read (`BatchGetItem`), one invalidation and a")
	p("   ledger write (`PutItem`): first **one event, cold** (the process's first invocation), then")
	p("   **%d warm events** one after another, each of an object the ledger has not seen; the round's", lp.Warm)
	p("   warm figure is their median;")
	p("2. **one batch of %s records**, measurement 3's SQS batch (every 20th message a redelivery,", n)
	p("   every 25th object an `index.html`), sent after one event has warmed the process. This")
	p("   process has the **in-memory ledger**: the DynamoDB ledger writes one `PutItem` per record, and")
	p("   at moto's pace %s of them would time moto rather than offload. The batch's figures leave", n)
	p("   out the ledger's I/O. The bootstrap logged %s changes for it, %s purged and %s", commas(int64(bl.Changes)), commas(int64(bl.Purged)), commas(int64(bl.Skipped)))
	p("   skipped, and moto received %d invalidations for it (at most 3,000 paths each).", r.BatchInvalidations)
	p("")
	p("*Init* is the emulator's time from starting the process to its first `GET")
	p("/runtime/invocation/next` (what Lambda reports as Init Duration); *start → first response* runs")
	p("from starting the process until the first event's response arrives, init included. Warm and")
	p("batch times are the harness's round trip through the emulator (payload handed over, response")
	p("back). CPU is the bootstrap's user+system time from `/proc/<pid>/stat`, in 10 ms ticks (warm:")
	p("the round's total over its %d events, divided). Peak memory is the bootstrap's `VmHWM` from", lp.Warm)
	p("`/proc/<pid>/status`, read once the response is in: the process's peak since it started. Median")
	p("(range) over the rounds.")
	p("")
	p("| | measured here, median (range) | quoted reference: the Python Lambda, one event at %d MB | quoted ÷ measured, median (range) |", pyRefMemoryMB)
	p("|---|---:|---:|---:|")
	p("| cold: init (start → first `/next`) | %s ms | — | — |", spreadOf(init))
	p("| cold: start → first response, one event | %s ms | %s ms (quoted) | %s |", spreadOf(first), commas(pyRefMs), ratioString(spreadOf(refCold)))
	p("| cold: bootstrap CPU up to that response | %s ms | — | — |", spreadOf(coldCPU))
	p("| warm: one event, round trip | %s ms | %s ms (quoted) | %s |", spreadOf(warm), commas(pyRefMs), ratioString(spreadOf(refWarm)))
	p("| warm: bootstrap CPU per event | %s ms | — | — |", spreadOf(warmCPU))
	p("| peak memory (`VmHWM`), one event, cold | %s MiB | %d MB (quoted) | %s |", spreadOf(peakOne), pyRefMB, ratioString(spreadOf(refMem)))
	p("| %s-record batch, warm, round trip | %s ms | — | — |", n, spreadOf(batch))
	p("| %s-record batch: bootstrap CPU | %s ms | — | — |", n, spreadOf(batchCPU))
	p("| peak memory (`VmHWM`), through the %s-record batch | %s MiB | — | — |", n, spreadOf(peakBatch))
	p("")
	for i, run := range r.Runs {
		if run.BatchFailed == 0 {
			continue
		}
		p("**In round %d the batch's response named %s of %s messages as failed**, so its figures are", i+1, commas(int64(run.BatchFailed)), n)
		p("not those of a batch that succeeded. The changes' errors, counted:")
		p("")
		reasons := make([]string, 0, len(run.FailReasons))
		for e := range run.FailReasons {
			reasons = append(reasons, e)
		}
		slices.Sort(reasons)
		for _, e := range reasons {
			p("- %s × `%s`", commas(int64(run.FailReasons[e])), e)
		}
		p("")
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
	p("**Reading the reference.** The Python figures (%s ms and %d MB for one event at %d MB) are", commas(pyRefMs), pyRefMB, pyRefMemoryMB)
	p("quoted from issue 6, as the function this project replaces reported them in AWS. They were not")
	p("measured here; \"quoted ÷ measured\" divides the quoted figure by each round's measurement. It")
	p("is not a like-for-like comparison:")
	p("")
	p("- Lambda at %d MB gives a function about 1/14 of a vCPU; the emulator throttles nothing, and the", pyRefMemoryMB)
	p("  bootstrap had this machine's CPUs (see Machine), shared with moto and the harness. At %d MB", pyRefMemoryMB)
	p("  in Lambda the cold start and CPU figures above would be larger.")
	p("- moto on 127.0.0.1 answers in milliseconds; CloudFront's `CreateInvalidation` and DynamoDB over")
	p("  the network take longer, and the Python function's time included its real CloudFront call.")
	p("  Both points make the time ratios larger than they would be in Lambda.")
	p("- Whether the quoted duration included the Python function's init is not known, so it is set")
	p("  against both the cold start (init included) and a warm event.")
	p("- The emulator starts a process; Lambda first starts a micro-VM and fetches the code, which")
	p("  neither figure here includes.")
	p("- Lambda measures Max Memory Used for the whole execution environment; `VmHWM` is the bootstrap")
	p("  process's own peak resident set. Figures here are MiB (2^20 bytes); the quoted one is in the MB")
	p("  of Lambda's report.")
	p("")
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
