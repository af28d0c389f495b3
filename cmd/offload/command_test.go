//go:build !offload_lambda

package main

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/cache"
)

// commandPaths lists every command and subcommand, the top level first
// (nil), so a new command is tested without being named here.
func commandPaths() [][]string {
	var paths [][]string
	var walk func(c *command, path []string)
	walk = func(c *command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.subs {
			walk(sub, append(slices.Clone(path), sub.name))
		}
	}
	walk(newRootCmd(), nil)
	return paths
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, path := range commandPaths() {
		name := strings.Join(append([]string{"offload"}, path...), " ")
		c := newRootCmd()
		for _, p := range path {
			c = c.find(p)
		}
		for _, args := range [][]string{
			append(slices.Clone(path), "--help"),
			append(slices.Clone(path), "-h"),
			append(slices.Clone(path), "-help"),
			append([]string{"help"}, path...),
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errs := offload(t, "", args...)
				if code != exitOK || errs != "" {
					t.Fatalf("got exit %d, stderr %q; want exit 0 and nothing on stderr", code, errs)
				}
				if want := "Usage:\n  " + name; !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
				for _, sub := range c.subs {
					if !strings.Contains(out, "\n  "+sub.name+" ") {
						t.Errorf("stdout does not list the command %s:\n%s", sub.name, out)
					}
				}
				for _, sec := range c.flags {
					sec.fs.VisitAll(func(f *flag.Flag) {
						if !strings.Contains(out, "--"+f.Name+" ") {
							t.Errorf("stdout does not list --%s:\n%s", f.Name, out)
						}
					})
				}
			})
		}
	}
}

func TestBadFlagOnEveryCommand(t *testing.T) {
	for _, path := range commandPaths() {
		name := strings.Join(append([]string{"offload"}, path...), " ")
		for _, flag := range []string{"--no-such-flag", "-no-such-flag"} {
			args := append(slices.Clone(path), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errs := offload(t, "", args...)
				if code != exitUsage || out != "" {
					t.Fatalf("got exit %d, stdout %q; want exit 2 and nothing on stdout", code, out)
				}
				want := name + ": unknown flag " + flag + "\nRun '" + name + " --help'.\n"
				if errs != want {
					t.Errorf("stderr: got %q, want %q", errs, want)
				}
			})
		}
	}
}

// Help flags anywhere among a command's arguments ask for help.
func TestHelpAmongArguments(t *testing.T) {
	for _, args := range [][]string{
		{"purge", "--target", "cf", "/x", "--help"},
		{"plan", "--events", "x.json", "-h"},
		{"config", "check", "--config", "x.yaml", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errs := offload(t, "", args...)
			if code != exitOK || errs != "" || !strings.Contains(out, "Usage:\n  offload "+args[0]) {
				t.Errorf("got exit %d, stderr %q, stdout %q; want exit 0 and the usage on stdout", code, errs, out)
			}
		})
	}
}

