package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	targetFields = map[string][]string{
		"cloudfront": {"distribution_id", "collapse"},
		"akamai":     {"base_url", "edgerc", "section", "network", "action"},
		"fastly":     {"base_url", "service_id", "token", "soft"},
		"cloudflare": {"base_url", "zone_id", "token", "urls_per_request"},
		"varnish":    {"base_url", "endpoints", "method", "host"},
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
		"netstorage": {"host", "cpcode", "dir", "keyname", "key"},
		"s3":         {"bucket", "region", "prefix", "path_style"}, // and api_url for an S3-compatible store
	}
	mirrorRequired = map[string][]string{
		"netstorage": {"host", "cpcode", "keyname", "key"},
		"s3":         {"bucket"},
	}
	commonFields = []string{"name", "provider", "api_url"}
)

// validate checks everything decoding could not, with root (the document's
// mapping node) to find lines.
func (c *Config) validate(root *yaml.Node) Errors {
	v := &validator{file: c.File, root: root}

	switch c.State.Driver {
	case "bolt", "dynamodb", "memory":
	default:
		v.add(v.at("state", "driver"), "state.driver", "%q is not a driver: use bolt, dynamodb or memory", c.State.Driver)
	}
	if c.Batch.Window.Duration < 0 {
		v.add(v.at("batch", "window"), "batch.window", "must not be negative")
	}
	for i, s := range c.Auth.Tokens {
		v.secret(s, fmt.Sprintf("auth.tokens[%d]", i), "auth", "tokens", i)
	}
	for i, st := range c.Auth.ScopedTokens {
		field := fmt.Sprintf("auth.scoped_tokens[%d]", i)
		node := v.node("auth", "scoped_tokens", i)
		if st.Token == "" {
			v.add(v.line(node, ""), field+".token", "required: a secret reference such as env:MINIO_TOKEN")
		} else {
			v.secret(st.Token, field+".token", "auth", "scoped_tokens", i, "token")
		}
		if len(st.Routes) == 0 {
			v.add(v.line(node, ""), field+".routes", "required: the routes the token may call, such as [\"POST /v1/events\"]")
		}
		for j, r := range st.Routes {
			if !slices.Contains(APIRoutes, r) {
				v.add(v.line(v.node("auth", "scoped_tokens", i, "routes"), j), fmt.Sprintf("%s.routes[%d]", field, j),
					"%q is not a route: use one of %s", r, strings.Join(quoted(APIRoutes), ", "))
			}
		}
	}
	for i, st := range c.Auth.ScopedTokens {
		field := fmt.Sprintf("auth.scoped_tokens[%d]", i)
		if st.Rate < 0 {
			v.add(v.at("auth", "scoped_tokens", i, "rate"), field+".rate", "must be more than 0 (requests a second; default auth.rate)")
		}
		if st.Burst < 0 {
			v.add(v.at("auth", "scoped_tokens", i, "burst"), field+".burst", "must be 1 or more (requests at once; default auth.burst)")
		}
	}
	if c.Auth.Rate < 0 {
		v.add(v.at("auth", "rate"), "auth.rate", "must be more than 0 (requests a second per token; default 10)")
	}
	if c.Auth.Burst < 0 {
		v.add(v.at("auth", "burst"), "auth.burst", "must be 1 or more (requests at once per token; default 20)")
	}

	targets := map[string]string{}
	for i, t := range c.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		node := v.node("targets", i)
		v.named(t.Name, targets, field, node, "target")
		targets[t.Name] = t.Provider
		allowed, ok := targetFields[t.Provider]
		if !ok {
			v.add(v.line(node, "provider"), field+".provider", "%q is not a provider: use cloudfront, akamai, fastly, cloudflare, varnish or log", t.Provider)
			continue
		}
		v.fields(node, field, t.Provider, allowed, targetRequired[t.Provider])
		if t.BaseURL != "" {
			v.url(t.BaseURL, field+".base_url", v.line(node, "base_url"), "https://www.example.com")
		}
		if t.APIURL != "" {
			v.url(t.APIURL, field+".api_url", v.line(node, "api_url"), "https://api.example.com")
		}
		switch t.Provider {
		case "akamai":
			if t.Network != "production" && t.Network != "staging" {
				v.add(v.line(node, "network"), field+".network", "%q: use production or staging", t.Network)
			}
			if t.Action != "invalidate" && t.Action != "delete" {
				v.add(v.line(node, "action"), field+".action", "%q: use invalidate or delete", t.Action)
			}
		case "cloudflare":
			if !slices.Contains([]int{30, 100, 500}, t.URLsPerRequest) {
				v.add(v.line(node, "urls_per_request"), field+".urls_per_request", "%d: use 30, 100 or 500, as your Cloudflare plan allows", t.URLsPerRequest)
			}
		case "varnish":
			if t.Method != "PURGE" && t.Method != "BAN" {
				v.add(v.line(node, "method"), field+".method", "%q: use PURGE or BAN", t.Method)
			}
			for j, e := range t.Endpoints {
				v.url(e, fmt.Sprintf("%s.endpoints[%d]", field, j), v.line(v.node("targets", i, "endpoints"), j), "http://127.0.0.1:6081")
			}
			if t.Host == "" && t.BaseURL == "" {
				v.add(v.line(node, "endpoints"), field+".host", "set host (the site's Host header) or base_url")
			}
		case "cloudfront":
			if t.Collapse < 0 {
				v.add(v.line(node, "collapse"), field+".collapse", "must be 0 (never) or more")
			}
		}
		if t.Token != "" {
			v.secret(t.Token, field+".token", "targets", i, "token")
		}
	}

	mirrors := map[string]string{}
	for i, m := range c.Mirrors {
		field := fmt.Sprintf("mirrors[%d]", i)
		node := v.node("mirrors", i)
		v.named(m.Name, mirrors, field, node, "mirror")
		mirrors[m.Name] = m.Provider
		allowed, ok := mirrorFields[m.Provider]
		if !ok {
			v.add(v.line(node, "provider"), field+".provider", "%q is not a mirror provider: use netstorage or s3", m.Provider)
			continue
		}
		v.fields(node, field, m.Provider, allowed, mirrorRequired[m.Provider])
		if m.Key != "" {
			v.secret(m.Key, field+".key", "mirrors", i, "key")
		}
		if m.Dir != "" && !strings.HasPrefix(m.Dir, "/") {
			v.add(v.line(node, "dir"), field+".dir", "%q must start with /", m.Dir)
		}
	}

	sites := map[string]string{}
	for i, s := range c.Sites {
		field := fmt.Sprintf("sites[%d]", i)
		node := v.node("sites", i)
		v.named(s.Name, sites, field, node, "site")
		sites[s.Name] = ""
		if s.Bucket == "" {
			v.add(v.line(node, ""), field+".bucket", "required: the bucket the site is served from")
		}
		if strings.HasPrefix(s.Prefix, "/") {
			v.add(v.line(node, "prefix"), field+".prefix", "%q: S3 keys do not start with /; write %q", s.Prefix, strings.TrimLeft(s.Prefix, "/"))
		}
		for j, t := range s.Targets {
			if _, ok := targets[t]; !ok {
				v.add(v.line(v.node("sites", i, "targets"), j), fmt.Sprintf("%s.targets[%d]", field, j), "no target is named %q%s", t, known(targets))
			}
		}
		for j, m := range s.Mirrors {
			if _, ok := mirrors[m]; !ok {
				v.add(v.line(v.node("sites", i, "mirrors"), j), fmt.Sprintf("%s.mirrors[%d]", field, j), "no mirror is named %q%s", m, known(mirrors))
			}
		}
	}
	return v.errs
}

