package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// The fields each provider uses, besides name and provider. A field
// another provider uses is refused rather than ignored.
var (
	targetFields = map[string][]string{
		"cloudfront": {"distribution_id", "collapse", "timeout"}, // the endpoint is the AWS SDK's: AWS_ENDPOINT_URL_CLOUDFRONT
		"akamai":     {"base_url", "edgerc", "section", "network", "action", "api_url", "timeout"},
		"fastly":     {"base_url", "service_id", "token", "soft", "api_url", "timeout"},
		"cloudflare": {"base_url", "zone_id", "token", "urls_per_request", "plan", "api_url", "timeout"},
		"varnish":    {"base_url", "endpoints", "method", "host", "timeout"},
		"log":        {"base_url"},
	}
	targetRequired = map[string][]string{
		"cloudfront": {"distribution_id"},
		"akamai":     {"base_url"},
		"fastly":     {"base_url", "service_id", "token"},
		"cloudflare": {"base_url", "zone_id", "token"},
		"varnish":    {"endpoints"},
	}
	mirrorFields = map[string][]string{
		"netstorage": {"host", "cpcode", "dir", "keyname", "key", "api_url", "timeout"},
		"s3":         {"bucket", "region", "prefix", "path_style", "api_url", "timeout"},
	}
	mirrorRequired = map[string][]string{
		"netstorage": {"host", "cpcode", "keyname", "key"},
		"s3":         {"bucket"},
	}
	commonFields = []string{"name", "provider"}
)

