package main

import (
	"context"
	"fmt"
	"io"
)

// runPlan: offload plan [--config F] --events F|-
func runPlan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var common commonFlags
	var events string
	fs := newFlagSet("plan", stderr, "plan [--config F] --events F|-")
	common.register(fs)
	fs.StringVar(&events, "events", "", "events to plan: a file, or - for standard input")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return configError(stderr, err)
	}
	changes, err := readEvents(events, stdin)
	if err != nil {
		return configError(stderr, err)
	}
	d := newDeps(cfg, common.logger(stderr))
	defer d.close()
	p, err := d.pipeline(ctx, true)
	if err != nil {
		return configError(stderr, err)
	}
	pl, err := p.MakePlan(ctx, changes)
	if err != nil {
		fmt.Fprintln(stderr, "offload:", err)
		return exitFailed
	}
	if err := writeJSON(stdout, pl); err != nil {
		return exitFailed
	}
	return exitOK
}
