package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Measurement 7: `offload plan`, the built binary, on an SQS batch of N S3
// notifications, against bench/pyplan/plan.py doing the same decoding and
// grouping, each a process of its own, side by side in every round; and
// `offload apply` of the same batch, which also purges (the log provider)
// and records it in the ledger.

//go:embed pyplan/plan.py
var pyPlan []byte

// planParams sizes measurement 7.
type planParams struct {
	Sizes  []int
	Rounds int
}

var planDefaults = planParams{Sizes: []int{10000, 100000}, Rounds: 3}

// procRun is one run of a command: its wall and CPU time (user+system,
// from the kernel's rusage at exit) and its peak resident memory (the
// rusage maximum resident set size).
type procRun struct {
	Wall, CPU time.Duration
	PeakRSS   int64 // bytes
	OutBytes  int64 // what it wrote to standard output
}

type planRound struct{ Offload, Apply, Python procRun }

type planResult struct {
	Params     planParams
	InputBytes map[int]int
	Objects    map[int]int // distinct objects, as both counted them
	Python     string
	Runs       map[int][]planRound // by size, one per round
}

func init() {
	register(measurement{Num: 7, Title: "`offload plan` against a Python script",
		What:    "CPU time and peak memory of `offload plan` on 10,000 and 100,000 SQS-wrapped S3 records, against a 20-line Python script doing the same decoding and grouping; `offload apply` of the same records",
		Measure: func(o options) (section, error) { return measurePlan(o, planDefaults) }})
}

func (r *planResult) write(p printer) { writePlan(p, r) }

// planInput is the input of measurement 7: one SQS event of n messages,
// each an S3 put notification (every 20th a redelivery of the one before).
func planInput(n int) []byte { return sqsBatch(n) }

// planConfig is the configuration `offload plan` runs with: one site, a
// target of the log provider, the in-memory ledger.
const planConfig = `state: {driver: memory}
sites: [{name: www, bucket: my-site, index: index.html, purge_new: true, targets: [edge]}]
targets: [{name: edge, provider: log, base_url: https://www.example.com}]
`

func measurePlan(opts options, pp planParams) (*planResult, error) {
	dir, err := os.MkdirTemp("", "offload-bench-plan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	logf(opts, "7 building offload")
	bin := filepath.Join(dir, "offload")
	if err := goBuild(bin, []string{"CGO_ENABLED=0"}); err != nil {
		return nil, err
	}
	cfg, script := filepath.Join(dir, "offload.yaml"), filepath.Join(dir, "plan.py")
	if err := os.WriteFile(cfg, []byte(planConfig), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(script, pyPlan, 0o644); err != nil {
		return nil, err
	}
	// The interpreter itself: python3 on PATH may be a shim (pyenv's is a
	// shell script) whose own work would count as Python's.
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable); print(sys.version.split()[0])").Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) != 2 {
		return nil, fmt.Errorf("python3: %q, %v", out, err)
	}
	python := f[0]
	res := &planResult{Params: pp, InputBytes: map[int]int{}, Objects: map[int]int{}, Python: f[1], Runs: map[int][]planRound{}}
	for _, n := range pp.Sizes {
		in := filepath.Join(dir, fmt.Sprintf("events-%d.json", n))
		payload := planInput(n)
		res.InputBytes[n] = len(payload)
		if err := os.WriteFile(in, payload, 0o644); err != nil {
			return nil, err
		}
		for round := range pp.Rounds {
			var r planRound
			var offObjects, pyObjects int
			// Every round checks both outputs.
			r.Offload, offObjects, err = runPlanCmd(dir, bin, []string{"plan", "--config", cfg, "--events", in}, countPurged)
			if err != nil {
				return nil, fmt.Errorf("offload plan, %d records: %w", n, err)
			}
			r.Python, pyObjects, err = runPlanCmd(dir, python, []string{script, in}, countObjects)
			if err != nil {
				return nil, fmt.Errorf("plan.py, %d records: %w", n, err)
			}
			var applied int
			r.Apply, applied, err = runPlanCmd(dir, bin, []string{"apply", "--config", cfg, "--events", in}, countApplied)
			if err != nil {
				return nil, fmt.Errorf("offload apply, %d records: %w", n, err)
			}
			if want := n - n/20; offObjects != want || pyObjects != want || applied != want {
				return nil, fmt.Errorf("%d records: offload plan purged %d objects, plan.py kept %d, offload apply purged and recorded %d; want %d each",
					n, offObjects, pyObjects, applied, want)
			}
			res.Objects[n] = offObjects
			res.Runs[n] = append(res.Runs[n], r)
			logf(opts, "7 round %d, %d records: offload plan %v CPU, %d MiB peak; apply %v CPU, %d MiB peak; Python %v CPU, %d MiB peak",
				round+1, n, r.Offload.CPU, r.Offload.PeakRSS>>20, r.Apply.CPU, r.Apply.PeakRSS>>20, r.Python.CPU, r.Python.PeakRSS>>20)
		}
	}
	return res, nil
}