// validate checks everything decoding could not, with root (the document's
// mapping node) to place each error. A field that did not decode is not
// checked again.
func (c *Config) validate(root *yaml.Node, d *decoder) Errors {
	v := &validator{file: c.File, root: root, d: d}

	switch c.State.Driver {
	case "bolt", "dynamodb", "memory", "nats":
	default:
		v.add("state.driver", v.at("state", "driver"), "%q is not a driver: use bolt, dynamodb, memory or nats", c.State.Driver)
	}
	v.validateInbox(c)
	if c.Batch.Window.Duration < 0 {
		v.add("batch.window", v.at("batch", "window"), "must not be negative")
	}
	for i, s := range c.Auth.Tokens {
		v.secret(s, fmt.Sprintf("auth.tokens[%d]", i), "auth", "tokens", i)
	}
	for i, st := range c.Auth.ScopedTokens {
		field := fmt.Sprintf("auth.scoped_tokens[%d]", i)
		if st.Token == "" {
			v.add(field+".token", v.at("auth", "scoped_tokens", i, "token"), "required: a secret reference such as env:MINIO_TOKEN")
		} else {
			v.secret(st.Token, field+".token", "auth", "scoped_tokens", i, "token")
		}
		if len(st.Routes) == 0 {
			v.add(field+".routes", v.at("auth", "scoped_tokens", i, "routes"), "required: the routes the token may call, such as [\"POST /v1/events\"]")
		}
		for j, r := range st.Routes {
			if !slices.Contains(APIRoutes, r) {
				v.add(fmt.Sprintf("%s.routes[%d]", field, j), v.at("auth", "scoped_tokens", i, "routes", j),
					"%q is not a route: use one of %s%s", r, strings.Join(quoted(APIRoutes), ", "), suggest(r, APIRoutes))
			}
		}
		if st.Rate < 0 {
			v.add(field+".rate", v.at("auth", "scoped_tokens", i, "rate"), "must be more than 0 (requests a second; default auth.rate)")
		}
		if st.Burst < 0 {
			v.add(field+".burst", v.at("auth", "scoped_tokens", i, "burst"), "must be 1 or more (requests at once; default auth.burst)")
		}
	}
	if c.Auth.Rate < 0 {
		v.add("auth.rate", v.at("auth", "rate"), "must be more than 0 (requests a second per token; default 10)")
	}
	if c.Auth.Burst < 0 {
		v.add("auth.burst", v.at("auth", "burst"), "must be 1 or more (requests at once per token; default 20)")
	}

	targets := map[string]bool{}
	for i, t := range c.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		at := func(path ...any) *yaml.Node { return v.at(append([]any{"targets", i}, path...)...) }
		v.named(t.Name, targets, field, at, "target")
		if _, ok := targetFields[t.Provider]; !ok {
			if t.Provider == "" {
				v.add(field+".provider", at("provider"), "required: cloudfront, akamai, fastly, cloudflare, varnish or log")
			} else {
				v.add(field+".provider", at("provider"), "%q is not a provider: use cloudfront, akamai, fastly, cloudflare, varnish or log%s",
					t.Provider, suggest(t.Provider, slices.Sorted(maps.Keys(targetFields))))
			}
			continue
		}
		v.required(field, at(), t.Provider, targetRequired[t.Provider])
		if t.BaseURL != "" {
			v.url(t.BaseURL, field+".base_url", at("base_url"), "https://www.example.com")
		}
		if t.APIURL != "" {
			v.url(t.APIURL, field+".api_url", at("api_url"), "https://api.example.com")
		}
		switch t.Provider {
		case "akamai":
			if t.Network != "production" && t.Network != "staging" {
				v.add(field+".network", at("network"), "%q: use production or staging", t.Network)
			}
			if t.Action != "invalidate" && t.Action != "delete" {
				v.add(field+".action", at("action"), "%q: use invalidate or delete", t.Action)
			}
		case "cloudflare":
			if !slices.Contains([]int{30, 100, 500}, t.URLsPerRequest) {
				v.add(field+".urls_per_request", at("urls_per_request"), "%d: use 30, 100 or 500, as your Cloudflare plan allows", t.URLsPerRequest)
			}
			if plans := []string{"free", "pro", "business", "enterprise"}; !slices.Contains(plans, t.Plan) {
				v.add(field+".plan", at("plan"), "%q: use free, pro, business or enterprise, the zone's Cloudflare plan%s", t.Plan, suggest(t.Plan, plans))
			}
		case "varnish":
			if t.Method != "PURGE" && t.Method != "BAN" {
				v.add(field+".method", at("method"), "%q: use PURGE or BAN", t.Method)
			}
			for j, e := range t.Endpoints {
				v.url(e, fmt.Sprintf("%s.endpoints[%d]", field, j), at("endpoints", j), "http://127.0.0.1:6081")
			}
			if t.Host == "" && t.BaseURL == "" {
				v.add(field+".host", at(), "set host (the site's Host header) or base_url")
			}
		case "cloudfront":
			if t.Collapse < 0 {
				v.add(field+".collapse", at("collapse"), "must be 0 (never) or more")
			}
		}
		if t.Token != "" {
			v.secret(t.Token, field+".token", "targets", i, "token")
		}
		if slices.Contains(targetFields[t.Provider], "timeout") {
			v.timeout(t.Timeout.Duration, field+".timeout", at("timeout"))
		}
	}

	mirrors := map[string]bool{}
	for i, m := range c.Mirrors {
		field := fmt.Sprintf("mirrors[%d]", i)
		at := func(path ...any) *yaml.Node { return v.at(append([]any{"mirrors", i}, path...)...) }
		v.named(m.Name, mirrors, field, at, "mirror")
		if _, ok := mirrorFields[m.Provider]; !ok {
			if m.Provider == "" {
				v.add(field+".provider", at("provider"), "required: netstorage or s3")
			} else {
				v.add(field+".provider", at("provider"), "%q is not a mirror provider: use netstorage or s3", m.Provider)
			}
			continue
		}
		v.required(field, at(), m.Provider, mirrorRequired[m.Provider])
		if m.Key != "" {
			v.secret(m.Key, field+".key", "mirrors", i, "key")
		}
		if m.APIURL != "" {
			v.url(m.APIURL, field+".api_url", at("api_url"), "http://127.0.0.1:9000")
		}
		if m.Dir != "" && !strings.HasPrefix(m.Dir, "/") {
			v.add(field+".dir", at("dir"), "%q must start with /", m.Dir)
		}
		v.timeout(m.Timeout.Duration, field+".timeout", at("timeout"))
	}

	sites := map[string]bool{}
	for i, s := range c.Sites {
		field := fmt.Sprintf("sites[%d]", i)
		at := func(path ...any) *yaml.Node { return v.at(append([]any{"sites", i}, path...)...) }
		v.named(s.Name, sites, field, at, "site")
		if s.Bucket == "" {
			v.add(field+".bucket", at("bucket"), "required: the bucket the site is served from (* for any)")
		}
		if strings.HasPrefix(s.Prefix, "/") {
			v.add(field+".prefix", at("prefix"), "%q: S3 keys do not start with /; write %q", s.Prefix, strings.TrimLeft(s.Prefix, "/"))
		}
		// A name that did not decode would be reported again here as missing.
		if d.namesKnown("targets", len(c.Targets)) {
			for j, t := range s.Targets {
				if !targets[t] {
					v.add(fmt.Sprintf("%s.targets[%d]", field, j), at("targets", j), "no target is named %q%s", t, known(targets, "target"))
				}
			}
		}
		if d.namesKnown("mirrors", len(c.Mirrors)) {
			for j, m := range s.Mirrors {
				if !mirrors[m] {
					v.add(fmt.Sprintf("%s.mirrors[%d]", field, j), at("mirrors", j), "no mirror is named %q%s", m, known(mirrors, "mirror"))
				}
			}
		}
	}
	return v.errs
}

