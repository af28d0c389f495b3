//go:build !offload_lambda

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// purgeOptions are offload purge's flags.
type purgeOptions struct {
	common   commonFlags
	target   string
	provider string
	adhoc    *flag.FlagSet // the provider flags: each sets a target field (providerFlagField)
	tags     stringList
	cpcodes  stringList
	all      bool
	wait     bool
	timeout  time.Duration
	poll     time.Duration
	items    []string
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
func (s *stringList) Get() any           { return []string(*s) }

func newPurgeCmd() *command {
	o := &purgeOptions{adhoc: providerFlags()}
	fs := newFlagSet()
	o.common.register(fs)
	fs.StringVar(&o.target, "target", "", "the `name` of a target of the configuration")
	fs.StringVar(&o.provider, "provider", "", "purge without a configuration, through `P`: cloudfront, akamai, fastly, cloudflare, varnish or log, with the provider flags below")
	fs.Var(&o.tags, "tag", "a cache `tag` or surrogate key to purge (repeatable)")
	fs.Var(&o.cpcodes, "cpcode", "an Akamai CP `code` to purge (repeatable)")
	fs.BoolVar(&o.all, "everything", false, "purge everything the target caches")
	fs.BoolVar(&o.wait, "wait", false, "follow the purge to completion, with progress")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long --wait waits")
	fs.DurationVar(&o.poll, "poll", 10*time.Second, "how often --wait asks")
	return &command{
		name:    "purge",
		summary: "purge paths or URLs through a target",
		usage: []string{
			"purge [--config F] --target NAME [--wait] PATH|URL...",
			"purge --provider P [provider flags] [--wait] PATH|URL...",
		},
		about: `Purge paths (/docs/, /a b.html) or URLs through a target of the configuration,
or ad hoc through a provider given by its flags. Paths are URL-encoded unless
they already are, and joined with the target's base URL. Print the provider's
answer as JSON; exit 1 if the provider refused or failed.`,
		flags: []flagSection{
			{"Flags", fs},
			{"Provider flags (with --provider; each is the target field of the same name)", o.adhoc},
		},
		run: func(ctx context.Context, s streams, args []string) error {
			o.items = args
			if err := o.check(); err != nil {
				return err
			}
			return o.run(ctx, s)
		},
	}
}

// providerFlags are purge's flags for --provider. Each sets the target
// field of its name in the configuration (--base-url sets base_url); see
// providerFlagField.
func providerFlags() *flag.FlagSet {
	fs := newFlagSet()
	fs.String("base-url", "", "the site's `URL`, joined with paths (akamai, fastly, cloudflare, varnish)")
	fs.String("api-url", "", "the provider's API `URL` (tests, proxies)")
	fs.String("distribution-id", "", "cloudfront: the distribution `id`")
	fs.String("edgerc", "", "akamai: the .edgerc `file` (default ~/.edgerc; AKAMAI_* variables work too)")
	fs.String("section", "", "akamai: the .edgerc `section` (default default)")
	fs.String("network", "", "akamai: production (default) or staging")
	fs.String("action", "", "akamai: invalidate (default) or delete")
	fs.String("service-id", "", "fastly: the service `id`")
	fs.Bool("soft", false, "fastly: soft purge (mark stale)")
	fs.String("zone-id", "", "cloudflare: the zone `id`")
	fs.Int("urls-per-request", 0, "cloudflare: 30 (default), 100 or 500, by plan")
	fs.String("plan", "", "cloudflare: the zone's plan, free (default), pro, business or enterprise: the purge rate limits kept to")
	fs.String("token", "", "fastly, cloudflare: the API token as a `reference`: env:NAME, file:PATH, ssm:/name or secretsmanager:name#key")
	fs.Var(new(stringList), "endpoint", "varnish: a cache endpoint `URL`, http://host:port (repeatable)")
	fs.String("method", "", "varnish: PURGE (default) or BAN")
	fs.String("host", "", "varnish: the site's Host `header` (default the base URL's host)")
	return fs
}

// providerFlagField is the target field a provider flag sets: its name
// with _ for -, but --endpoint, given once per endpoint, fills endpoints.
func providerFlagField(name string) string {
	if name == "endpoint" {
		return "endpoints"
	}
	return strings.ReplaceAll(name, "-", "_")
}

func (o *purgeOptions) check() error {
	switch {
	case o.target == "" && o.provider == "":
		return usagef("say what to purge through: --target NAME (from the configuration) or --provider P")
	case o.target != "" && o.provider != "":
		return usagef("--target and --provider exclude each other")
	case o.target != "" && o.adhocSet() != "":
		return usagef("--%s is a provider flag, for --provider; a target takes its fields from the configuration", o.adhocSet())
	case len(o.items) == 0 && len(o.tags) == 0 && len(o.cpcodes) == 0 && !o.all:
		return usagef("nothing to purge: give paths (/docs/), URLs, --tag, --cpcode or --everything")
	case o.wait && o.poll <= 0:
		return usagef("--poll must be more than 0")
	}
	return nil
}

// adhocSet returns the name of a provider flag given, or "".
func (o *purgeOptions) adhocSet() string {
	var name string
	o.adhoc.Visit(func(f *flag.Flag) {
		if name == "" {
			name = f.Name
		}
	})
	return name
}

// targetConfig finds or builds the target, validated as a configuration's.
func (o *purgeOptions) targetConfig() (*config.Config, config.Target, error) {
	if o.target != "" {
		cfg, err := loadConfig(o.common.config)
		if err != nil {
			return nil, config.Target{}, badInput(err)
		}
		var names []string
		for _, t := range cfg.Targets {
			if t.Name == o.target {
				return cfg, t, nil
			}
			names = append(names, t.Name)
		}
		return nil, config.Target{}, badInput(fmt.Errorf("no target %q in %s (targets: %s)", o.target, configName(cfg), strings.Join(names, ", ")))
	}
	// Validate the flags as a one-target configuration would be; JSON is YAML.
	t := map[string]any{"name": "adhoc", "provider": o.provider}
	o.adhoc.Visit(func(f *flag.Flag) { t[providerFlagField(f.Name)] = f.Value.(flag.Getter).Get() })
	doc, err := json.Marshal(map[string]any{"targets": []any{t}})
	if err != nil {
		return nil, config.Target{}, err
	}
	cfg, err := config.Parse("flags", doc)
	var errs config.Errors
	if errors.As(err, &errs) {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = o.flagMessage(e)
		}
		return nil, config.Target{}, usagef("%s", strings.Join(msgs, "\n"))
	}
	if err != nil {
		return nil, config.Target{}, err
	}
	return cfg, cfg.Targets[0], nil
}

