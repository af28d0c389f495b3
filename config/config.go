// Package config reads offload's YAML configuration (every field is in
// docs/configuration.md, and ExampleYAML is a complete annotated example),
// fills in defaults, and validates it. Every error in a file is reported at
// once, each with the file, line, column and field path, and what is
// allowed. Secret values are references (env:NAME, file:PATH, ssm:/name,
// secretsmanager:name#key), resolved through the cache library so a rotated
// secret is picked up after its max age; no error ever shows a secret
// field's value.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Config is the whole configuration. Every field is optional unless its
// comment says otherwise.
type Config struct {
	Listen  string   `yaml:"listen"` // serve mode; default 127.0.0.1:8080
	Auth    Auth     `yaml:"auth"`
	State   State    `yaml:"state"`
	Inbox   Inbox    `yaml:"inbox"`
	Batch   Batch    `yaml:"batch"`
	Sites   []Site   `yaml:"sites"`
	Targets []Target `yaml:"targets"`
	Mirrors []Mirror `yaml:"mirrors"`

	// File is where the configuration came from ("" for embedded defaults).
	File string `yaml:"-"`
}

// Auth is how callers of the API, /metrics and the dashboard authenticate
// (Authorization: Bearer <token>, or X-Api-Key: <token>), and how fast each
// may call.
type Auth struct {
	// Tokens are the tokens accepted on every route, as secret references.
	// None configured (and no scoped_tokens): only loopback callers are
	// served, and that is logged.
	Tokens []Secret `yaml:"tokens"`
	// ScopedTokens are tokens accepted only on the routes they list, such
	// as a webhook sender's token for "POST /v1/events" alone.
	ScopedTokens []ScopedToken `yaml:"scoped_tokens"`
	// Rate is how many requests a second each token may make, on average;
	// default 10.
	Rate float64 `yaml:"rate"`
	// Burst is how many requests a token may make at once, above Rate;
	// default 20.
	Burst int `yaml:"burst"`
}

