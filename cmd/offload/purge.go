package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	adhoc    config.Target // --provider's own flags
	tags     stringList
	cpcodes  stringList
	all      bool
	wait     bool
	timeout  time.Duration
	poll     time.Duration
	items    []string
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runPurge: offload purge [--config F] --target NAME PATH|URL...
//
//	offload purge --provider P [provider flags] PATH|URL...
func runPurge(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o purgeOptions
	fs := newFlagSet("purge", stderr, "purge [--config F] --target NAME [--wait] PATH|URL...\n       offload purge --provider P [provider flags] [--wait] PATH|URL...")
	o.common.register(fs)
	fs.StringVar(&o.target, "target", "", "a target of the configuration")
	fs.StringVar(&o.provider, "provider", "", "purge without a configuration: cloudfront, akamai, fastly, cloudflare, varnish or log")
	fs.Var(&o.tags, "tag", "a cache tag or surrogate key to purge (repeatable)")
	fs.Var(&o.cpcodes, "cpcode", "an Akamai CP code to purge (repeatable)")
	fs.BoolVar(&o.all, "everything", false, "purge everything the target caches")
	fs.BoolVar(&o.wait, "wait", false, "follow the purge to completion, with progress")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long --wait waits")
	fs.DurationVar(&o.poll, "poll", 10*time.Second, "how often --wait asks")
	adhocFlags(fs, &o.adhoc)
	items, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	o.items = items
	if code := o.check(stderr); code != exitOK {
		return code
	}
	return o.run(ctx, stdout, stderr)
}

func adhocFlags(fs *flag.FlagSet, t *config.Target) {
	fs.StringVar(&t.BaseURL, "base-url", "", "the site's URL, joined with paths (akamai, fastly, cloudflare, varnish)")
	fs.StringVar(&t.APIURL, "api-url", "", "the provider's API URL (tests, proxies)")
	fs.StringVar(&t.DistributionID, "distribution-id", "", "cloudfront: the distribution")
	fs.StringVar(&t.EdgeRC, "edgerc", "", "akamai: the .edgerc file (default ~/.edgerc; AKAMAI_* variables work too)")
	fs.StringVar(&t.Section, "section", "", "akamai: the .edgerc section (default default)")
	fs.StringVar(&t.Network, "network", "", "akamai: production (default) or staging")
	fs.StringVar(&t.Action, "action", "", "akamai: invalidate (default) or delete")
	fs.StringVar(&t.ServiceID, "service-id", "", "fastly: the service")
	fs.BoolVar(&t.Soft, "soft", false, "fastly: soft purge (mark stale)")
	fs.StringVar(&t.ZoneID, "zone-id", "", "cloudflare: the zone")
	fs.IntVar(&t.URLsPerRequest, "urls-per-request", 0, "cloudflare: 30 (default), 100 or 500, by plan")
	fs.StringVar((*string)(&t.Token), "token", "", "fastly, cloudflare: the API token, as a reference (env:NAME, file:PATH, ssm:/name, secretsmanager:name#key)")
	fs.Func("endpoint", "varnish: a cache endpoint, http://host:port (repeatable)", func(v string) error {
		t.Endpoints = append(t.Endpoints, v)
		return nil
	})
	fs.StringVar(&t.Method, "method", "", "varnish: PURGE (default) or BAN")
	fs.StringVar(&t.Host, "host", "", "varnish: the site's Host header")
}

func (o *purgeOptions) check(stderr io.Writer) int {
	switch {
	case o.target == "" && o.provider == "":
		fmt.Fprintln(stderr, "offload purge: say what to purge through: --target NAME (from the configuration) or --provider P")
		return exitUsage
	case o.target != "" && o.provider != "":
		fmt.Fprintln(stderr, "offload purge: --target and --provider exclude each other")
		return exitUsage
	case len(o.items) == 0 && len(o.tags) == 0 && len(o.cpcodes) == 0 && !o.all:
		fmt.Fprintln(stderr, "offload purge: nothing to purge: give paths (/docs/), URLs, --tag, --cpcode or --everything")
		return exitUsage
	}
	return exitOK
}

