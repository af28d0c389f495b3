package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/pipeline"
)

// eventsOptions are the flags plan and apply share.
type eventsOptions struct {
	common commonFlags
	events string
}

func (o *eventsOptions) flagSet(verb string) *flag.FlagSet {
	fs := newFlagSet()
	o.common.register(fs)
	fs.StringVar(&o.events, "events", "", "the `file` of events to "+verb+", or - for standard input: one payload (any envelope), a JSON array of them, or one per line (required)")
	return fs
}

// eventsRun is what plan and apply work with: the events, and the pipeline
// built for them. The caller closes deps.
type eventsRun struct {
	changes []event.Change
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
	if r.changes, err = readEvents(o.events, s.in); err != nil {
		return nil, badInput(err)
	}
	if cfg.IsDefault() && !readOnly {
		r.logger.Warn("no configuration: using the embedded defaults; purges are logged, not sent (a dry run)", "state", cfg.State.Path)
	}
	r.deps = newDeps(cfg, r.logger, s.redact)
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
		usage:   []string{"plan [--config F] --events F|-"},
		about: `Decode events and plan them against the ledger: print every change with its
decision and reason, and the mirrors and purges it would make, as JSON. Nothing
is changed: no purge is sent, the ledger is not written, and no state file is
made.`,
		flags: flags(o.flagSet("plan")),
		run: noArgs(func(ctx context.Context, s streams) error {
			return runPlan(ctx, o, s)
		}),
	}
}

func runPlan(ctx context.Context, o *eventsOptions, s streams) error {
	r, err := o.setup(ctx, s, true)
	if err != nil {
		return err
	}
	defer r.deps.close()
	pl, err := r.p.MakePlan(ctx, r.changes)
	if err != nil {
		return err
	}
	return writeJSON(s.out, pl)
}
