package gobin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/offload-dev/offload/internal/gobin"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "offload-gobin-probe")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // not on PATH
	t.Setenv("GOBIN", dir)
	if got, ok := gobin.Find("offload-gobin-probe"); !ok || got != prog {
		t.Errorf("Find in $GOBIN: got %q, %v; want %q, true", got, ok, prog)
	}
	if got, ok := gobin.Find("offload-gobin-absent"); ok {
		t.Errorf("Find of a missing program: got %q, true; want false", got)
	}
}
