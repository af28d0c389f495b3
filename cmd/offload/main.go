//go:build !offload_lambda

// Command offload keeps CDN edges in step with object storage. It runs as a
// server (offload serve), as one-shot commands (plan, apply, purge,
// backfill, config), and, when AWS_LAMBDA_RUNTIME_API is set, as the Lambda
// function's bootstrap. Run offload --help for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/offload-dev/offload/internal/redact"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // some work failed
	exitUsage  = 2 // bad usage or configuration
)

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		runLambda()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code. What it
// prints and logs goes through a redactor that every secret value it
// resolves is told.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	red := redact.New()
	return newRootCmd().execute(ctx, streams{stdin, red.Writer(stdout), red.Writer(stderr), red}, args)
}

func newRootCmd() *command {
	root := &command{
		name:  "offload",
		about: "offload keeps CDN edges in step with object storage: S3 change events in, mirrors\nand CDN purges out.",
		usage: []string{"<command> [flags] [arguments]"},
		more:  rootHelp,
		subs: []*command{
			newServeCmd(),
			newPlanCmd(),
			newApplyCmd(),
			newPurgeCmd(),
			newBackfillCmd(),
			newLedgerCmd(),
			newConfigCmd(),
			newVersionCmd(),
		},
	}
	root.subs = append(root.subs, newHelpCmd(root))
	return root.link()
}

func newVersionCmd() *command {
	return &command{
		name:    "version",
		summary: "print the version",
		usage:   []string{"version"},
		about:   "Print offload's version, the commit it was built from, and the Go version.",
		run: noArgs(func(_ context.Context, s streams) error {
			_, err := fmt.Fprintln(s.out, versionLine())
			return err
		}),
	}
}

func newHelpCmd(root *command) *command {
	return &command{
		name:    "help",
		summary: "print the help of offload or of a command",
		usage:   []string{"help [command [subcommand]]"},
		about:   "Print the help of offload, or of a command: the same as offload [command] --help.",
		run: func(_ context.Context, s streams, args []string) error {
			c := root
			for _, a := range args {
				sub := c.find(a)
				if sub == nil {
					return c.unknown(a)
				}
				c = sub
			}
			c.help(s.out)
			return nil
		},
	}
}

// rootHelp ends offload --help. TestRootHelpNamesEveryVariable keeps its
// list of environment variables true to the code.
const rootHelp = `
Configuration:
  ` + configLookup + `
  'offload config example' prints a complete, annotated file;
  'offload config check' validates one.

Environment:
  OFFLOAD_CONFIG            the configuration file when --config is not given
  OFFLOAD_S3_PATH_STYLE     true: address S3 buckets path-style, as MinIO and moto want
  OFFLOAD_CACHE_MAX_AGE     how long secrets (and a Lambda's configuration) are cached:
                            seconds or a duration (default 60s); also read:
                            POWERTOOLS_PARAMETERS_MAX_AGE
  AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...
                            the AWS SDK's own settings, for S3, CloudFront,
                            DynamoDB, SSM and Secrets Manager (region default us-east-1)
  AKAMAI_HOST, AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET, AKAMAI_ACCESS_TOKEN
                            an Akamai credential instead of .edgerc
                            (AKAMAI_<SECTION>_HOST, ... for another section)
  env:NAME in a configuration reads the variable NAME.

  As a Lambda function:
  AWS_LAMBDA_RUNTIME_API    set by Lambda: run as the function's bootstrap, not a command
  OFFLOAD_CONFIG_SSM        an SSM parameter holding the configuration
  OFFLOAD_CONFIG            else a configuration file; else offload.yaml beside the
                            bootstrap; else the embedded defaults, with the state from:
  OFFLOAD_STATE_DRIVER      bolt (default), dynamodb or memory
  OFFLOAD_STATE_TABLE       the DynamoDB table (default offload)
  OFFLOAD_STATE_PATH        the bolt file (default offload.db in the temporary directory)
  AWS_LAMBDA_LOG_LEVEL      DEBUG, INFO (default), WARN or ERROR

Exit status:
  0  ok
  1  some work failed (a purge, a mirror, a change)
  2  bad usage or configuration`