// gnuTime is GNU time, the launcher of measurement 7's processes. The
// kernel's maximum resident set of a child (rusage ru_maxrss) carries the
// peak of the process it was forked from, and Go starts children from the
// harness's address space, whose peak is its own (hundreds of MiB once it
// has read a plan); GNU time forks them from its own small process instead.
const gnuTime = "/usr/bin/time"

// runPlanCmd runs name with args under GNU time, measures it, and counts
// the objects in what it printed with count.
func runPlanCmd(dir, name string, args []string, count func([]byte) (int, error)) (procRun, int, error) {
	usage := filepath.Join(dir, "rusage")
	cmd := exec.Command(gnuTime, append([]string{"-o", usage, "-f", "%U %S %M", name}, args...)...)
	// The output goes to a file, read once the process is gone: a pipe
	// the harness drained as it ran would have it compete for this
	// machine's two cores with the process it measures.
	outFile, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		return procRun{}, 0, err
	}
	defer outFile.Close()
	// So does what it logs (apply logs each dry-run purge).
	errFile, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		return procRun{}, 0, err
	}
	defer errFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, errFile
	begin := time.Now()
	err = cmd.Run()
	r := procRun{Wall: time.Since(begin)}
	if err != nil {
		stderr, _ := os.ReadFile(errFile.Name())
		return r, 0, fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(stderr[max(0, len(stderr)-2000):]))
	}
	out, err := os.ReadFile(outFile.Name())
	if err != nil {
		return r, 0, err
	}
	r.OutBytes = int64(len(out))
	raw, err := os.ReadFile(usage)
	if err != nil {
		return r, 0, err
	}
	var user, sys float64
	var kib int64
	if _, err := fmt.Sscanf(string(raw), "%f %f %d", &user, &sys, &kib); err != nil {
		return r, 0, fmt.Errorf("%s: its rusage %q: %w", gnuTime, raw, err)
	}
	// GNU time prints seconds to two decimals: rounded to the millisecond,
	// 0.1 s is 100ms, not 99.999999ms.
	r.CPU = time.Duration(math.Round((user+sys)*1000)) * time.Millisecond
	r.PeakRSS = kib * 1024
	n, err := count(out)
	return r, n, err
}

// countPurged counts the changes of an offload plan decided "purge".
func countPurged(b []byte) (int, error) {
	var pl struct {
		Changes []struct{ Decision string } `json:"changes"`
	}
	if err := json.Unmarshal(b, &pl); err != nil {
		return 0, fmt.Errorf("offload plan's output: %w", err)
	}
	n := 0
	for _, c := range pl.Changes {
		if c.Decision == "purge" {
			n++
		}
	}
	return n, nil
}

