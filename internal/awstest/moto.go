package awstest

import (
	"fmt"
	"github.com/offload-dev/offload/internal/childproc"
	"github.com/offload-dev/offload/internal/loopback"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region every test config uses.
const Region = "us-east-1"

// Moto is a running moto_server on 127.0.0.1.
type Moto struct {
	URL string // http://127.0.0.1:PORT

	cmd  *exec.Cmd
	done chan struct{}
}

// StartMoto starts moto_server on a free loopback port and waits until it
// answers. It tries a few ports, since another process may take the free port
// between the probe and moto's bind.
func StartMoto() (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("awstest: moto_server not found on PATH (pip install 'moto[server]'): %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		m, err := startMoto(bin, port)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startMoto(bin string, port int) (*Moto, error) {
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// Not the test process's AWS_ variables (SetEnv's, say): they are for
	// the clients, and moto runs botocore itself, which fails every call
	// when AWS_PROFILE is set but empty.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "MOTO_ALLOW_NONEXISTENT_REGION=true")
	// Its own process group, killed with the test binary if that dies first.
	cmd.SysProcAttr = childproc.Attr(true)
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("awstest: start moto_server: %w", err)
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(m.done) }()

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return nil, fmt.Errorf("awstest: moto_server on port %d exited before it was ready", port)
		default:
		}
		resp, err := client.Get(m.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.Close()
	return nil, fmt.Errorf("awstest: moto_server on port %d not ready after 60s", port)
}

// Reset drops every resource moto holds, so a test starts from nothing.
func (m *Moto) Reset() error {
	resp, err := http.Post(m.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("awstest: reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("awstest: reset moto: status %d", resp.StatusCode)
	}
	return nil
}

// Close stops the server and its children.
func (m *Moto) Close() error {
	if m.cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
	return nil
}

// Config returns an aws.Config whose clients talk to this server with static
// test credentials. An optional transport (a Counter, say) wraps the HTTP client.
func (m *Moto) Config(rt ...http.RoundTripper) aws.Config {
	return Config(m.URL, rt...)
}

// Config returns an aws.Config for endpoint with static test credentials.
func Config(endpoint string, rt ...http.RoundTripper) aws.Config {
	var transport http.RoundTripper = Transport()
	if len(rt) > 0 && rt[0] != nil {
		transport = rt[0]
	}
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: transport, Timeout: 30 * time.Second},
		Retryer:      connectionRetryer,
	}
}

// connectionRetryer retries only a call whose connection broke under it,
// at once: moto's development server now and then closes a connection
// while its answer is being read (the SDK's "use of closed network
// connection"). Anything the service answered, throttles and 5xx
// included, is not retried, so tests see exactly what they provoked.
func connectionRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if err != nil && brokenConnection(err.Error()) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

func brokenConnection(msg string) bool {
	for _, s := range []string{"use of closed network connection", "connection reset by peer", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Transport returns the HTTP transport for talking to moto: a fresh
// connection per request, since moto's development server can close a
// kept-alive connection while a response is being read.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	return t
}

var (
	shared     *Moto
	sharedErr  error
	sharedOnce sync.Once
)

// SharedMoto returns the test binary's moto server, starting it on first
// use; RunMain stops it when the tests end. A test that needs it and cannot
// have it fails: moto is part of the test setup, not optional.
func SharedMoto(tb testing.TB) *Moto {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = StartMoto() })
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return shared
}

// RunMain runs the tests and then stops the shared moto server, if one was
// started. Use it from TestMain: os.Exit(awstest.RunMain(m)).
func RunMain(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	return code
}

func freePort() (int, error) {
	ports, err := loopback.FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}
