//go:build !offload_lambda

package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
)

// eventsOptions are the flags plan and apply share.
type eventsOptions struct {
	common commonFlags
	events string
	pretty bool
}

func (o *eventsOptions) flagSet(verb string) *flag.FlagSet {
	fs := newFlagSet()
	o.common.register(fs)
	fs.StringVar(&o.events, "events", "", "the `file` of events to "+verb+", or - for standard input: one payload (any envelope), a JSON array of them, or one per line (required)")
	fs.BoolVar(&o.pretty, "pretty", false, "indent the JSON printed (default compact, one line)")
	return fs
}

// eventsRun is what plan and apply work with: the events, decoded into a
// plan.Builder, and the pipeline built for them. The caller closes deps.
type eventsRun struct {
	changes plan.Builder
	deps    *deps
	p       *pipeline.Pipeline
	logger  *slog.Logger
}

// setup reads the configuration and the events and builds the pipeline.
func (o *eventsOptions) setup(ctx context.Context, s streams, readOnly bool) (*eventsRun, error) {
	if o.events == "" {
		return nil, usagef("--events is required: a file, or - for standard input")
	}
	cfg, err := loadConfig(o.common.config)
	if err != nil {
		return nil, badInput(err)
	}
	r := &eventsRun{logger: o.common.logger(s.err)}
	if err := readEvents(o.events, s.in, &r.changes); err != nil {
		return nil, badInput(err)
	}
	if cfg.IsDefault() && !readOnly {
		r.logger.Warn("no configuration: using the embedded defaults; purges are logged, not sent (a dry run)", "state", cfg.State.Path)
	}
	if r.deps, err = newDeps(cfg, r.logger, s.redact); err != nil {
		return nil, badInput(err)
	}
	if r.p, err = r.deps.pipeline(ctx, readOnly); err != nil {
		r.deps.close()
		return nil, badInput(err)
	}
	return r, nil
}

func newPlanCmd() *command {
	o := &eventsOptions{}
	return &command{
		name:    "plan",
		summary: "decode and plan events; print the plan as JSON; change nothing",
		usage:   []string{"plan [--config F] --events F|- [--pretty]"},
		about: `Decode events and plan them against the ledger: print every change with its
decision and reason, and the mirrors and purges it would make, as JSON. Nothing
is changed: no purge is sent, the ledger is not written, and no state file is
made. The events are read as they come, and the plan is written as it is made,
compact unless --pretty.`,
		flags: flags(o.flagSet("plan")),
		run: noArgs(func(ctx context.Context, s streams) error {
			return runPlan(ctx, o, s)
		}),
	}
}

// eventsGC sets the collector for plan and apply, unless GOGC is set: it
// collects when the heap has grown by half, not doubled. What they hold is
// the events in a few pointer-free bytes each (plan.Builder), so a
// collection costs little, while the heap a doubling lets grow is much of
// their peak memory, and its fresh pages cost more than the collections.
// 100,000 events, alternating runs: 57.0 MiB peak at 100%, 50.9 at 50%,
// 50.0 at 25%, with 4% more CPU at 25% than at 50%. It returns the undo.
func eventsGC() (undo func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(50)
	return func() { debug.SetGCPercent(old) }
}

func runPlan(ctx context.Context, o *eventsOptions, s streams) error {
	defer eventsGC()()
	r, err := o.setup(ctx, s, true)
	if err != nil {
		return err
	}
	defer r.deps.close()
	return r.p.WritePlanFrom(ctx, &r.changes, s.out, o.pretty)
}
