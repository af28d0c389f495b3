//go:build !offload_lambda

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/internal/redact"
)

// A command is one of offload's commands, in cli/cli's shape: the command's
// flags are bound to its options struct when it is made, run does the work,
// and all output goes to the streams it is given, so tests need no process.
// A command with subs (offload config) only dispatches.
type command struct {
	name    string
	summary string        // its line in the parent's list of commands
	usage   []string      // synopses, without "offload "
	about   string        // what it does, at the top of its help
	more    string        // sections after the flags (the top level's environment, exit codes)
	flags   []flagSection // none: it takes only --help
	subs    []*command
	parent  *command
	// run gets the arguments left after the flags. It returns nil, a
	// usagef error (exit 2 with a hint), a badInput error (exit 2), an
	// exitError (already reported), or any other error (exit 1).
	run func(ctx context.Context, s streams, args []string) error
}

// flagSection is a heading in a command's help and the flags under it.
type flagSection struct {
	title string
	fs    *flag.FlagSet
}

// streams are a command's standard input, output and error, and the
// redactor out and err write through: every secret value the command's
// configuration resolves is kept out of what it prints and logs.
type streams struct {
	in       io.Reader
	out, err io.Writer
	redact   *redact.Redactor
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseFlags reports, help prints
	return fs
}

func flags(fs *flag.FlagSet) []flagSection { return []flagSection{{"Flags", fs}} }

// noArgs is run for a command that takes no arguments after its flags.
func noArgs(run func(ctx context.Context, s streams) error) func(context.Context, streams, []string) error {
	return func(ctx context.Context, s streams, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		return run(ctx, s)
	}
}

// link sets every command's parent.
func (c *command) link() *command {
	for _, sub := range c.subs {
		sub.parent = c
		sub.link()
	}
	return c
}

// path is how the user calls c: "offload config check".
func (c *command) path() string {
	if c.parent == nil {
		return c.name
	}
	return c.parent.path() + " " + c.name
}

func (c *command) find(name string) *command {
	for _, sub := range c.subs {
		if sub.name == name {
			return sub
		}
	}
	return nil
}

func (c *command) unknown(name string) error {
	names := make([]string, len(c.subs))
	for i, sub := range c.subs {
		names[i] = sub.name
	}
	return usagef("unknown command %q for %s (its commands: %s)", name, c.path(), strings.Join(names, ", "))
}

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// execute runs c, or the subcommand args name, and returns the exit code.
func (c *command) execute(ctx context.Context, s streams, args []string) int {
	if len(c.subs) > 0 {
		switch {
		case len(args) == 0:
			c.help(s.err)
			return exitUsage
		case isHelpFlag(args[0]):
			c.help(s.out)
			return exitOK
		case strings.HasPrefix(args[0], "-"):
			return c.exit(s, usagef("unknown flag %s", args[0]))
		}
		sub := c.find(args[0])
		if sub == nil {
			return c.exit(s, c.unknown(args[0]))
		}
		return sub.execute(ctx, s, args[1:])
	}
	pos, err := parseFlags(c.flags, args)
	if errors.Is(err, flag.ErrHelp) {
		c.help(s.out)
		return exitOK
	}
	if err == nil {
		err = c.run(ctx, s, pos)
	}
	return c.exit(s, err)
}

// usageError is a mistake on the command line. It is reported with a hint
// to run --help, and the exit code is 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// inputError is a configuration or input file that cannot be used: exit 2,
// with every error in it, each on its own line.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func badInput(err error) error { return &inputError{err} }

// exitError ends a command that has already said what went wrong.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (c *command) exit(s streams, err error) int {
	var (
		ue *usageError
		ie *inputError
		ee exitError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		for line := range strings.Lines(ue.msg) {
			fmt.Fprintf(s.err, "%s: %s", c.path(), line)
		}
		fmt.Fprintf(s.err, "\nRun '%s --help'.\n", c.path())
		return exitUsage
	case errors.As(err, &ie):
		printErrors(s.err, c.path(), ie.err)
		return exitUsage
	case errors.As(err, &ee):
		return int(ee)
	default:
		fmt.Fprintf(s.err, "%s: %v\n", c.path(), err)
		return exitFailed
	}
}

// printErrors prints a configuration's errors one per line, each with its
// file and field; any other error after the command's name.
func printErrors(w io.Writer, who string, err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e)
		}
		return
	}
	fmt.Fprintf(w, "%s: %v\n", who, err)
}

// help prints c's help: what it does, its usage, its subcommands or flags.
func (c *command) help(w io.Writer) {
	about := c.about
	if about == "" {
		about = c.summary
	}
	fmt.Fprintf(w, "%s\n\nUsage:\n", strings.TrimSpace(about))
	for _, u := range c.usage {
		fmt.Fprintf(w, "  offload %s\n", u)
	}
	if len(c.subs) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, sub := range c.subs {
			fmt.Fprintf(tw, "  %s\t%s\n", sub.name, sub.summary)
		}
		tw.Flush()
	}
	for _, sec := range c.flags {
		fmt.Fprintf(w, "\n%s:\n", sec.title)
		printFlags(w, sec.fs)
	}
	if c.more != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.more))
	}
	if len(c.subs) > 0 {
		fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", c.path())
	}
}

func printFlags(w io.Writer, fs *flag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		switch f.DefValue {
		case "", "0", "false", "[]", "0s":
		default:
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, arg, usage)
	})
	tw.Flush()
}

// parseFlags parses args against the flag sets, taking flags wherever they
// appear ("purge /a --wait", as kubectl and gh do) until "--", and returns
// the other arguments. -name and --name are the same flag; errors name the
// flag as the user typed it. -h, -help and --help return flag.ErrHelp.
func parseFlags(sections []flagSection, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a) // "-" is an argument: standard input
			continue
		}
		typed, value, hasValue := strings.Cut(a, "=")
		name := strings.TrimPrefix(typed[1:], "-")
		if name == "" || name[0] == '-' {
			return nil, usagef("bad flag syntax: %s", a)
		}
		fs, f := lookupFlag(sections, name)
		if f == nil {
			if name == "h" || name == "help" {
				return nil, flag.ErrHelp
			}
			return nil, usagef("unknown flag %s", typed)
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, usagef("%s needs a value", typed)
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, usagef("invalid value %q for %s: %s", value, typed, valueWant(f, err))
		}
	}
	return pos, nil
}

func lookupFlag(sections []flagSection, name string) (*flag.FlagSet, *flag.Flag) {
	for _, sec := range sections {
		if f := sec.fs.Lookup(name); f != nil {
			return sec.fs, f
		}
	}
	return nil, nil
}

// valueWant says what a flag takes; the flag package's own errors for its
// types say only "parse error".
func valueWant(f *flag.Flag, err error) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case time.Duration:
			return "want a duration such as 30s or 5m"
		case int, int64, uint, uint64:
			return "want a whole number"
		case float64:
			return "want a number"
		case bool:
			return "want true or false"
		}
	}
	return err.Error()
}