// targetConfig finds or builds the target, validated as a configuration's.
func (o *purgeOptions) targetConfig() (*config.Config, config.Target, error) {
	if o.target != "" {
		cfg, err := o.common.load()
		if err != nil {
			return nil, config.Target{}, err
		}
		for _, t := range cfg.Targets {
			if t.Name == o.target {
				return cfg, t, nil
			}
		}
		var names []string
		for _, t := range cfg.Targets {
			names = append(names, t.Name)
		}
		where := "the embedded defaults"
		if cfg.File != "" {
			where = cfg.File
		}
		return nil, config.Target{}, fmt.Errorf("no target %q in %s (targets: %s)", o.target, where, strings.Join(names, ", "))
	}
	t := o.adhoc
	t.Name, t.Provider = "adhoc", o.provider
	// Validate the flags as a one-target configuration would be.
	var b strings.Builder
	fmt.Fprintf(&b, "targets:\n  - name: adhoc\n    provider: %q\n", t.Provider)
	set := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "    %s: %q\n", k, v)
		}
	}
	set("base_url", t.BaseURL)
	set("api_url", t.APIURL)
	set("distribution_id", t.DistributionID)
	set("edgerc", t.EdgeRC)
	set("section", t.Section)
	set("network", t.Network)
	set("action", t.Action)
	set("service_id", t.ServiceID)
	set("zone_id", t.ZoneID)
	set("token", string(t.Token))
	set("method", t.Method)
	set("host", t.Host)
	if t.Soft {
		b.WriteString("    soft: true\n")
	}
	if t.URLsPerRequest != 0 {
		fmt.Fprintf(&b, "    urls_per_request: %d\n", t.URLsPerRequest)
	}
	if len(t.Endpoints) > 0 {
		fmt.Fprintf(&b, "    endpoints: [%q", t.Endpoints[0])
		for _, e := range t.Endpoints[1:] {
			fmt.Fprintf(&b, ", %q", e)
		}
		b.WriteString("]\n")
	}
	cfg, err := config.Parse("flags", []byte(b.String()))
	var errs config.Errors
	if errors.As(err, &errs) {
		// Speak of flags, not of a file's fields.
		var msgs []string
		for _, e := range errs {
			flagName := "--" + strings.ReplaceAll(strings.TrimPrefix(e.Field, "targets[0]."), "_", "-")
			msgs = append(msgs, fmt.Sprintf("%s: %s", flagName, e.Msg))
		}
		return nil, config.Target{}, errors.New(strings.Join(msgs, "\n"))
	}
	if err != nil {
		return nil, config.Target{}, err
	}
	return cfg, cfg.Targets[0], nil
}

func (o *purgeOptions) run(ctx context.Context, stdout, stderr io.Writer) int {
	cfg, t, err := o.targetConfig()
	if err != nil {
		return configError(stderr, err)
	}
	d, err := newDeps(cfg, o.common.logger(stderr))
	if err != nil {
		return configError(stderr, err)
	}
	defer d.close()
	pg, err := d.purger(ctx, t)
	if err != nil {
		return configError(stderr, fmt.Errorf("target %s: %w", t.Name, err))
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
		if err := writeJSON(stdout, res); err != nil {
			return exitFailed
		}
	}
	if perr != nil {
		fmt.Fprintf(stderr, "offload purge: %s: %v\n", t.Name, perr)
		if res != nil {
			for _, c := range res.Calls {
				if c.Err != "" {
					fmt.Fprintf(stderr, "  call %s (support id %s): %s\n", orDash(c.ID), orDash(c.SupportID), c.Err)
				}
			}
		}
		return exitFailed
	}
	if !o.wait || res == nil {
		return exitOK
	}
	f, ok := pg.(purge.Follower)
	if !ok {
		fmt.Fprintf(stderr, "offload purge: %s gives no id to follow; the purge was accepted\n", t.Provider)
		return exitOK
	}
	return o.follow(ctx, f, res, stderr)
}

// follow polls every accepted purge until it is done, printing progress.
func (o *purgeOptions) follow(ctx context.Context, f purge.Follower, res *purge.Result, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	start := time.Now()
	pending := res.IDs()
	for len(pending) > 0 {
		var still []string
		for _, id := range pending {
			st, err := f.Status(ctx, id)
			if err != nil {
				fmt.Fprintf(stderr, "offload purge: status of %s: %v\n", id, err)
				return exitFailed
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
			fmt.Fprintf(stderr, "offload purge: gave up waiting after %s; still in progress: %s\n", o.timeout, strings.Join(pending, ", "))
			return exitFailed
		case <-time.After(o.poll):
		}
	}
	fmt.Fprintf(stderr, "done in %s\n", time.Since(start).Round(time.Second))
	return exitOK
}

// pathItem turns a path from the command line into what the target
// purges: CloudFront encodes paths itself; for the others the path is
// URL-encoded (unless it already is) and joined with the base URL.
func pathItem(t config.Target, p string) purge.Item {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if t.Provider == "cloudfront" {
		return purge.Item{Kind: purge.KindPath, Value: p}
	}
	if !encoded(p) {
		p = plan.URLPath(p)
	}
	if t.BaseURL != "" {
		return purge.Item{Kind: purge.KindURL, Value: plan.JoinURL(t.BaseURL, p)}
	}
	return purge.Item{Kind: purge.KindPath, Value: p}
}

// encoded reports whether p holds a percent-escape, and so was encoded by
// whoever wrote it.
func encoded(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		if p[i] == '%' && isHex(p[i+1]) && isHex(p[i+2]) {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// parseInterleaved parses flags that may come after positional arguments
// ("offload purge /a /b --wait"), returning the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
