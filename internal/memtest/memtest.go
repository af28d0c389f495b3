// Package memtest measures how much memory streaming a large object takes:
// a deterministic reader of any size that holds only a small block, the
// process's peak resident memory (VmHWM), and a helper that runs one test in
// a fresh child process so the peak belongs to that test alone.
package memtest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MiB and GiB are byte counts.
const (
	MiB = 1 << 20
	GiB = 1 << 30
)

const blockSize = 1 << 20

// Reader returns size deterministic bytes: a 1 MiB pseudo-random block,
// repeated, with each repetition's index stamped in its first 8 bytes so no
// two blocks are equal. It holds one block in memory.
func Reader(size int64) io.Reader {
	block := make([]byte, blockSize)
	x := uint64(0x9E3779B97F4A7C15)
	for i := 0; i < blockSize; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(block[i:], x)
	}
	return &reader{block: block, size: size}
}

type reader struct {
	block []byte
	off   int64
	size  int64
	stamp [8]byte
}

func (r *reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if rem := r.size - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := 0
	for n < len(p) {
		pos := int((r.off + int64(n)) % blockSize)
		if pos == 0 || n == 0 {
			binary.LittleEndian.PutUint64(r.stamp[:], uint64((r.off+int64(n))/blockSize))
		}
		var c int
		if pos < 8 {
			c = copy(p[n:], r.stamp[pos:])
		} else {
			c = copy(p[n:], r.block[pos:])
		}
		n += c
	}
	r.off += int64(n)
	return n, nil
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes.
func PeakRSS() (int64, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(v)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// childEnv marks the child process.
const childEnv = "OFFLOAD_MEMTEST_CHILD"

// InChild reports whether this process is the child RunChild started.
func InChild() bool { return os.Getenv(childEnv) != "" }

// Report is what the child prints and the parent reads.
type Report struct {
	Bytes   int64
	PeakRSS int64
	Elapsed time.Duration
}

// MiBps is the throughput.
func (r Report) MiBps() float64 { return float64(r.Bytes) / MiB / r.Elapsed.Seconds() }

func (r Report) String() string {
	return fmt.Sprintf("%d MiB in %v (%.0f MiB/s), peak RSS %.1f MiB", r.Bytes/MiB, r.Elapsed.Round(time.Millisecond), r.MiBps(), float64(r.PeakRSS)/MiB)
}

// Print writes the child's report where RunChild finds it.
func Print(r Report) {
	fmt.Printf("MEMTEST bytes=%d peak=%d elapsed=%d\n", r.Bytes, r.PeakRSS, r.Elapsed)
}

// RunChild runs the test named test of the current test binary in a child
// process (with env added) and returns the report it printed.
func RunChild(t *testing.T, test string, env ...string) Report {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", test, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "MEMTEST "); ok {
			var r Report
			var el int64
			if _, err := fmt.Sscanf(rest, "bytes=%d peak=%d elapsed=%d", &r.Bytes, &r.PeakRSS, &el); err != nil {
				t.Fatalf("child report %q: %v", rest, err)
			}
			r.Elapsed = time.Duration(el)
			return r
		}
	}
	t.Fatalf("child %s printed no report:\n%s", test, out)
	return Report{}
}

// Flat runs test in a child process twice, streaming small and then big
// bytes (the child reads the count with Size), and checks that the peak
// resident memory of the big run stays under bound and grows by less than
// growth over the small run: memory that does not depend on the object's
// size. It returns the big run's report.
func Flat(t *testing.T, test string, small, big, bound, growth int64, env ...string) Report {
	t.Helper()
	s := RunChild(t, test, append(env, fmt.Sprintf("%s=%d", sizeEnv, small))...)
	b := RunChild(t, test, append(env, fmt.Sprintf("%s=%d", sizeEnv, big))...)
	t.Logf("race=%v: %v; %v", Race, s, b)
	if s.Bytes != small || b.Bytes != big {
		t.Errorf("streamed: got %d and %d bytes, want %d and %d", s.Bytes, b.Bytes, small, big)
	}
	if b.PeakRSS > bound {
		t.Errorf("peak RSS streaming %d MiB: got %.1f MiB, want at most %d MiB", big/MiB, float64(b.PeakRSS)/MiB, bound/MiB)
	}
	if d := b.PeakRSS - s.PeakRSS; d > growth {
		t.Errorf("peak RSS grew by %.1f MiB from %d MiB to %d MiB objects, want less than %d MiB",
			float64(d)/MiB, small/MiB, big/MiB, growth/MiB)
	}
	return b
}

const sizeEnv = "OFFLOAD_MEMTEST_BYTES"

// Size is the byte count the parent asked the child to stream.
func Size(t *testing.T) int64 {
	t.Helper()
	n, err := strconv.ParseInt(os.Getenv(sizeEnv), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", sizeEnv, err)
	}
	return n
}

// EnvSize reads a byte count from the environment variable name, or
// returns def when it is unset.
func EnvSize(t *testing.T, name string, def int64) int64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}
