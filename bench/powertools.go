package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// The Powertools contender runs under Node.js from bench/powertools, where
// `npm ci` (scripts/test-deps.sh) installs the versions package-lock.json
// pins.

// repoDir is the module's root directory, found by the go command, so the
// harness finds its files from `go run ./bench` and `go test ./bench` alike.
var repoDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not in the offload module")
	}
	return filepath.Dir(mod), nil
})

// powertoolsDir is bench/powertools, once its packages are installed.
func powertoolsDir() (string, error) {
	root, err := repoDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "bench", "powertools")
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("powertools: node not found on PATH (Debian's nodejs package): %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-lambda-powertools", "parameters")); err != nil {
		return "", fmt.Errorf("powertools: its packages are not installed: run `make test-deps` (npm ci in %s)", dir)
	}
	return dir, nil
}

// powertoolsVersions names the pinned packages, from package-lock.json.
func powertoolsVersions(dir string) string {
	raw, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "unknown versions"
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if json.Unmarshal(raw, &lock) != nil {
		return "unknown versions"
	}
	var out []string
	for _, name := range []string{"@aws-lambda-powertools/parameters", "@aws-sdk/client-ssm", "@aws-sdk/client-secrets-manager"} {
		out = append(out, fmt.Sprintf("`%s@%s`", name, lock.Packages["node_modules/"+name].Version))
	}
	return strings.Join(out, ", ")
}

// powertoolsJob is params.mjs's OFFLOAD_BENCH_JOB.
type powertoolsJob struct {
	Parameters []string `json:"parameters"`
	Secrets    []string `json:"secrets"`
	MaxAge     int      `json:"maxAge"` // seconds
	HitReads   int      `json:"hitReads"`
	HitRounds  int      `json:"hitRounds"`
}

// powertoolsOut is one phase's line.
type powertoolsOut struct {
	Phase      string            `json:"phase"`
	Parameters map[string]string `json:"parameters"`
	Secrets    map[string]string `json:"secrets"`
	Rounds     []struct {
		Parameter float64 `json:"parameter"` // ns per read
		Secret    float64 `json:"secret"`
	} `json:"rounds"`
}

// runPowertools runs params.mjs with endpoint as AWS_ENDPOINT_URL. After
// each phase it calls check with the phase's output and then each of
// after, before it lets the script go on.
func runPowertools(dir, endpoint string, job powertoolsJob, check func(powertoolsOut) error, after ...func(phase string)) error {
	raw, err := json.Marshal(job)
	if err != nil {
		return err
	}
	cmd := exec.Command("node", "params.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OFFLOAD_BENCH_JOB="+string(raw),
		"AWS_ENDPOINT_URL="+endpoint,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=testing",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("powertools: start node: %w", err)
	}
	fail := func(err error) error {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("powertools: %w\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var out powertoolsOut
		if err := json.Unmarshal(sc.Bytes(), &out); err != nil {
			return fail(fmt.Errorf("output %.200q: %w", sc.Bytes(), err))
		}
		if err := check(out); err != nil {
			return fail(err)
		}
		for _, f := range after {
			f(out.Phase)
		}
		if _, err := stdin.Write([]byte("\n")); err != nil {
			return fail(err)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("powertools: node params.mjs: %w\n%s", err, stderr.String())
	}
	return nil
}