// flagMessage says a configuration error about the ad-hoc target in terms
// of the flags: "--endpoint: required by provider varnish", not
// "targets[0].endpoints: required by provider varnish".
func (o *purgeOptions) flagMessage(e *config.Error) string {
	field, ok := strings.CutPrefix(e.Field, "targets[0].")
	if !ok {
		return e.Msg
	}
	field, _, _ = strings.Cut(field, "[") // endpoints[1] is the second --endpoint
	flags := map[string]string{}
	var fields []string
	o.adhoc.VisitAll(func(f *flag.Flag) {
		fd := providerFlagField(f.Name)
		flags[fd] = "--" + f.Name
		fields = append(fields, regexp.QuoteMeta(fd))
	})
	words := regexp.MustCompile(`\b(` + strings.Join(fields, "|") + `)\b`)
	// name and provider are in every target's field list; the ad-hoc target
	// has no --name, and --provider was given.
	msg := strings.Replace(e.Msg, "(its fields: name, provider, ", "(its fields: ", 1)
	// timeout has no flag here (--timeout is how long --wait waits).
	msg = strings.Replace(msg, ", timeout)", ")", 1)
	msg = words.ReplaceAllStringFunc(msg, func(fd string) string { return flags[fd] })
	flags["provider"] = "--provider"
	if f, ok := flags[field]; ok {
		field = f
	}
	return field + ": " + msg
}

func (o *purgeOptions) run(ctx context.Context, s streams) error {
	cfg, t, err := o.targetConfig()
	if err != nil {
		return err
	}
	d, err := newDeps(cfg, o.common.logger(s.err), s.redact)
	if err != nil {
		return badInput(err)
	}
	defer d.close()
	pg, err := d.purger(ctx, t)
	if err != nil {
		return badInput(fmt.Errorf("target %s: %w", t.Name, err))
	}
	req := purge.Request{}
	for _, it := range o.items {
		if strings.HasPrefix(it, "http://") || strings.HasPrefix(it, "https://") {
			req.Items = append(req.Items, purge.Item{Kind: purge.KindURL, Value: it})
		} else {
			req.Items = append(req.Items, pathItem(t, it))
		}
	}
	req.Items = append(req.Items, purge.Tags(o.tags...)...)
	for _, c := range o.cpcodes {
		req.Items = append(req.Items, purge.Item{Kind: purge.KindCPCode, Value: c})
	}
	if o.all {
		req.Items = append(req.Items, purge.Item{Kind: purge.KindAll})
	}
	res, perr := pg.Purge(ctx, req)
	if res != nil {
		if err := writeJSON(s.out, res); err != nil {
			return err
		}
	}
	if perr != nil {
		fmt.Fprintf(s.err, "offload purge: %s: %v\n", t.Name, perr)
		if res != nil {
			for _, c := range res.Calls {
				if c.Err != "" {
					fmt.Fprintf(s.err, "  call %s (support id %s): %s\n", orDash(c.ID), orDash(c.SupportID), c.Err)
				}
			}
		}
		return exitError(exitFailed)
	}
	if !o.wait || res == nil {
		return nil
	}
	f, ok := pg.(purge.Follower)
	if !ok {
		fmt.Fprintf(s.err, "offload purge: %s gives no id to follow; the purge was accepted\n", t.Provider)
		return nil
	}
	return o.follow(ctx, f, res, s.err)
}

// follow polls every accepted purge until it is done, printing progress.
func (o *purgeOptions) follow(ctx context.Context, f purge.Follower, res *purge.Result, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	start := time.Now()
	pending := res.IDs()
	for len(pending) > 0 {
		var still []string
		for _, id := range pending {
			st, err := f.Status(ctx, id)
			if err != nil {
				return fmt.Errorf("status of %s: %w", id, err)
			}
			line := fmt.Sprintf("%s: %s after %s", id, st.State, time.Since(start).Round(time.Second))
			if st.Estimated > 0 && !st.Done {
				line += fmt.Sprintf(" (estimated %s)", st.Estimated)
			}
			fmt.Fprintln(stderr, line)
			if !st.Done {
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up waiting after %s; still in progress: %s", o.timeout, strings.Join(pending, ", "))
		case <-time.After(o.poll):
		}
	}
	fmt.Fprintf(stderr, "done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// pathItem turns a path from the command line into what the target
// purges: the path encoded as the target purges it (plan.Target.TypedPath),
// joined with the base URL for the providers that purge URLs.
func pathItem(t config.Target, p string) purge.Item {
	p = plan.Target{Name: t.Name, Provider: t.Provider}.TypedPath(p)
	if t.Provider != "cloudfront" && t.BaseURL != "" {
		return purge.Item{Kind: purge.KindURL, Value: purge.JoinURL(t.BaseURL, p)}
	}
	return purge.Item{Kind: purge.KindPath, Value: p}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