// ScopedToken is a token limited to some routes.
type ScopedToken struct {
	Token Secret `yaml:"token"` // required: a secret reference
	// Routes are the routes the token may call, each "METHOD /path" as the
	// API lists them (APIRoutes); required.
	Routes []string `yaml:"routes"`
	// Rate and Burst override auth.rate and auth.burst for this token: a
	// webhook sender such as MinIO posts one request per object changed,
	// in bursts. Default: auth's.
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// APIRoutes are the routes a scoped token may name: every route that needs
// a token (GET /healthz and GET /openapi.yaml need none).
var APIRoutes = []string{
	"POST /v1/events",
	"GET /v1/inbox",
	"DELETE /v1/inbox/{id}",
	"GET /v1/inbox/dead",
	"POST /v1/inbox/dead/{id}/replay",
	"DELETE /v1/inbox/dead/{id}",
	"POST /v1/purges",
	"GET /v1/purges/{id}",
	"POST /v1/plan",
	"GET /v1/status",
	"GET /v1/ledger",
	"DELETE /v1/ledger",
	"GET /metrics",
	"GET /",
}

// State is where the ledger (and serve's bolt inbox) live.
type State struct {
	Driver string `yaml:"driver"` // bolt (default) | dynamodb | memory | nats
	Path   string `yaml:"path"`   // bolt file; default offload.db
	Table  string `yaml:"table"`  // dynamodb table; default offload
	Bucket string `yaml:"bucket"` // nats: the key-value bucket, on the inbox's connection; default offload-ledger
}

// Inbox is where serve keeps events before it applies them: the bolt file
// (the default, one process), or a NATS JetStream stream that several
// replicas share. The fields other than driver, max_deliveries and max_age
// are for nats.
type Inbox struct {
	Driver            string   `yaml:"driver"`              // bolt (default) | nats
	URL               string   `yaml:"url"`                 // nats: required; nats://host:4222, comma-separated for a cluster
	Stream            string   `yaml:"stream"`              // default OFFLOAD
	Subject           string   `yaml:"subject"`             // default offload.events
	Consumer          string   `yaml:"consumer"`            // the durable consumer replicas share; default offload
	DeadLetterStream  string   `yaml:"dead_letter_stream"`  // default OFFLOAD_DEAD
	DeadLetterSubject string   `yaml:"dead_letter_subject"` // default offload.dead
	MaxDeliveries     int      `yaml:"max_deliveries"`      // attempts (deliveries) before a failing event is a dead letter; default 10
	MaxAge            Duration `yaml:"max_age"`             // a failing event older than this is a dead letter at its next failure; default none
	AckWait           Duration `yaml:"ack_wait"`            // how long a silent replica holds an event before another gets it; default 30s
	Replicas          int      `yaml:"replicas"`            // copies of the streams (and the ledger bucket) offload creates; default 1
	Credentials       string   `yaml:"credentials"`         // a NATS credentials file (user JWT and seed); default none
	User              string   `yaml:"user"`                // with password; default none
	Password          Secret   `yaml:"password"`
	Token             Secret   `yaml:"token"`
	TLSCA             string   `yaml:"tls_ca"`   // PEM file of the CAs the server's certificate is checked against; default the system's
	TLSCert           string   `yaml:"tls_cert"` // client certificate (PEM), with tls_key; default none
	TLSKey            string   `yaml:"tls_key"`
}

// Batch is how serve gathers events.
type Batch struct {
	Window Duration `yaml:"window"` // how long to gather events before planning; default 500ms
}

// Site is one website served from a bucket, or a prefix of one.
type Site struct {
	Name     string   `yaml:"name"`      // required
	Bucket   string   `yaml:"bucket"`    // required
	Prefix   string   `yaml:"prefix"`    // only keys under it; stripped before mapping to a path
	Index    *string  `yaml:"index"`     // index document; default index.html; "" turns it off
	PurgeNew *bool    `yaml:"purge_new"` // purge objects the ledger never saw; default true
	Mirrors  []string `yaml:"mirrors"`   // mirror names
	Targets  []string `yaml:"targets"`   // target names
}

// IndexDocument returns the site's index document ("" when off).
func (s Site) IndexDocument() string {
	if s.Index == nil {
		return "index.html"
	}
	return *s.Index
}

// PurgesNew reports whether new objects are purged.
func (s Site) PurgesNew() bool { return s.PurgeNew == nil || *s.PurgeNew }

// Target is one CDN to purge. Which fields apply depends on Provider; a
// field the provider does not use is an error.
type Target struct {
	Name     string `yaml:"name"`     // required; unique
	Provider string `yaml:"provider"` // required: cloudfront | akamai | fastly | cloudflare | varnish | log (a dry run)
	BaseURL  string `yaml:"base_url"` // the site's URL, joined with each path; required by akamai, fastly, cloudflare
	APIURL   string `yaml:"api_url"`  // akamai, fastly, cloudflare: the provider's API, for proxies and tests; default the provider's own

	// cloudfront
	DistributionID string `yaml:"distribution_id"` // required
	Collapse       int    `yaml:"collapse"`        // purge "/dir/*" when this many paths under one directory change; default 0, never

	// akamai
	EdgeRC  string `yaml:"edgerc"`  // default ~/.edgerc; AKAMAI_* environment variables are read first
	Section string `yaml:"section"` // default "default"
	Network string `yaml:"network"` // production (default) | staging
	Action  string `yaml:"action"`  // invalidate (default) | delete

	// fastly
	ServiceID string `yaml:"service_id"` // required
	Soft      bool   `yaml:"soft"`       // mark content stale instead of evicting it; default false

	// cloudflare
	ZoneID         string `yaml:"zone_id"`          // required
	URLsPerRequest int    `yaml:"urls_per_request"` // 30 (default), 100 or 500, by plan
	Plan           string `yaml:"plan"`             // free (default) | pro | business | enterprise: the purge rate limits spent

	// fastly, cloudflare
	Token Secret `yaml:"token"` // required: the API token

	// varnish
	Endpoints []string `yaml:"endpoints"` // required: each cache's base URL
	Method    string   `yaml:"method"`    // PURGE (default) | BAN
	Host      string   `yaml:"host"`      // Host header; default base_url's host; set host or base_url

	// every provider but log
	Timeout Duration `yaml:"timeout"` // the deadline of each request to the provider; default 30s
}

// Mirror is one edge store objects are copied to.
type Mirror struct {
	Name     string `yaml:"name"`     // required; unique
	Provider string `yaml:"provider"` // required: netstorage | s3
	APIURL   string `yaml:"api_url"`  // the store's endpoint; default NetStorage's https://host, or AWS S3

	// netstorage
	Host    string `yaml:"host"`    // required: the upload host
	CPCode  string `yaml:"cpcode"`  // required
	Dir     string `yaml:"dir"`     // directory under the CP code, starting with /; default its root
	KeyName string `yaml:"keyname"` // required
	Key     Secret `yaml:"key"`     // required

	// s3
	Bucket    string `yaml:"bucket"`     // required
	Region    string `yaml:"region"`     // default the AWS configuration's
	Prefix    string `yaml:"prefix"`     // directory keys are put under; default the bucket's root
	PathStyle bool   `yaml:"path_style"` // path-style requests; default false, or $OFFLOAD_S3_PATH_STYLE

	// netstorage, s3
	Timeout Duration `yaml:"timeout"` // how long a request may make no progress; default 30s
}

// DefaultTimeout is the default of targets[].timeout and mirrors[].timeout.
const DefaultTimeout = 30 * time.Second

// Duration is a time.Duration written as "500ms" or "2s".
type Duration struct{ time.Duration }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write 500ms, 2s, 1m)", b)
	}
	d.Duration = v
	return nil
}

// Error is one configuration error: where, and what is wrong.
type Error struct {
	File   string // "offload.yaml", "ssm:/offload/config"; "" prints as "config"
	Line   int    // 1-based; 0 when the error has no place in a file
	Column int    // 1-based; 0 when unknown
	Field  string // the field's path: "targets[1].distribution_id"
	Msg    string // what is wrong and what is allowed
}

// Error returns "file:line:column: field: msg".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(cmpOr(e.File, "config"))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Errors is every error found in a configuration, in the order of their
// places in the file. Load and Parse return it; match it with errors.As.
type Errors []*Error

