package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func newVersionCmd() *command {
	return &command{
		name:    "version",
		summary: "print the version",
		usage:   []string{"version"},
		about:   "Print offload's version, the commit it was built from, and the Go version.",
		run:     noArgs(runVersion),
	}
}

func runVersion(_ context.Context, s streams) error {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" {
				commit = st.Value
			}
		}
	}
	_, err := fmt.Fprintf(s.out, "offload %s (commit %s, %s)\n", version, commit, runtime.Version())
	return err
}
