//go:build !offload_lambda

package main

import (
	"os"
	"strings"
	"testing"
)

// TestLargeInput checks which inputs plan and apply prepare a huge-page
// heap for: a file of hugeInputBytes or more and a pipe, not a smaller
// file or a reader that is not a file.
func TestLargeInput(t *testing.T) {
	dir := t.TempDir()
	file := func(size int64) *os.File {
		f, err := os.CreateTemp(dir, "events")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return f
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	for _, c := range []struct {
		name  string
		r     any
		size  int64
		large bool
	}{
		{"small file", file(hugeInputBytes - 1), hugeInputBytes - 1, false},
		{"large file", file(hugeInputBytes), hugeInputBytes, true},
		{"pipe", pr, -1, true},
		{"reader", strings.NewReader("{}"), 0, false},
	} {
		r := c.r.(interface{ Read([]byte) (int, error) })
		size, large := largeInput(r)
		if size != c.size || large != c.large {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", c.name, size, large, c.size, c.large)
		}
	}
	for _, c := range []struct{ size, want int64 }{
		{-1, 64 << 20}, {hugeInputBytes, 64 << 20}, {100 << 20, 150 << 20}, {2 << 30, 1 << 30},
	} {
		if got := heapFor(c.size); int64(got) != c.want {
			t.Errorf("heapFor(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}
