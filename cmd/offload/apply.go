//go:build !offload_lambda

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
		usage:   []string{"apply [--config F] --events F|- [--pretty]"},
		about: `Process events now, as the Lambda function does: plan them, mirror, purge, and
record what was done in the ledger. Print the result as JSON, compact unless
--pretty; exit 1 if a change failed.`,
		flags: flags(o.flagSet("process")),
		run: noArgs(func(ctx context.Context, s streams) error {
			return runApply(ctx, o, s)
		}),
	}
}

func runApply(ctx context.Context, o *eventsOptions, s streams) error {
	defer eventsGC()()
	r, err := o.setup(ctx, s, false)
	if err != nil {
		return err
	}
	defer r.deps.close()
	n := r.changes.Len()
	failed, err := r.p.ApplyFrom(ctx, &r.changes, s.out, o.pretty)
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d changes failed", failed, n)
	}
	return nil
}
