package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/pipeline"
)

// eventsCommand is what plan and apply share: the flags, the configuration,
// the events, and the pipeline built for them.
type eventsCommand struct {
	changes []event.Change
	deps    *deps
	p       *pipeline.Pipeline
	logger  *slog.Logger
}

// setup parses the flags and builds the pipeline; a non-zero code means
// the command is over. The caller closes c.deps.
func (c *eventsCommand) setup(ctx context.Context, name, verb string, args []string, stdin io.Reader, stderr io.Writer, readOnly bool) int {
	var common commonFlags
	var events string
	fs := newFlagSet(name, stderr, name+" [--config F] --events F|-")
	common.register(fs)
	fs.StringVar(&events, "events", "", "events to "+verb+": a file, or - for standard input")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return configError(stderr, err)
	}
	if c.changes, err = readEvents(events, stdin); err != nil {
		return configError(stderr, err)
	}
	c.logger = common.logger(stderr)
	if cfg.IsDefault() && !readOnly {
		c.logger.Warn("no configuration: using the embedded defaults; purges are logged, not sent (a dry run)", "state", cfg.State.Path)
	}
	if c.deps, err = newDeps(cfg, c.logger); err != nil {
		return configError(stderr, err)
	}
	if c.p, err = c.deps.pipeline(ctx, readOnly); err != nil {
		c.deps.close()
		return configError(stderr, err)
	}
	return exitOK
}

// runPlan: offload plan [--config F] --events F|-
func runPlan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c eventsCommand
	if code := c.setup(ctx, "plan", "plan", args, stdin, stderr, true); code != exitOK {
		return code
	}
	defer c.deps.close()
	pl, err := c.p.MakePlan(ctx, c.changes)
	if err != nil {
		fmt.Fprintln(stderr, "offload:", err)
		return exitFailed
	}
	if err := writeJSON(stdout, pl); err != nil {
		return exitFailed
	}
	return exitOK
}
