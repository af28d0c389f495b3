// Package varnishtest runs a real varnishd on loopback for tests, with a VCL
// that caches what an origin answers, allows PURGE and BAN only from the
// addresses it is told (loopback by default), and marks every response
// X-Cache: HIT or MISS.
package varnishtest

import (
	"bytes"
	"fmt"
	"github.com/offload-dev/offload/internal/childproc"
	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/internal/syncbuf"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Options configure a Varnish.
type Options struct {
	// Allow lists the addresses (VCL ACL entries) that may PURGE and BAN.
	// Default: loopback, "127.0.0.1" and "::1".
	Allow []string
	// TTL is how long objects stay cached when the origin says nothing.
	// Default 1h.
	TTL time.Duration
	// SoftPurge makes PURGE soft (vmod_purge's purge.soft with an hour's
	// keep), as many sites' VCL does: the purged object is stale at once
	// but stays to be revalidated, so the next miss asks the origin with
	// its validators. A hard purge leaves its object in that state too,
	// only until Varnish's expiry thread removes it, a moment a test
	// cannot hit at will (varnish-cache#4082); SoftPurge makes it last.
	SoftPurge bool
}

// Varnish is a running varnishd.
type Varnish struct {
	URL   string // http://127.0.0.1:PORT, the client side
	Admin string // 127.0.0.1:PORT, the management (-T) address
	Dir   string // the instance directory (-n)
	VCL   string // the VCL it runs

	cmd    *exec.Cmd
	done   chan struct{}
	stderr *syncbuf.Buffer
}

// VCL returns the test VCL for a backend at host:port.
func VCL(backend string, o Options) (string, error) {
	host, port, err := net.SplitHostPort(backend)
	if err != nil {
		return "", fmt.Errorf("varnishtest: backend %q: %w", backend, err)
	}
	allow := o.Allow
	if len(allow) == 0 {
		allow = []string{"127.0.0.1", "::1"}
	}
	var acl strings.Builder
	for _, a := range allow {
		fmt.Fprintf(&acl, "\t%q;\n", a)
	}
	imports, recv, hitMiss := "", "return (purge);", ""
	if o.SoftPurge {
		imports, recv, hitMiss = "import purge;\n", "return (hash);", softPurge
	}
	return fmt.Sprintf(vclTemplate, imports, host, port, acl.String(), recv, hitMiss), nil
}

const softPurge = `
sub vcl_hit {
	if (req.method == "PURGE") {
		purge.soft(0s, 0s, 1h);
		return (synth(200, "Purged"));
	}
}

sub vcl_miss {
	if (req.method == "PURGE") {
		purge.soft(0s, 0s, 1h);
		return (synth(200, "Purged"));
	}
}
`

const vclTemplate = `vcl 4.1;
%s
backend origin {
	.host = %q;
	.port = %q;
}

acl purgers {
%s}

sub vcl_recv {
	if (req.method == "PURGE") {
		if (client.ip !~ purgers) {
			return (synth(405, "PURGE not allowed from " + client.ip));
		}
		%s
	}
	if (req.method == "BAN") {
		if (client.ip !~ purgers) {
			return (synth(405, "BAN not allowed from " + client.ip));
		}
		ban("obj.http.x-host == " + req.http.host + " && obj.http.x-url == " + req.url);
		return (synth(200, "Ban added"));
	}
}

%s
# Varnish revalidates a stale copy with both of its validators, and may do
# so with a copy just purged (varnish-cache#4082). An origin that answers
# 304 because the date holds although the ETag does not (MinIO does; RFC
# 9110 13.2.2 says to ignore If-Modified-Since when If-None-Match is sent)
# then has Varnish keep the old body for its whole TTL whenever the two
# versions were written in the same second (Last-Modified has whole
# seconds). The ETag decides alone.
sub vcl_backend_fetch {
	if (bereq.http.If-None-Match) {
		unset bereq.http.If-Modified-Since;
	}
}

sub vcl_backend_response {
	# Lurker-friendly bans test what the object carries, not the request.
	set beresp.http.x-host = bereq.http.host;
	set beresp.http.x-url = bereq.url;
}

sub vcl_deliver {
	unset resp.http.x-host;
	unset resp.http.x-url;
	if (obj.hits > 0) {
		set resp.http.X-Cache = "HIT";
	} else {
		set resp.http.X-Cache = "MISS";
	}
}
`

// Start runs varnishd in front of backend (host:port) and stops it when the
// test ends. A machine without varnishd fails the test: Varnish is part of
// the test setup (scripts/test-deps.sh installs it), not optional.
func Start(tb testing.TB, backend string, o Options) *Varnish {
	tb.Helper()
	v, err := start(tb.TempDir(), backend, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(v.Close)
	return v
}

// Launch runs varnishd in front of backend with its files in dir, outside a
// test (the benchmark harness uses it); the caller must Close it.
func Launch(dir, backend string, o Options) (*Varnish, error) { return start(dir, backend, o) }

func start(dir, backend string, o Options) (*Varnish, error) {
	bin, err := exec.LookPath("varnishd")
	if err != nil {
		// Debian installs it in /usr/sbin, which a user's PATH may lack.
		if _, serr := os.Stat("/usr/sbin/varnishd"); serr != nil {
			return nil, fmt.Errorf("varnishtest: varnishd not found on PATH or in /usr/sbin; install it with scripts/test-deps.sh (apt-get install -y varnish): %w", err)
		}
		bin = "/usr/sbin/varnishd"
	}
	vcl, err := VCL(backend, o)
	if err != nil {
		return nil, err
	}
	vclPath := filepath.Join(dir, "test.vcl")
	if err := os.WriteFile(vclPath, []byte(vcl), 0o644); err != nil {
		return nil, err
	}
	ttl := o.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	var lastErr error
	for attempt := range 3 {
		ports, err := loopback.FreePorts(2)
		if err != nil {
			return nil, err
		}
		v := &Varnish{
			URL:   fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
			Admin: fmt.Sprintf("127.0.0.1:%d", ports[1]),
			Dir:   filepath.Join(dir, fmt.Sprintf("varnish%d", attempt)),
			VCL:   vcl,
		}
		if lastErr = v.run(bin, vclPath, ttl); lastErr == nil {
			return v, nil
		}
	}
	return nil, lastErr
}

func (v *Varnish) run(bin, vclPath string, ttl time.Duration) error {
	args := []string{"-F",
		"-a", strings.TrimPrefix(v.URL, "http://"),
		"-T", v.Admin,
		"-f", vclPath,
		"-s", "malloc,64m",
		"-n", v.Dir,
		"-t", strconv.Itoa(int(ttl / time.Second)),
		// No jail: as root, the default one drops to the varnish users, who
		// cannot read the test's private temporary directory; without root
		// there is no jail to drop into anyway.
		"-j", "none",
	}
	v.cmd = exec.Command(bin, args...)
	v.stderr = &syncbuf.Buffer{}
	v.cmd.Stdout, v.cmd.Stderr = v.stderr, v.stderr
	v.cmd.SysProcAttr = childproc.Attr(true)
	if err := v.cmd.Start(); err != nil {
		return fmt.Errorf("varnishtest: start varnishd: %w", err)
	}
	v.done = make(chan struct{})
	go func() { _ = v.cmd.Wait(); close(v.done) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-v.done:
			return fmt.Errorf("varnishtest: varnishd exited before it was ready:\n%s", v.stderr)
		default:
		}
		// Any answer, even 503 from a missing origin, means the child is up.
		req, _ := http.NewRequest(http.MethodHead, v.URL+"/varnishtest-ready", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.Header.Get("X-Varnish") != "" {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	v.Close()
	return fmt.Errorf("varnishtest: varnishd not ready after 30s:\n%s", v.stderr)
}

// Close stops varnishd and its child.
func (v *Varnish) Close() {
	if v.cmd == nil || v.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-v.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
		<-v.done
	}
}

// Log returns what varnishd wrote so far, for failure messages.
func (v *Varnish) Log() string { return v.stderr.String() }

// Get fetches path through the cache with the given Host header and
// returns the body and the X-Cache header ("HIT" or "MISS").
func (v *Varnish) Get(host, path string) (body, cache string, err error) {
	req, err := http.NewRequest(http.MethodGet, v.URL+path, nil)
	if err != nil {
		return "", "", err
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return b.String(), resp.Header.Get("X-Cache"), fmt.Errorf("varnishtest: GET %s (Host %s): %s", path, host, resp.Status)
	}
	return b.String(), resp.Header.Get("X-Cache"), nil
}

// HostPort returns the host:port of an http:// URL, as VCL backends want it.
func HostPort(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Host
}
