package purgetest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestOutsideModule runs the tests of testdata/outside, a module of its own
// with a toy provider that runs this suite against its own fake: what a
// provider written outside offload's module does. It passes only if
// everything that takes needs nothing but offload's public API.
func TestOutsideModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests another module")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "test", "-count=1", "./...")
	cmd.Dir = filepath.Join("testdata", "outside")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test ./... in %s: got %v, want it to pass:\n%s", cmd.Dir, err, out)
	}
	t.Logf("%s", out)
}

// goTool is the go command of the toolchain running this test, else the
// one in PATH.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}
