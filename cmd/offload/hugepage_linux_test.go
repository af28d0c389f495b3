//go:build !offload_lambda

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestHugeHeap checks, in a fresh process whose heap nothing else has
// touched, that what the heap allocates after hugeHeap lies in memory the
// kernel was asked to back with huge pages (the "hg" flag of smaps), and
// that without hugeHeap it does not.
func TestHugeHeap(t *testing.T) {
	for _, huge := range []bool{true, false} {
		t.Run(fmt.Sprintf("huge=%v", huge), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHugeHeapChild$", "-test.v")
			cmd.Env = append(os.Environ(), "OFFLOAD_TEST_HUGE_HEAP="+strconv.FormatBool(huge))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var got string
			for line := range strings.Lines(string(out)) {
				if v, ok := strings.CutPrefix(line, "advised: "); ok {
					got = strings.TrimSpace(v)
				}
			}
			if want := fmt.Sprintf("%d/%d", map[bool]int{true: 8, false: 0}[huge], 8); got != want {
				t.Fatalf("allocations in huge-page memory: got %q, want %s\n%s", got, want, out)
			}
		})
	}
}

// TestHugeHeapChild is TestHugeHeap's process.
func TestHugeHeapChild(t *testing.T) {
	v := os.Getenv("OFFLOAD_TEST_HUGE_HEAP")
	if v == "" {
		t.Skip("run by TestHugeHeap")
	}
	if v == "true" {
		hugeHeap(64 << 20)
	}
	var keep [][]byte
	advised := 0
	for range 8 {
		b := make([]byte, 1<<20)
		b[0] = 1
		keep = append(keep, b)
		ok, err := hugeAdvised(uintptr(unsafe.Pointer(&b[0])))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			advised++
		}
	}
	fmt.Printf("advised: %d/%d\n", advised, len(keep))
}

// hugeAdvised reports whether the mapping holding addr has the "hg" flag
// (MADV_HUGEPAGE) in /proc/self/smaps.
func hugeAdvised(addr uintptr) (bool, error) {
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return false, err
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			lo, hi, _ := strings.Cut(f[0], "-")
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= l && uint64(addr) < h
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.Contains(" "+line[len("VmFlags:"):]+" ", " hg "), nil
		}
	}
	return false, fmt.Errorf("no mapping holds %#x", addr)
}