// countApplied counts the changes of an offload apply result that were
// purged, their purge and ledger record done; it is an error unless the
// ledger recorded as many objects.
func countApplied(b []byte) (int, error) {
	var res struct {
		Changes []struct {
			Decision, Status string
		} `json:"changes"`
		Committed int `json:"committed"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return 0, fmt.Errorf("offload apply's output: %w", err)
	}
	n := 0
	for _, c := range res.Changes {
		if c.Decision == "purge" && c.Status == "ok" {
			n++
		}
	}
	if n != res.Committed {
		return 0, fmt.Errorf("offload apply: %d changes purged, %d records committed", n, res.Committed)
	}
	return n, nil
}

// countObjects counts plan.py's objects.
func countObjects(b []byte) (int, error) {
	var objs []json.RawMessage
	if err := json.Unmarshal(b, &objs); err != nil {
		return 0, fmt.Errorf("plan.py's output: %w", err)
	}
	return len(objs), nil
}

func writePlan(p printer, r *planResult) {
	p("## 7. `offload plan` against a Python script")
	p("")
	p("`offload plan` (this tree's `cmd/offload`) reads one SQS event of N")
	p("messages from a file, each message's body an S3 put notification (measurement 3's batch: every")
	p("20th message a redelivery of the one before), plans it against an empty in-memory ledger for one")
	p("site and one target of the `log` provider, and prints the plan as JSON. The contender,")
	p("`bench/pyplan/plan.py` (Python %s, standard library only), reads the same file with `json.load`,", r.Python)
	p("`json.loads` each message's body, keeps each object's newest event by sequencer in a dict keyed by")
	p("bucket and key, and prints the objects as JSON. It does less than the plan (no decisions,")
	p("reasons, purge batches or ledger records), so it is the floor of the decoding and grouping.")
	p("")
	p("Each is a process of its own, run one after the other in every round. Its standard output goes")
	p("to a file the harness reads once it has exited (a pipe drained while it ran would compete for")
	p("the machine's two cores with the process measured), and the harness checks it: the plan must decide \"purge\" for every distinct object")
	p("and the script keep every distinct object (N − N/20 of them). Each runs under GNU time, which")
	p("reports its user+system CPU time (in 10 ms steps) and its maximum resident set from the kernel's")
	p("`rusage` at its exit (GNU time forks it from its own small process: a child the harness started")
	p("directly would report the harness's own peak if larger). Wall is the harness's, from start to")
	p("exit. %d rounds; median (range); each ratio is taken within a round.", r.Params.Rounds)
	p("")
	p("`offload apply` runs in the same rounds on the same file and configuration, after the other two:")
	p("it plans as `plan` does, then sends the purges (the `log` provider's dry run: each call logged,")
	p("to a file as the output is) and records every purged object in the in-memory ledger, and prints")
	p("the result, every change with its status. The harness checks that every distinct object was")
	p("purged and recorded. It has no contender here; it is measured so that its memory is seen")
	p("beside the plan's: what it adds is the purge results and the ledger's records, per object.")
	p("")
	p("| N records | input | | offload plan | plan.py | plan.py ÷ offload plan | offload apply |")
	p("|---:|---:|---|---:|---:|---:|---:|")
	for _, n := range r.Params.Sizes {
		var ow, oc, om, yw, yc, ym, ob, yb, aw, ac, am, ab []float64
		for _, run := range r.Runs[n] {
			ow, yw, aw = append(ow, ms(run.Offload.Wall)), append(yw, ms(run.Python.Wall)), append(aw, ms(run.Apply.Wall))
			oc, yc, ac = append(oc, ms(run.Offload.CPU)), append(yc, ms(run.Python.CPU)), append(ac, ms(run.Apply.CPU))
			om, ym = append(om, float64(run.Offload.PeakRSS)/(1<<20)), append(ym, float64(run.Python.PeakRSS)/(1<<20))
			am = append(am, float64(run.Apply.PeakRSS)/(1<<20))
			ob, yb = append(ob, float64(run.Offload.OutBytes)/(1<<20)), append(yb, float64(run.Python.OutBytes)/(1<<20))
			ab = append(ab, float64(run.Apply.OutBytes)/(1<<20))
		}
		in := fmt.Sprintf("%s MiB", fmtNum(float64(r.InputBytes[n])/(1<<20)))
		p("| %s | %s | wall | %s ms | %s ms | %s | %s ms |", commas(int64(n)), in, spreadOf(ow), spreadOf(yw), ratioString(ratios(yw, ow)), spreadOf(aw))
		p("| | | CPU | %s ms | %s ms | %s | %s ms |", spreadOf(oc), spreadOf(yc), ratioString(ratios(yc, oc)), spreadOf(ac))
		p("| | | peak RSS | %s MiB | %s MiB | %s | %s MiB |", spreadOf(om), spreadOf(ym), ratioString(ratios(ym, om)), spreadOf(am))
		p("| | | output | %s MiB | %s MiB | | %s MiB |", spreadOf(ob), spreadOf(yb), spreadOf(ab))
	}
	p("")
	p("A ratio above 1 means plan.py took more than offload. The machine is shared (see Machine), and")
	p("the two ran one after the other, not at once.")
	p("")
}