// Every mistake on the command line: a short message and a hint on
// stderr, nothing on stdout, exit 2.
func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `offload: unknown command "frobnicate" for offload (its commands: serve, plan,`},
		{[]string{"config"}, "Usage:\n  offload config <command>"},
		{[]string{"config", "chek"}, `offload config: unknown command "chek" for offload config (its commands: check, example)`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "config", "chek"}, `unknown command "chek" for offload config`},
		{[]string{"serve", "now"}, `offload serve: unexpected argument "now"`},
		{[]string{"serve", "--listen"}, "offload serve: --listen needs a value"},
		{[]string{"serve", "---listen", "x"}, "offload serve: bad flag syntax: ---listen"},
		{[]string{"version", "now"}, `offload version: unexpected argument "now"`},
		{[]string{"plan"}, "offload plan: --events is required"},
		{[]string{"apply", "--config=x.yaml"}, "offload apply: --events is required"},
		{[]string{"backfill"}, "offload backfill: --site is required"},
		{[]string{"backfill", "--site", "www", "--concurrency", "0"}, "offload backfill: --concurrency must be 1 or more"},
		{[]string{"backfill", "--site", "www", "--concurrency", "many"}, `offload backfill: invalid value "many" for --concurrency: want a whole number`},
		{[]string{"purge", "--timeout", "soon", "--target", "dry-run", "/x"}, `offload purge: invalid value "soon" for --timeout: want a duration`},
		{[]string{"purge", "--wait=perhaps", "--target", "dry-run", "/x"}, `offload purge: invalid value "perhaps" for --wait: want true or false`},
		{[]string{"config", "check", "extra"}, `offload config check: unexpected argument "extra"`},
		{[]string{"config", "example", "--config", "x.yaml"}, "offload config example: unknown flag --config"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := offload(t, "", tt.args...)
			if code != exitUsage || out != "" {
				t.Fatalf("got exit %d, stdout %q; want exit 2 and nothing on stdout", code, out)
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr: got %q, want %q in it", errs, tt.want)
			}
			if !regexp.MustCompile(`(?m)^Run 'offload[a-z ]*--help'\.$`).MatchString(errs) && !strings.Contains(errs, "Usage:") {
				t.Errorf("stderr: got %q, want a hint to run --help", errs)
			}
		})
	}
}

// offload with nothing: the usage, on stderr, and exit 2; offload --help
// (as in offload --help | less): the same on stdout, and exit 0.
func TestTopLevelUsage(t *testing.T) {
	code, out, usage := offload(t, "")
	if code != exitUsage || out != "" || !strings.Contains(usage, "Usage:\n  offload <command>") {
		t.Fatalf("no command: got exit %d, stdout %q, stderr %q; want exit 2 and the usage on stderr", code, out, usage)
	}
	code, help, errs := offload(t, "", "--help")
	if code != exitOK || errs != "" {
		t.Fatalf("--help: got exit %d, stderr %q; want exit 0 and nothing on stderr", code, errs)
	}
	if help != usage {
		t.Errorf("--help: got %q on stdout, want what offload alone prints: %q", help, usage)
	}
}

func TestVersionHelpIsNotTheVersion(t *testing.T) {
	code, out, _ := offload(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "offload "+version+" (commit ") {
		t.Fatalf("version: got exit %d, %q; want exit 0 and the version", code, out)
	}
	_, help, _ := offload(t, "", "version", "--help")
	if strings.Contains(help, out) || !strings.Contains(help, "Usage:\n  offload version") {
		t.Errorf("version --help: got %q, want the help, not the version", help)
	}
}

