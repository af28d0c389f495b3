//go:build !offload_lambda

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/offload-dev/offload/config"
)

func newConfigCmd() *command {
	return &command{
		name:    "config",
		summary: "check the configuration, or print a complete example",
		usage:   []string{"config <command> [flags]"},
		about: `Check a configuration file, or print a complete, annotated example of one.
The configuration is found as every command finds it:
  ` + configLookup,
		subs: []*command{newConfigCheckCmd(), newConfigExampleCmd()},
	}
}

// configCheckOptions are offload config check's flags.
type configCheckOptions struct {
	config string
}

func newConfigCheckCmd() *command {
	o := &configCheckOptions{}
	fs := newFlagSet()
	fs.StringVar(&o.config, "config", "", configUsage)
	return &command{
		name:    "check",
		summary: "validate the configuration and summarize its sites, targets and mirrors",
		usage:   []string{"config check [--config F]"},
		about: `Read and validate the configuration, and print its sites, targets and mirrors.
On a mistake, print every error, one a line with its file, line and field, and
exit 2. Secrets are not read and no provider is called.`,
		flags: flags(fs),
		run: noArgs(func(_ context.Context, s streams) error {
			return runConfigCheck(o, s)
		}),
	}
}

func runConfigCheck(o *configCheckOptions, s streams) error {
	cfg, err := loadConfig(o.config)
	if err != nil {
		return badInput(err)
	}
	return summarize(s.out, cfg)
}

// summarize prints what a configuration holds, for a person to check.
func summarize(w io.Writer, cfg *config.Config) error {
	fmt.Fprintf(w, "%s: valid; %s, %s, %s\n", configName(cfg),
		count(len(cfg.Sites), "site"), count(len(cfg.Targets), "target"), count(len(cfg.Mirrors), "mirror"))
	state := cfg.State.Driver + " " + cfg.State.Path
	if cfg.State.Driver == "dynamodb" {
		state = "dynamodb table " + cfg.State.Table
	}
	fmt.Fprintf(w, "listen %s; state %s; batch window %s; %s, %s\n", cfg.Listen, state, cfg.Batch.Window.Duration,
		count(len(cfg.Auth.Tokens), "token"), count(len(cfg.Auth.ScopedTokens), "scoped token"))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSITE\tBUCKET\tPREFIX\tTARGETS\tMIRRORS")
	for _, st := range cfg.Sites {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Name, st.Bucket, orDash(st.Prefix), list(st.Targets), list(st.Mirrors))
	}
	fmt.Fprintln(tw, "\nTARGET\tPROVIDER\tPURGES")
	for _, t := range cfg.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Provider, purges(t))
	}
	if len(cfg.Mirrors) > 0 {
		fmt.Fprintln(tw, "\nMIRROR\tPROVIDER\tCOPIES TO")
		for _, m := range cfg.Mirrors {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Name, m.Provider, copiesTo(m))
		}
	}
	return tw.Flush()
}

// purges says what a target purges, and where.
func purges(t config.Target) string {
	urls := "URLs under " + t.BaseURL
	switch t.Provider {
	case "cloudfront":
		return "paths of distribution " + t.DistributionID
	case "akamai":
		return fmt.Sprintf("%s on %s (%s; .edgerc section %s)", urls, t.Network, t.Action, t.Section)
	case "fastly":
		if t.Soft {
			return fmt.Sprintf("%s in service %s (soft)", urls, t.ServiceID)
		}
		return fmt.Sprintf("%s in service %s", urls, t.ServiceID)
	case "cloudflare":
		return fmt.Sprintf("%s in zone %s", urls, t.ZoneID)
	case "varnish":
		host := t.Host
		if host == "" {
			host = "from " + t.BaseURL
		}
		return fmt.Sprintf("%s to %s, Host %s", t.Method, strings.Join(t.Endpoints, ", "), host)
	case "log":
		return "nothing: logs the " + urls + " it would purge (a dry run)"
	}
	return "-"
}

// copiesTo says where a mirror copies objects.
func copiesTo(m config.Mirror) string {
	switch m.Provider {
	case "netstorage":
		return fmt.Sprintf("NetStorage %s, CP code %s, %s", m.Host, m.CPCode, orDash(m.Dir))
	case "s3":
		to := "s3://" + m.Bucket + "/" + m.Prefix
		if m.Region != "" {
			to += " in " + m.Region
		}
		if m.APIURL != "" {
			to += " at " + m.APIURL
		}
		return to
	}
	return "-"
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func list(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}

func newConfigExampleCmd() *command {
	return &command{
		name:    "example",
		summary: "print a complete, annotated configuration",
		usage:   []string{"config example"},
		about: `Print a complete configuration that uses every field, each with a comment that
says what it does and its default. Save it, keep what you need, and check it:
  offload config example > offload.yaml
  offload config check --config offload.yaml`,
		run: noArgs(func(_ context.Context, s streams) error {
			_, err := s.out.Write(config.ExampleYAML())
			return err
		}),
	}
}