// Error returns one error per line.
func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Default returns the embedded defaults: bolt state in ./offload.db, and
// one site for every bucket whose purges go to a "log" target, which logs
// what it would purge (a dry run) instead of calling a CDN.
func Default() *Config {
	idx := "index.html"
	c := &Config{
		Sites:   []Site{{Name: "default", Bucket: "*", Index: &idx, Targets: []string{"dry-run"}}},
		Targets: []Target{{Name: "dry-run", Provider: "log", BaseURL: "http://localhost"}},
	}
	c.fill()
	return c
}

// IsDefault reports whether c is the embedded defaults (no file).
func (c *Config) IsDefault() bool { return c.File == "" }

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and validates a configuration; file names it in errors. It
// reports every error in the file at once, as Errors sorted by place: YAML
// syntax, unknown fields, values of the wrong type and invalid settings
// alike. An empty document sets nothing: every field takes its default, and
// there are no sites, targets or mirrors.
func Parse(file string, data []byte) (*Config, error) {
	root, errs := parseYAML(file, data)
	c := &Config{}
	d := &decoder{file: file}
	if root != nil {
		d.value(root, reflect.ValueOf(c).Elem(), "")
	}
	c.File = file
	c.fill()
	if root != nil {
		errs = append(errs, d.errs...)
		errs = append(errs, c.validate(root, d)...)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, errs
	}
	return c, nil
}

// parseYAML returns the document's root node (nil when the document is
// empty or does not parse) and the errors of the YAML itself, positioned by
// the parser's own marks. A second document is an error: it would
// otherwise be silently ignored.
func parseYAML(file string, data []byte) (*yaml.Node, Errors) {
	l, err := yaml.NewLoader(bytes.NewReader(data))
	if err != nil {
		return nil, Errors{{File: file, Msg: err.Error()}}
	}
	var doc yaml.Node
	if err := l.Load(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxErrors(file, err)
	}
	var errs Errors
	var next yaml.Node
	switch err := l.Load(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		errs = syntaxErrors(file, err)
	default:
		errs = Errors{{File: file, Line: next.Line, Column: next.Column,
			Msg: "a second YAML document starts here; the configuration is one document: remove the --- and what follows, or merge it into the first"}}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, errs
	}
	return doc.Content[0], errs
}

// syntaxErrors turns the YAML library's errors into Errors, with the line and
// column of the parser's mark.
func syntaxErrors(file string, err error) Errors {
	var les *yaml.LoadErrors
	var le *yaml.LoadError
	switch {
	case errors.As(err, &les):
		errs := make(Errors, 0, len(les.Errors))
		for _, e := range les.Errors {
			errs = append(errs, syntaxError(file, e))
		}
		return errs
	case errors.As(err, &le):
		return Errors{syntaxError(file, le)}
	}
	return Errors{{File: file, Msg: "YAML: " + err.Error()}}
}

func syntaxError(file string, le *yaml.LoadError) *Error {
	msg := "YAML syntax: " + le.Message
	if le.Stage == yaml.ComposerStage {
		// The library's message quotes the alias, which may be a literal
		// secret that starts with *.
		msg = "YAML: an alias (*name) with no anchor (&name) before it; quote a value that starts with *"
	}
	if cm := le.ContextMark; le.ContextMsg != "" && cm.Line > 0 && cm != le.Mark {
		msg += fmt.Sprintf(" (%s at line %d, column %d)", le.ContextMsg, cm.Line, cm.Column)
	}
	return &Error{File: file, Line: le.Mark.Line, Column: le.Mark.Column, Msg: msg}
}

func (c *Config) fill() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.State.Driver == "" {
		c.State.Driver = "bolt"
	}
	if c.State.Path == "" {
		c.State.Path = "offload.db"
	}
	if c.State.Table == "" {
		c.State.Table = "offload"
	}
	c.fillInbox()
	if c.Auth.Rate == 0 {
		c.Auth.Rate = 10
	}
	if c.Auth.Burst == 0 {
		c.Auth.Burst = 20
	}
	if c.Batch.Window.Duration == 0 {
		c.Batch.Window.Duration = 500 * time.Millisecond
	}
	for i := range c.Mirrors {
		if c.Mirrors[i].Timeout.Duration == 0 {
			c.Mirrors[i].Timeout.Duration = DefaultTimeout
		}
	}
	for i := range c.Targets {
		t := &c.Targets[i]
		if t.Timeout.Duration == 0 && t.Provider != "log" {
			t.Timeout.Duration = DefaultTimeout
		}
		switch t.Provider {
		case "akamai":
			t.Network = cmpOr(t.Network, "production")
			t.Action = cmpOr(t.Action, "invalidate")
			t.Section = cmpOr(t.Section, "default")
		case "cloudflare":
			if t.URLsPerRequest == 0 {
				t.URLsPerRequest = 30
			}
			t.Plan = cmpOr(t.Plan, "free")
		case "varnish":
			t.Method = cmpOr(strings.ToUpper(t.Method), "PURGE")
		}
	}
}
