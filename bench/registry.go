package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// printer writes one line of the report.
type printer func(format string, args ...any)

// A section is one measurement's results; it writes its part of the report.
type section interface {
	write(p printer)
}

// A measurement is one numbered part of BENCHMARKS.md. Each lives in a file
// of its own and registers itself from init.
type measurement struct {
	Num     int
	Title   string // the heading, without its number
	What    string // what it measures, for the report when it did not run
	Measure func(options) (section, error)
}

var measurements []measurement

func register(m measurement) {
	measurements = append(measurements, m)
	sort.Slice(measurements, func(i, j int) bool { return measurements[i].Num < measurements[j].Num })
}

// Child processes: a measurement that needs a process of its own (for its
// own peak memory) re-runs this binary with childEnv set to a kind
// registered here; the child prints one JSON value on stdout.
const childEnv = "OFFLOAD_BENCH_CHILD"

var children = map[string]func(w io.Writer) error{}

func registerChild(kind string, run func(w io.Writer) error) {
	if _, dup := children[kind]; dup {
		panic("bench: child kind registered twice: " + kind)
	}
	children[kind] = run
}

func isChild() bool { return os.Getenv(childEnv) != "" }

func runChild(w io.Writer) error {
	kind := os.Getenv(childEnv)
	run, ok := children[kind]
	if !ok {
		return fmt.Errorf("unknown child kind %q", kind)
	}
	return run(w)
}

// inChild runs this binary as a child of the given kind with env added to
// the environment, and decodes the JSON it prints into out.
func inChild(kind string, env []string, out any) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), childEnv+"="+kind), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s child: %w: %s", kind, err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		return fmt.Errorf("%s child output %q: %w", kind, stdout, err)
	}
	return nil
}

// goBuild builds this tree's cmd/offload into out, with extra go build
// flags and environment.
func goBuild(out string, env []string, flags ...string) error {
	return goBuildPkg(out, "github.com/offload-dev/offload/cmd/offload", env, flags...)
}

// goBuildPkg builds this tree's package pkg into out.
func goBuildPkg(out, pkg string, env []string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}