type validator struct {
	file string
	root *yaml.Node
	d    *decoder
	errs Errors
}

// add records an error at n, unless the field already failed to decode.
func (v *validator) add(field string, n *yaml.Node, format string, args ...any) {
	if v.d.failedAt(field) {
		return
	}
	e := &Error{File: v.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	v.errs = append(v.errs, e)
}

// at walks from the root by mapping keys (string) and sequence indexes
// (int), and returns the node the path ends at, or the last one on the way
// that is there: the place of a missing field is its mapping.
func (v *validator) at(path ...any) *yaml.Node {
	n := v.root
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			next = mapValue(n, k)
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				if next.Kind == yaml.AliasNode {
					next = next.Alias
				}
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func (v *validator) named(name string, seen map[string]bool, field string, at func(...any) *yaml.Node, what string) {
	switch {
	case name == "":
		v.add(field+".name", at("name"), "required: every %s needs a name", what)
	case seen[name]:
		v.add(field+".name", at("name"), "%q is used by another %s", name, what)
	}
	seen[name] = true
}

// required asks for the fields the provider needs that mapping n lacks.
func (v *validator) required(field string, n *yaml.Node, provider string, required []string) {
	for _, r := range required {
		if mapValue(n, r) == nil {
			v.add(field+"."+r, n, "required by provider %s", provider)
		}
	}
}

func (v *validator) url(s, field string, n *yaml.Node, example string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(field, n, "%q is not an absolute http(s) URL (write it like %s)", s, example)
	}
}

// maxTimeout bounds a request's timeout: past it a hung provider would
// hold serve's batch longer than the batch's own bound (5 minutes).
const maxTimeout = 5 * time.Minute

// timeout checks a request timeout: 1ms to maxTimeout.
func (v *validator) timeout(d time.Duration, field string, n *yaml.Node) {
	if d < time.Millisecond || d > maxTimeout {
		v.add(field, n, "%s: use a duration from 1ms to %s (default %s)", d, maxTimeout, DefaultTimeout)
	}
}

// secret checks a secret reference; the error never shows the value.
func (v *validator) secret(s Secret, field string, path ...any) {
	if _, err := s.parse(); err != nil {
		v.add(field, v.at(path...), "%v", err)
	}
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func known(m map[string]bool, what string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		if n != "" {
			names = append(names, fmt.Sprintf("%q", n))
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf(" (no %ss are configured)", what)
	}
	slices.Sort(names)
	return " (configured: " + strings.Join(names, ", ") + ")"
}
