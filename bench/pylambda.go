package main

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/offload-dev/offload/internal/lambdatest"
)

// The Python contender of measurement 4: pylambda/handler.py run by
// pylambda/runtime.py, a Runtime API loop of the standard library, under
// the same emulator as the bootstrap.

//go:embed pylambda/*.py
var pyLambdaFiles embed.FS

// pythonLambda is the Python function laid out as a deployment package.
type pythonLambda struct {
	Dir       string // LAMBDA_TASK_ROOT: handler.py and runtime.py
	Bootstrap string // a custom runtime's bootstrap: exec python3 runtime.py
	Version   string // the interpreter's, e.g. "3.11.7"
	Boto3     string // boto3's version
}

// writePythonLambda writes the handler, the runtime loop and a bootstrap
// that runs them with the python3 on PATH (the one moto runs on, so boto3
// is there) into dir.
func writePythonLambda(dir string) (*pythonLambda, error) {
	out, err := exec.Command("python3", "-c", "import sys, boto3; print(sys.executable); print(sys.version.split()[0]); print(boto3.__version__)").Output()
	if err != nil {
		return nil, fmt.Errorf("python3 with boto3 (moto installs it): %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return nil, fmt.Errorf("python3: unexpected %q", out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, name := range []string{"handler.py", "runtime.py"} {
		b, err := pyLambdaFiles.ReadFile("pylambda/" + name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	// exec, so the emulator's process is the interpreter and its VmHWM
	// and CPU time are Python's.
	boot := filepath.Join(dir, "bootstrap")
	script := fmt.Sprintf("#!/bin/sh\nexec %s %s\n", f[0], filepath.Join(dir, "runtime.py"))
	if err := os.WriteFile(boot, []byte(script), 0o755); err != nil {
		return nil, err
	}
	return &pythonLambda{Dir: dir, Bootstrap: boot, Version: f[1], Boto3: f[2]}, nil
}

// invokePython sends the handler one S3 notification (S3 invokes such a
// function directly) of an object new in every round and event, and checks
// that it invalidated it.
func invokePython(rt *lambdatest.Runtime, round, i int) (time.Duration, error) {
	begin := time.Now()
	out, errPayload, err := rt.Invoke(context.Background(), s3Put(fmt.Sprintf("py/r%d/page%04d.html", round, i), round*100000+i), 30*time.Second)
	took := time.Since(begin)
	if err == nil && errPayload != nil {
		err = fmt.Errorf("function error %s", errPayload)
	}
	if err == nil {
		var resp struct{ Invalidated int }
		if json.Unmarshal(out, &resp) != nil || resp.Invalidated != 1 {
			err = fmt.Errorf("response %.200s, want {\"invalidated\": 1}", out)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("python handler: %w\n%s", err, logExcerpt(rt.Logs()))
	}
	return took, nil
}
