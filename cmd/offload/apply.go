package main

import (
	"context"
	"fmt"
)

func newApplyCmd() *command {
	o := &eventsOptions{}
	return &command{
		name:    "apply",
		summary: "process events now, as the Lambda does; print the result as JSON",
		usage:   []string{"apply [--config F] --events F|-"},
		about: `Process events now, as the Lambda function does: plan them, mirror, purge, and
record what was done in the ledger. Print the result as JSON; exit 1 if a change
failed.`,
		flags: flags(o.flagSet("process")),
		run: noArgs(func(ctx context.Context, s streams) error {
			return runApply(ctx, o, s)
		}),
	}
}

func runApply(ctx context.Context, o *eventsOptions, s streams) error {
	r, err := o.setup(ctx, s, false)
	if err != nil {
		return err
	}
	defer r.deps.close()
	res, err := r.p.Apply(ctx, r.changes)
	if err != nil {
		return err
	}
	if err := writeJSON(s.out, res); err != nil {
		return err
	}
	if n := res.Failed(); n > 0 {
		return fmt.Errorf("%d of %d changes failed", n, len(res.Changes))
	}
	return nil
}
