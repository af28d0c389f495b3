// Package natstest runs a real nats-server with JetStream on loopback for
// tests: the JetStream inbox, the key-value ledger, MinIO's NATS target and
// the replica tests of `offload serve`.
//
// nats-server is a Go module, built with `go install
// github.com/nats-io/nats-server/v2@VERSION` (scripts/test-deps.sh does it
// once, at the version it pins). It runs as a process of its own rather than
// in-process from its server package: a test can then SIGKILL it, or stop
// it and start it again on the same port and store as an outage does, and
// the module's dependencies stay out of offload's go.mod. A machine without
// the binary fails the test: it is part of the test setup, not optional.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/childproc"
	"github.com/offload-dev/offload/internal/gobin"
	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/internal/syncbuf"
)

// Server is a running nats-server.
type Server struct {
	URL  string // nats://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT
	Dir  string // its JetStream store (-sd)

	bin  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	log  *syncbuf.Buffer
}

// Options configure Start.
type Options struct {
	// Config is a nats-server configuration file's text (accounts, users,
	// TLS), written to a file and passed with -c. Default none.
	Config string
}

// Binary finds nats-server: on PATH, or where `go install` puts it.
func Binary() (string, error) {
	if p, ok := gobin.Find("nats-server"); ok {
		return p, nil
	}
	return "", errors.New("natstest: nats-server is not on PATH nor in $(go env GOBIN) or $(go env GOPATH)/bin: run scripts/test-deps.sh (make test-deps), which builds it with go install github.com/nats-io/nats-server/v2")
}

// Start runs nats-server with JetStream on a free loopback port, its store
// in a temporary directory, and stops it when the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Launch(tb.TempDir(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close()
		if tb.Failed() {
			tb.Logf("nats-server log:\n%s", s.Log())
		}
	})
	return s
}

// Launch runs nats-server with its store under dir, outside a test (the
// benchmark harness uses it); the caller must Close it.
func Launch(dir string, opts Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port may be taken before the server binds it
		ports, err := loopback.FreePorts(1)
		if err != nil {
			return nil, err
		}
		s := &Server{bin: bin, Dir: filepath.Join(dir, "jetstream"), log: &syncbuf.Buffer{}}
		s.Addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		s.URL = "nats://" + s.Addr
		s.args = []string{"-js", "-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "-sd", s.Dir}
		if opts.Config != "" {
			conf := filepath.Join(dir, "nats.conf")
			if err := os.WriteFile(conf, []byte(opts.Config), 0o600); err != nil {
				return nil, err
			}
			s.args = append(s.args, "-c", conf)
		}
		if lastErr = s.run(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// run starts the process and waits until it takes connections.
func (s *Server) run() error {
	s.done = make(chan struct{})
	start := len(s.log.String()) // a restart appends to the same log
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = childproc.Attr(false)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("natstest: start %s: %w", s.bin, err)
	}
	done := s.done
	go func() { _ = s.cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("natstest: nats-server exited before it was ready:\n%s", s.log)
		default:
		}
		// Ready once the log says so: the port takes connections a moment
		// before JetStream has read its store.
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			c.Close()
			if strings.Contains(s.log.String()[start:], "Server is ready") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Close()
	return fmt.Errorf("natstest: nats-server not ready after 20s:\n%s", s.log)
}

// Kill ends the server with SIGKILL, as a crash does.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Restart starts the server again on the same port and store, after Kill
// or Close.
func (s *Server) Restart() error {
	select {
	case <-s.done:
	default:
		return errors.New("natstest: restart of a server that is still running")
	}
	var err error
	for range 50 { // the old socket may linger a moment
		if err = s.run(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Close stops the server (SIGTERM, then SIGKILL after 10s).
func (s *Server) Close() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
}

// Log returns what the server wrote so far.
func (s *Server) Log() string { return s.log.String() }

// RunMain is a test package's TestMain body for tests that share one
// nats-server: it launches the server in a temporary directory, sets
// *server and EXAMPLE_NATS_URL (the examples' server), runs the tests,
// then stops the server and removes the directory. It returns the exit
// code for os.Exit.
func RunMain(m *testing.M, server **Server) int {
	dir, err := os.MkdirTemp("", "natstest")
	if err != nil {
		fmt.Fprintln(os.Stderr, "natstest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	s, err := Launch(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	*server = s
	os.Setenv("EXAMPLE_NATS_URL", s.URL)
	return m.Run()
}
