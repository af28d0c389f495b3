package main

import (
	"context"
	"fmt"
	"io"
)

// runApply: offload apply [--config F] --events F|-
func runApply(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c eventsCommand
	if code := c.setup(ctx, "apply", "process", args, stdin, stderr, false); code != exitOK {
		return code
	}
	defer c.deps.close()
	res, err := c.p.Apply(ctx, c.changes)
	if err != nil {
		fmt.Fprintln(stderr, "offload:", err)
		return exitFailed
	}
	if err := writeJSON(stdout, res); err != nil {
		return exitFailed
	}
	if n := res.Failed(); n > 0 {
		fmt.Fprintf(stderr, "offload: %d of %d changes failed\n", n, len(res.Changes))
		return exitFailed
	}
	return exitOK
}
