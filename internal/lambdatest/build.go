package lambdatest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles the main package pkg (a path or import path, resolved from
// the test's working directory) into tb.TempDir()/bootstrap, as a Lambda
// deployment package holds it: with the lambda.norpc tag, for this machine.
// More go build flags ("-trimpath", "-ldflags=-s -w") may follow; a -tags
// among them replaces lambda.norpc (the last -tags wins), so it names that
// tag too. It returns the binary's path.
func Build(tb testing.TB, pkg string, flags ...string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "bootstrap")
	gobin := "go"
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	args := append([]string{"build", "-tags", "lambda.norpc", "-o", out}, flags...)
	cmd := exec.Command(gobin, append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("lambdatest: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