type validator struct {
	file string
	root *yaml.Node
	errs Errors
}

func (v *validator) add(line int, field, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// node walks from the root by mapping keys (string) and sequence indexes (int).
func (v *validator) node(path ...any) *yaml.Node {
	n := v.root
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch k := p.(type) {
		case string:
			n = mapValue(n, k)
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return nil
			}
			n = n.Content[k]
		}
	}
	return n
}

func (v *validator) at(path ...any) int {
	if n := v.node(path...); n != nil {
		return n.Line
	}
	return 0
}

// line returns the line of key within mapping n (or of item i of sequence
// n), falling back to n's own line.
func (v *validator) line(n *yaml.Node, key any) int {
	if n == nil {
		return 0
	}
	switch k := key.(type) {
	case string:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					return n.Content[i].Line
				}
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && k < len(n.Content) {
			return n.Content[k].Line
		}
	}
	return n.Line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (v *validator) named(name string, seen map[string]string, field string, node *yaml.Node, what string) {
	switch {
	case name == "":
		v.add(v.line(node, ""), field+".name", "required: every %s needs a name", what)
	case seen[name] != "" || hasKey(seen, name):
		v.add(v.line(node, "name"), field+".name", "%q is used by another %s", name, what)
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// fields refuses fields the provider does not use and asks for the ones it needs.
func (v *validator) fields(node *yaml.Node, field, provider string, allowed, required []string) {
	if node == nil || node.Kind != yaml.MappingNode {
		return
	}
	present := map[string]bool{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k := node.Content[i]
		present[k.Value] = true
		if !slices.Contains(allowed, k.Value) && !slices.Contains(commonFields, k.Value) {
			v.add(k.Line, field+"."+k.Value, "not used by provider %s (its fields: %s)", provider, strings.Join(allowed, ", "))
		}
	}
	for _, r := range required {
		if !present[r] {
			v.add(node.Line, field+"."+r, "required by provider %s", provider)
		}
	}
}

func (v *validator) url(s, field string, line int, example string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(line, field, "%q is not an absolute http(s) URL (write it like %s)", s, example)
	}
}

func (v *validator) secret(s Secret, field string, path ...any) {
	if _, err := s.parse(); err != nil {
		v.add(v.at(path...), field, "%v", err)
	}
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func known(m map[string]string) string {
	if len(m) == 0 {
		return " (none are configured)"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, fmt.Sprintf("%q", n))
	}
	slices.Sort(names)
	return " (configured: " + strings.Join(names, ", ") + ")"
}