// The top-level help names the exit codes, where the configuration is
// found, and every environment variable the command reads: the ones named
// in its code, and those the AWS SDK and the cache read for it.
func TestRootHelpNamesEveryVariable(t *testing.T) {
	_, help, _ := offload(t, "", "--help")
	for _, want := range []string{
		"0  ok", "1  some work failed", "2  bad usage or configuration",
		"--config F, else $OFFLOAD_CONFIG, else the embedded defaults",
		"offload config example", "offload config check",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	vars := append(envNamesInCode(t, func(f string) bool { return f != lambdaAWSEnvFile }),
		cache.MaxAgeEnv, "POWERTOOLS_PARAMETERS_MAX_AGE",
		"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_PROFILE", "AKAMAI_HOST")
	if !slices.Contains(vars, "AWS_LAMBDA_RUNTIME_API") || !slices.Contains(vars, "OFFLOAD_S3_PATH_STYLE") {
		t.Fatalf("found %q in the code; the scan misses variables", vars)
	}
	for _, v := range vars {
		if !regexp.MustCompile(`\b` + v + `\b`).MatchString(help) {
			t.Errorf("help does not name the environment variable %s", v)
		}
	}
}

// lambdaAWSEnvFile holds the AWS SDK's settings as the Lambda-only build
// reads them: they are not the commands' to name in their help, and
// TestLambdaAWSEnvDocumented checks that docs/configuration.md names them.
const lambdaAWSEnvFile = "awsenv.go"

// TestLambdaAWSEnvDocumented checks that every variable the Lambda-only
// build's AWS configuration reads or refuses is named in
// docs/configuration.md's section on it.
func TestLambdaAWSEnvDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	_, section, ok := strings.Cut(doc, "### AWS settings of the Lambda bootstrap")
	if !ok {
		t.Fatal("docs/configuration.md has no section \"AWS settings of the Lambda bootstrap\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	vars := envNamesInCode(t, func(f string) bool { return f == lambdaAWSEnvFile })
	if !slices.Contains(vars, "AWS_CONTAINER_CREDENTIALS_FULL_URI") || !slices.Contains(vars, "AWS_PROFILE") {
		t.Fatalf("found %q in %s; the scan misses variables", vars, lambdaAWSEnvFile)
	}
	for _, v := range vars {
		// The S3 settings are named together, as AWS_S3_*; the checksum,
		// compression, clock-skew and auth-scheme ones by what they set.
		if strings.HasPrefix(v, "AWS_S3_") && strings.Contains(section, "`AWS_S3_*`") {
			continue
		}
		if strings.Contains(v, "CHECKSUM") || strings.Contains(v, "COMPRESSION") || strings.Contains(v, "CLOCK_SKEW") || strings.Contains(v, "AUTH_SCHEME") {
			continue
		}
		if !strings.Contains(section, "`"+v+"`") && !strings.Contains(section, "`"+v+"<SERVICE>`") {
			t.Errorf("docs/configuration.md's Lambda AWS settings do not name %s", v)
		}
	}
}

// envNamesInCode returns the string constants in this command's non-test
// code, in the files keep accepts, that name environment variables.
func envNamesInCode(t *testing.T, keep func(file string) bool) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^(OFFLOAD|AWS|AKAMAI)_[A-Z0-9_]+$`)
	var names []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || !keep(f) {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && name.MatchString(s) && !slices.Contains(names, s) {
					names = append(names, s)
				}
			}
			return true
		})
	}
	return names
}

func TestParseFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		str     string
		wait    bool
		every   time.Duration
		list    []string
		pos     []string
		wantErr string
	}{
		{args: []string{"--name", "a", "/x", "--wait", "/y"}, str: "a", wait: true, pos: []string{"/x", "/y"}},
		{args: []string{"-name=a", "-wait=false", "-"}, str: "a", pos: []string{"-"}},
		{args: []string{"/x", "--", "--wait"}, pos: []string{"/x", "--wait"}},
		{args: []string{"--every", "2s", "--list", "a", "--list=b"}, every: 2 * time.Second, list: []string{"a", "b"}},
		{args: []string{"--name", "--wait"}, str: "--wait"}, // a value may start with -
		{args: []string{"/x", "-h"}, wantErr: flag.ErrHelp.Error()},
		{args: []string{"--help", "--bogus"}, wantErr: flag.ErrHelp.Error()},
		{args: []string{"--bogus=1"}, wantErr: "unknown flag --bogus"},
		{args: []string{"-bogus"}, wantErr: "unknown flag -bogus"},
		{args: []string{"--name"}, wantErr: "--name needs a value"},
		{args: []string{"-every", "soon"}, wantErr: `invalid value "soon" for -every: want a duration such as 30s or 5m`},
		{args: []string{"--="}, wantErr: "bad flag syntax: --="},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := newFlagSet()
			str := fs.String("name", "", "")
			wait := fs.Bool("wait", false, "")
			more := newFlagSet()
			every := more.Duration("every", 0, "")
			var list stringList
			more.Var(&list, "list", "")
			pos, err := parseFlags([]flagSection{{"Flags", fs}, {"More", more}}, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error: got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *str != tt.str || *wait != tt.wait || *every != tt.every || !slices.Equal(list, tt.list) || !slices.Equal(pos, tt.pos) {
				t.Errorf("got name %q, wait %v, every %v, list %q, arguments %q; want %q, %v, %v, %q, %q",
					*str, *wait, *every, list, pos, tt.str, tt.wait, tt.every, tt.list, tt.pos)
			}
		})
	}
}
