package main

import (
	"context"
	"fmt"
	"io"
)

// runApply: offload apply [--config F] --events F|-
func runApply(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var common commonFlags
	var events string
	fs := newFlagSet("apply", stderr, "apply [--config F] --events F|-")
	common.register(fs)
	fs.StringVar(&events, "events", "", "events to process: a file, or - for standard input")
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
	logger := common.logger(stderr)
	if cfg.IsDefault() {
		logger.Warn("no configuration: using the embedded defaults; purges are logged, not sent (a dry run)", "state", cfg.State.Path)
	}
	d := newDeps(cfg, logger)
	defer d.close()
	p, err := d.pipeline(ctx, false)
	if err != nil {
		return configError(stderr, err)
	}
	res, err := p.Apply(ctx, changes)
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
