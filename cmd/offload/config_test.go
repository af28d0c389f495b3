//go:build !offload_lambda

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offload-dev/offload/config"
)

func TestConfigCheckSummarizes(t *testing.T) {
	full, err := filepath.Abs("testdata/check.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := offload(t, "", "config", "check", "--config", full)
	if code != exitOK || errs != "" {
		t.Fatalf("got exit %d, stderr %q; want exit 0 and nothing on stderr", code, errs)
	}
	lines := strings.Split(out, "\n")
	row := func(first string) []string {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == first {
				return f
			}
		}
		t.Errorf("no line for %s in:\n%s", first, out)
		return nil
	}
	if !strings.HasPrefix(out, full+": valid; 1 site, 5 targets, 2 mirrors\n") {
		t.Errorf("first line: got %q, want the file and the counts", lines[0])
	}
	// name, bucket, prefix, targets, mirrors
	if got, want := strings.Join(row("www"), " "), "www my-site public/ cf, edge ns"; got != want {
		t.Errorf("site: got %q, want %q", got, want)
	}
	for _, tt := range []struct{ name, provider, purges string }{
		{"cf", "cloudfront", "E8F6HK73EP0LT"},
		{"ak", "akamai", "https://www.example.com on production"},
		{"fy", "fastly", "SU1Z0isxPaozGVKXdv0eY"},
		{"cfl", "cloudflare", "023e105f4ecef8ad9ca31a8372d0c353"},
		{"edge", "varnish", "http://127.0.0.1:6081, Host www.example.com"},
	} {
		r := row(tt.name)
		if len(r) < 3 || r[1] != tt.provider || !strings.Contains(strings.Join(r[2:], " "), tt.purges) {
			t.Errorf("target %s: got %q, want provider %s and %q", tt.name, r, tt.provider, tt.purges)
		}
	}
	for _, tt := range []struct{ name, provider, to string }{
		{"ns", "netstorage", "example-nsu.akamaihd.net, CP code 123456, /site"},
		{"copy", "s3", "s3://my-site-mirror/"},
	} {
		r := row(tt.name)
		if len(r) < 3 || r[1] != tt.provider || !strings.Contains(strings.Join(r[2:], " "), tt.to) {
			t.Errorf("mirror %s: got %q, want provider %s and %q", tt.name, r, tt.provider, tt.to)
		}
	}
	if strings.Contains(out, "env:OFFLOAD_TOKEN") || strings.Contains(out, "secretsmanager:") {
		t.Errorf("the summary shows secret references; it should count them:\n%s", out)
	}
}

// Every mistake in the file is printed, one a line, on stderr; exit 2.
func TestConfigCheckPrintsEveryError(t *testing.T) {
	bad := writeFile(t, "bad.yaml", `sites:
  - name: www
    targets: [nope]
targets:
  - {name: cf, provider: cloudfront}
`)
	code, out, errs := offload(t, "", "config", "check", "--config", bad)
	if code != exitUsage || out != "" {
		t.Fatalf("got exit %d, stdout %q; want exit 2 and nothing on stdout", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) < 3 {
		t.Fatalf("got %d lines on stderr, want one for each of the 3 mistakes:\n%s", len(lines), errs)
	}
	// bucket missing, no target "nope", distribution_id missing: each on a line of its own.
	for _, want := range []string{"bucket", `"nope"`, "distribution_id"} {
		if !strings.Contains(errs, want) {
			t.Errorf("no line names %s:\n%s", want, errs)
		}
	}
	for _, l := range lines {
		if !strings.Contains(l, "bad.yaml") {
			t.Errorf("line %q does not name the file", l)
		}
	}

	code, out, errs = offload(t, "", "config", "check", "--config", "no-such.yaml")
	if code != exitUsage || out != "" || !strings.Contains(errs, "no-such.yaml") {
		t.Errorf("missing file: got exit %d, stdout %q, stderr %q; want exit 2 and the file named on stderr", code, out, errs)
	}
}

// A literal token where a secret reference belongs is refused, and no
// part of it is printed (it was echoed up to its first colon).
func TestConfigCheckShowsNoLiteralToken(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "targets:\n  - {name: f, provider: fastly, service_id: s, base_url: https://x.com, token: fySECRETtok:abc}\n")
	code, out, errs := offload(t, "", "config", "check", "--config", bad)
	if code != exitUsage || !strings.Contains(errs, "targets[0].token") {
		t.Fatalf("got exit %d, stderr %q; want exit 2 naming targets[0].token", code, errs)
	}
	for _, part := range []string{"fySE", "SECRET", "ETtok", "tok:", ":abc"} {
		if strings.Contains(out+errs, part) {
			t.Errorf("got %q, which shows %q of the token", out+errs, part)
		}
	}
}

// The configuration comes from --config, else $OFFLOAD_CONFIG, else the
// embedded defaults, for every command (loadConfig); config check shows
// which it read.
func TestConfigLookup(t *testing.T) {
	flagFile := writeFile(t, "flag.yaml", "listen: 127.0.0.1:1111\n")
	envFile := writeFile(t, "env.yaml", "listen: 127.0.0.1:2222\n")
	for _, tt := range []struct {
		name, env string
		args      []string
		want      string
	}{
		{"flag over variable", envFile, []string{"--config", flagFile}, flagFile + ": valid"},
		{"variable", envFile, nil, envFile + ": valid"},
		{"neither", "", nil, "the embedded defaults: valid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OFFLOAD_CONFIG", tt.env)
			code, out, errs := offload(t, "", append([]string{"config", "check"}, tt.args...)...)
			if code != exitOK || !strings.HasPrefix(out, tt.want) {
				t.Errorf("got exit %d, %q (stderr %q); want exit 0 and %q first", code, out, errs, tt.want)
			}
		})
	}
}

// config example prints a configuration that parses, and that config
// check accepts.
func TestConfigExample(t *testing.T) {
	code, out, errs := offload(t, "", "config", "example")
	if code != exitOK || errs != "" || out == "" {
		t.Fatalf("got exit %d, stderr %q, %d bytes on stdout; want exit 0 and the example", code, errs, len(out))
	}
	if _, err := config.Parse("example", []byte(out)); err != nil {
		t.Fatalf("the example does not parse: %v", err)
	}
	file := filepath.Join(t.TempDir(), "offload.yaml")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := offload(t, "", "config", "check", "--config", file); code != exitOK {
		t.Errorf("config check of the example: got exit %d, %s; want 0", code, errs)
	}
}
