package lambdatest_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/lambdatest"
)

// fn builds the test function in testdata/fn.
func fn(t *testing.T) string {
	t.Helper()
	return lambdatest.Build(t, "./testdata/fn")
}

type fnResponse struct {
	Echo       string `json:"echo"`
	RequestID  string `json:"requestId"`
	ARN        string `json:"arn"`
	DeadlineIn int64  `json:"deadlineInMs"`
	Function   string `json:"function"`
	Memory     int    `json:"memory"`
	PID        int    `json:"pid"`
}

func start(t *testing.T, bin string, env ...string) *lambdatest.Runtime {
	t.Helper()
	rt, err := lambdatest.Start(lambdatest.Options{Path: bin, Env: env, FunctionName: "fn", MemoryMB: 256, Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// testWriter sends the process's output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestRuntime(t *testing.T) {
	bin := fn(t)
	ctx := context.Background()

	t.Run("invoke", func(t *testing.T) {
		rt := start(t, bin)
		var pids []int
		for i := 0; i < 3; i++ {
			out, errPayload, err := rt.Invoke(ctx, []byte(`{"echo":"hi"}`), 5*time.Second)
			if err != nil || errPayload != nil {
				t.Fatalf("invoke %d: got err %v, error payload %s", i, err, errPayload)
			}
			var r fnResponse
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("response %s: %v", out, err)
			}
			if r.Echo != "hi" || len(r.RequestID) != 36 || r.Function != "fn" || r.Memory != 256 {
				t.Errorf("got %+v, want echo hi, a request id, function fn, memory 256", r)
			}
			if r.ARN != rt.FunctionARN() {
				t.Errorf("got ARN %q, want %q", r.ARN, rt.FunctionARN())
			}
			if r.DeadlineIn < 4000 || r.DeadlineIn > 5000 {
				t.Errorf("got %dms to the deadline, want about 5000", r.DeadlineIn)
			}
			pids = append(pids, r.PID)
		}
		if pids[0] != pids[1] || pids[1] != pids[2] {
			t.Errorf("got processes %v, want one warm process for every invocation", pids)
		}
		ps := rt.Processes()
		if len(ps) != 1 || ps[0].Init <= 0 || ps[0].FirstAnswer < ps[0].Init {
			t.Errorf("got processes %+v, want one with init and first answer times", ps)
		}
		if len(ps) == 1 && ps[0].Pid != pids[0] {
			t.Errorf("got pid %d, want %d, the function's own", ps[0].Pid, pids[0])
		}
	})

	t.Run("function error", func(t *testing.T) {
		rt := start(t, bin)
		out, errPayload, err := rt.Invoke(ctx, []byte(`{"error":"boom"}`), 0)
		if err != nil || out != nil {
			t.Fatalf("got %s, %v; want only an error payload", out, err)
		}
		var e struct{ ErrorMessage, ErrorType string }
		if json.Unmarshal(errPayload, &e) != nil || e.ErrorMessage != "boom" || e.ErrorType != "errorString" {
			t.Errorf("got error payload %s, want boom of type errorString", errPayload)
		}
	})

	t.Run("timeout resets the environment", func(t *testing.T) {
		rt := start(t, bin)
		begin := time.Now()
		_, errPayload, err := rt.Invoke(ctx, []byte(`{"sleep":"5s"}`), 300*time.Millisecond)
		if !errors.Is(err, lambdatest.ErrTimeout) {
			t.Fatalf("got %v, want ErrTimeout", err)
		}
		if took := time.Since(begin); took > 3*time.Second {
			t.Errorf("the timeout took %s to report, want about 300ms", took)
		}
		if !strings.Contains(string(errPayload), "Task timed out after 0.30 seconds") {
			t.Errorf("got error payload %s, want Lambda's timeout message", errPayload)
		}
		out, _, err := rt.Invoke(ctx, []byte(`{"echo":"again"}`), 5*time.Second)
		if err != nil || !strings.Contains(string(out), `"echo":"again"`) {
			t.Fatalf("invoke after a timeout: got %s, %v", out, err)
		}
		ps := rt.Processes()
		if len(ps) != 2 || !ps[0].Exited || ps[0].Killed != "timeout" || ps[1].Exited {
			t.Errorf("got processes %+v, want the first killed for the timeout and a second running", ps)
		}
	})

	t.Run("exit during an invocation", func(t *testing.T) {
		rt := start(t, bin)
		_, errPayload, err := rt.Invoke(ctx, []byte(`{"exit":3}`), 5*time.Second)
		var ee *lambdatest.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("got %v, want an ExitError", err)
		}
		var xe *exec.ExitError
		if !errors.As(err, &xe) || xe.ExitCode() != 3 {
			t.Errorf("got %v, want exit status 3", err)
		}
		if !strings.Contains(string(errPayload), "Runtime.ExitError") {
			t.Errorf("got error payload %s, want Runtime.ExitError", errPayload)
		}
		if _, _, err := rt.Invoke(ctx, []byte(`{"echo":"x"}`), 5*time.Second); err != nil {
			t.Fatalf("invoke after an exit: %v", err)
		}
		if ps := rt.Processes(); len(ps) != 2 || !ps[0].Exited || ps[0].Killed != "" {
			t.Errorf("got processes %+v, want the first exited by itself", ps)
		}
	})

	t.Run("panic", func(t *testing.T) {
		rt := start(t, bin)
		_, errPayload, err := rt.Invoke(ctx, []byte(`{"panic":"oops"}`), 5*time.Second)
		if err != nil {
			t.Fatalf("got %v, want the panic reported as a function error", err)
		}
		if !strings.Contains(string(errPayload), `"errorMessage":"oops"`) || !strings.Contains(string(errPayload), `"stackTrace"`) {
			t.Errorf("got error payload %s, want oops with a stack trace", errPayload)
		}
		// aws-lambda-go exits after reporting a panic; the next invocation
		// gets a new process.
		out, _, err := rt.Invoke(ctx, []byte(`{"echo":"after"}`), 5*time.Second)
		if err != nil || !strings.Contains(string(out), "after") {
			t.Fatalf("invoke after a panic: got %s, %v", out, err)
		}
		if ps := rt.Processes(); len(ps) != 2 || !ps[0].Exited {
			t.Errorf("got processes %+v, want the panicked one exited and a new one", ps)
		}
	})

	t.Run("init error", func(t *testing.T) {
		rt := start(t, bin, "FN_INIT_ERROR=no config")
		_, errPayload, err := rt.Invoke(ctx, []byte(`{}`), 5*time.Second)
		var ie *lambdatest.InitError
		if !errors.As(err, &ie) || ie.Type != "Fn.InitFailed" {
			t.Fatalf("got %v, want an InitError of type Fn.InitFailed", err)
		}
		if !strings.Contains(string(errPayload), "no config") {
			t.Errorf("got error payload %s, want the init error's", errPayload)
		}
	})

	t.Run("exit during init", func(t *testing.T) {
		rt := start(t, bin, "FN_EXIT_AT_START=2")
		_, _, err := rt.Invoke(ctx, []byte(`{}`), 5*time.Second)
		var xe *exec.ExitError
		if !errors.As(err, &xe) || xe.ExitCode() != 2 {
			t.Fatalf("got %v, want an ExitError with status 2", err)
		}
	})

	t.Run("init timeout", func(t *testing.T) {
		rt, err := lambdatest.Start(lambdatest.Options{Path: bin, Env: []string{"FN_INIT_SLEEP=10s"}, InitTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		_, _, err = rt.Invoke(ctx, []byte(`{}`), 5*time.Second)
		if !errors.Is(err, lambdatest.ErrTimeout) || !strings.Contains(err.Error(), "init") {
			t.Fatalf("got %v, want an init timeout", err)
		}
	})

	t.Run("concurrent invocations", func(t *testing.T) {
		rt := start(t, bin, "AWS_LAMBDA_MAX_CONCURRENCY=2")
		if _, _, err := rt.Invoke(ctx, []byte(`{"echo":"init"}`), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, _, err := rt.Invoke(ctx, []byte(`{"sleep":"600ms"}`), 5*time.Second)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(begin); took > 1100*time.Millisecond {
			t.Errorf("two 600ms invocations took %s, want them run together", took)
		}
	})

	t.Run("closed", func(t *testing.T) {
		rt := start(t, bin)
		rt.Close()
		if _, _, err := rt.Invoke(ctx, []byte(`{}`), 0); !errors.Is(err, lambdatest.ErrClosed) {
			t.Fatalf("got %v, want ErrClosed", err)
		}
	})
}
