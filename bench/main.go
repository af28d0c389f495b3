// Command bench runs offload's benchmarks side by side and regenerates
// BENCHMARKS.md from what it measured: every figure in that file comes from
// one run of this program.
//
//	go run ./bench              # all measurements, writes BENCHMARKS.md
//	go run ./bench -out -       # print instead of writing
//	go run ./bench -only 4,6    # only measurements 4 and 6
//
// It writes the chart of measurement 5 to docs/freshness.png next to the
// output file. It needs what `make test-deps` installs: moto_server
// (measurements 1 to 4) and the python3 it runs on (4 and 7), MinIO and
// Varnish (5 and 6), Node.js and bench/powertools's npm packages (2).
// Everything listens on 127.0.0.1.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type options struct {
	Out            string        // file to write; "-" for stdout
	Rounds         int           // rounds of measurement 1
	PipelineRounds int           // rounds of measurement 3
	Latency        time.Duration // fake CDN latency per request
	Sizes          []int         // measurement 3 batch sizes
	Counts         []int         // measurement 2 entry counts
	Only           map[int]bool  // measurements to run; all when empty
	Progress       io.Writer
}

// runs reports whether measurement n is to run.
func (o options) runs(n int) bool { return len(o.Only) == 0 || o.Only[n] }

func main() {
	testing.Init() // testing.Benchmark and internal/awstest read the test flags
	var opts options
	flag.StringVar(&opts.Out, "out", "BENCHMARKS.md", `file to write, "-" for stdout`)
	flag.IntVar(&opts.Rounds, "rounds", 5, "rounds of the cache hit benchmarks (measurements 1 and 2)")
	flag.IntVar(&opts.PipelineRounds, "pipeline-rounds", 3, "rounds of the pipeline benchmarks")
	flag.DurationVar(&opts.Latency, "latency", 20*time.Millisecond, "fixed latency of each fake CDN request")
	only := flag.String("only", "", "comma-separated measurements to run, e.g. 4,6; the others are reported as not run")
	flag.Parse()
	opts.Only = map[int]bool{}
	for _, f := range strings.FieldsFunc(*only, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -only %q: %q is not a measurement number\n", *only, f)
			os.Exit(2)
		}
		opts.Only[n] = true
	}
	opts.Sizes = []int{1, 100, 10000, 100000}
	opts.Counts = []int{1, 10, 25, 100}
	opts.Progress = os.Stderr

	if isChild() {
		if err := runChild(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	var buf bytes.Buffer
	runErr := run(opts, &buf)
	if buf.Len() == 0 {
		fmt.Fprintln(os.Stderr, "bench:", runErr)
		os.Exit(1)
	}
	defer func() {
		if runErr != nil {
			fmt.Fprintln(os.Stderr, "bench: the report says which measurements failed:", runErr)
			os.Exit(1)
		}
	}()
	if opts.Out == "-" {
		os.Stdout.Write(buf.Bytes())
		return
	}
	if err := os.WriteFile(opts.Out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "bench: wrote", opts.Out)
}

// run measures everything and writes the report to w.
func run(opts options, w io.Writer) error {
	start := time.Now()
	m := machine()
	logf(opts, "machine: %s", m)

	sections := map[int]section{}
	var failed []error
	for _, ms := range measurements {
		if !opts.runs(ms.Num) {
			continue
		}
		logf(opts, "%d. %s", ms.Num, ms.Title)
		s, err := ms.Measure(opts)
		if err != nil {
			// The others still run and are reported: one measurement that
			// fails (a contender missing, a server refusing) says so in
			// the report instead of costing the whole run.
			err = fmt.Errorf("%d. %s: %w", ms.Num, ms.Title, err)
			logf(opts, "%v", err)
			failed = append(failed, err)
			s = failedSection{ms, err}
		}
		sections[ms.Num] = s
	}
	if err := writeReport(w, report{
		Machine: m, Start: start, Elapsed: time.Since(start), Opts: opts, Sections: sections,
	}); err != nil {
		return err
	}
	return errors.Join(failed...)
}

// failedSection reports a measurement that failed, and why.
type failedSection struct {
	m   measurement
	err error
}

func (f failedSection) write(p printer) {
	p("## %d. %s", f.m.Num, f.m.Title)
	p("")
	p("**Failed in this run**, so there are no figures: %s.", f.m.What)
	p("")
	p("```")
	p("%v", f.err)
	p("```")
	p("")
}

func logf(opts options, format string, args ...any) {
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "bench: "+format+"\n", args...)
	}
}
