//go:build !offload_lambda

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/bolt"
)

func newLedgerCmd() *command {
	return &command{
		name:    "ledger",
		summary: "show or reset what the ledger holds for one object",
		usage:   []string{"ledger <command> [flags] KEY"},
		about: `Show or reset what the ledger holds for one object: the record of the last
change applied to it, and the receipt of a change that failed after it was
purged at some of its targets. The ledger is the configuration's state (a bolt
file, or a DynamoDB table). A bolt file is locked while offload serve runs: use
its API then, GET or DELETE /v1/ledger?bucket=B&key=K.`,
		subs: []*command{newLedgerShowCmd(), newLedgerResetCmd()},
	}
}

// ledgerOptions are the flags offload ledger show and reset share.
type ledgerOptions struct {
	common commonFlags
	site   string
	bucket string
}

func (o *ledgerOptions) flagSet() *flag.FlagSet {
	fs := newFlagSet()
	o.common.register(fs)
	fs.StringVar(&o.site, "site", "", "the `name` of the site whose bucket holds the object")
	fs.StringVar(&o.bucket, "bucket", "", "the `bucket` that holds the object (instead of --site)")
	return fs
}

func newLedgerShowCmd() *command {
	o := &ledgerOptions{}
	return &command{
		name:    "show",
		summary: "print the ledger's record and receipt of one object as JSON",
		usage:   []string{"ledger show [--config F] --site NAME|--bucket B KEY"},
		about: `Print what the ledger holds for the object KEY (its key in the bucket, with
the site's prefix) as JSON. Exit 1 if it holds nothing for it.`,
		flags: flags(o.flagSet()),
		run: func(ctx context.Context, s streams, args []string) error {
			return runLedger(ctx, o, s, args, false)
		},
	}
}

func newLedgerResetCmd() *command {
	o := &ledgerOptions{}
	return &command{
		name:    "reset",
		summary: "forget the ledger's record and receipt of one object",
		usage:   []string{"ledger reset [--config F] --site NAME|--bucket B KEY"},
		about: `Remove what the ledger holds for the object KEY (its key in the bucket, with
the site's prefix), so that the next change to it is planned as for an object
never seen, and print what it held as JSON. For a record that must not stand:
a crafted event's sequencer, larger than any real one, makes every later change
to the key stale. Exit 1 if it held nothing for it.`,
		flags: flags(o.flagSet()),
		run: func(ctx context.Context, s streams, args []string) error {
			return runLedger(ctx, o, s, args, true)
		},
	}
}

func runLedger(ctx context.Context, o *ledgerOptions, s streams, args []string, reset bool) error {
	switch {
	case len(args) == 0:
		return usagef("the object's KEY is required")
	case len(args) > 1:
		return usagef("unexpected argument %q: one KEY at a time (quote a key with spaces)", args[1])
	case o.site == "" && o.bucket == "":
		return usagef("--site or --bucket is required")
	case o.site != "" && o.bucket != "":
		return usagef("--site and --bucket: want one of them")
	}
	cfg, err := loadConfig(o.common.config)
	if err != nil {
		return badInput(err)
	}
	bucket := o.bucket
	if o.site != "" {
		var names []string
		for _, st := range cfg.Sites {
			names = append(names, st.Name)
			if st.Name == o.site {
				bucket = st.Bucket
			}
		}
		switch bucket {
		case "":
			return badInput(fmt.Errorf("no site %q in %s (sites: %s)", o.site, configName(cfg), strings.Join(names, ", ")))
		case "*":
			return badInput(fmt.Errorf("site %q serves every bucket; name one with --bucket", o.site))
		}
	}
	key := args[0]
	if err := ledger.CheckKey(bucket, key); err != nil {
		return badInput(err)
	}
	d, err := newDeps(cfg, o.common.logger(s.err), s.redact)
	if err != nil {
		return err
	}
	defer d.close()
	// As offload plan does: a bolt file that is not there is not made.
	l, err := d.ledger(ctx, true)
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w; while offload serve runs, use its API: GET or DELETE /v1/ledger?bucket=B&key=K", err)
	}
	if err != nil {
		return badInput(err)
	}
	e, err := ledger.Lookup(ctx, l, bucket, key)
	if errors.Is(err, ledger.ErrNotFound) {
		return fmt.Errorf("the ledger (%s) holds nothing for %s/%s", stateName(cfg), bucket, key)
	}
	if err != nil {
		return err
	}
	if reset {
		if err := l.Delete(ctx, bucket, key); err != nil {
			return err
		}
	}
	return writeJSON(s.out, e)
}

// stateName names where the ledger is, for messages.
func stateName(cfg *config.Config) string {
	switch st := cfg.State; st.Driver {
	case "dynamodb":
		return "DynamoDB table " + st.Table
	case "memory":
		return "in memory"
	default:
		return st.Path
	}
}
