package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const docPath = "../docs/configuration.md"

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every field of the configuration is documented, by its full path.
func TestDocNamesEveryField(t *testing.T) {
	doc := readDoc(t)
	for _, p := range fieldPaths() {
		if !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("%s does not document `%s`", docPath, p)
		}
	}
}

// The routes a scoped token may name are listed, all of them, in the
// order of APIRoutes.
func TestDocNamesEveryRoute(t *testing.T) {
	var line string
	for l := range strings.Lines(readDoc(t)) {
		if strings.HasPrefix(l, "| `auth.scoped_tokens[].routes` |") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("%s has no row for auth.scoped_tokens[].routes", docPath)
	}
	var got []string
	for _, m := range regexp.MustCompile("`([A-Z]+ /[^`]*)`").FindAllStringSubmatch(line, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, APIRoutes) {
		t.Errorf("%s lists routes %q, want %q", docPath, got, APIRoutes)
	}
}

// Every YAML block of the document is a valid configuration; one of them
// is the complete example, as embedded, and one the embedded defaults.
func TestDocYAMLParses(t *testing.T) {
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(readDoc(t), -1)
	if len(blocks) == 0 {
		t.Fatalf("%s has no yaml blocks", docPath)
	}
	example, defaults := false, false
	for i, b := range blocks {
		c, err := Parse(docPath+" block "+strconv.Itoa(i+1), []byte(b[1]))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		example = example || b[1] == string(exampleYAML)
		c.File = ""
		defaults = defaults || reflect.DeepEqual(c, Default())
	}
	if !example {
		t.Errorf("%s does not hold config/example.yaml verbatim in a yaml block", docPath)
	}
	if !defaults {
		t.Errorf("%s has no yaml block equal to the embedded defaults (config.Default)", docPath)
	}
}

// Not scanned for environment variables: internal/ holds test helpers,
// whose variables pass settings to the processes they start; bench/ is the
// benchmark harness, whose variables do the same for its own child
// processes (and name where a chart goes). Neither is part of running
// offload.
var envScanSkip = []string{"internal", "bench", "testdata"}

// Reads of the environment whose name is not in the code: the name comes
// from the configuration.
var envDynamic = []string{
	"config/secret.go: ref.name", // a secret reference env:NAME
}

// Every environment variable the code reads is documented.
func TestDocNamesEveryEnvironmentVariable(t *testing.T) {
	doc := readDoc(t)
	names, dynamic := envReads(t, "..")
	for _, want := range []string{"OFFLOAD_CONFIG_SSM", "OFFLOAD_CACHE_MAX_AGE", "POWERTOOLS_PARAMETERS_MAX_AGE", "AWS_LAMBDA_LOG_LEVEL"} {
		if !slices.Contains(names, want) {
			t.Errorf("the scan did not find %s; found %v", want, names)
		}
	}
	for _, n := range names {
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("%s does not document the environment variable `%s`", docPath, n)
		}
	}
	for _, d := range dynamic {
		if !slices.Contains(envDynamic, d) {
			t.Errorf("%s reads an environment variable whose name the scan cannot tell; name it in the code (a string constant) or add it to envDynamic", d)
		}
	}
}

// envReads returns the names of the environment variables read by
// os.Getenv and os.LookupEnv in the module's non-test Go files under root,
// and the reads whose name it cannot tell ("file: expr"). A name is a
// string literal, a string constant of the package, or a range variable
// over a list of those.
func envReads(t *testing.T, root string) (names, dynamic []string) {
	t.Helper()
	pkgs := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || slices.Contains(envScanSkip, d.Name())) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, files := range pkgs {
		consts := map[string]string{}
		for _, f := range files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if s, ok := stringLit(vs.Values[i]); ok {
								consts[n.Name] = s
							}
						}
					}
				}
			}
		}
		resolve := func(e ast.Expr) (string, bool) {
			if s, ok := stringLit(e); ok {
				return s, true
			}
			if id, ok := e.(*ast.Ident); ok {
				s, ok := consts[id.Name]
				return s, ok
			}
			return "", false
		}
		for _, f := range files {
			ranged := map[string][]string{} // range variable: the names it takes
			ast.Inspect(f, func(n ast.Node) bool {
				if rs, ok := n.(*ast.RangeStmt); ok {
					if v, ok := rs.Value.(*ast.Ident); ok {
						if cl, ok := rs.X.(*ast.CompositeLit); ok {
							for _, elt := range cl.Elts {
								if s, ok := resolve(elt); ok {
									ranged[v.Name] = append(ranged[v.Name], s)
								}
							}
						}
					}
				}
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv") {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "os" {
					return true
				}
				var found []string
				if s, ok := resolve(call.Args[0]); ok {
					found = []string{s}
				} else if id, ok := call.Args[0].(*ast.Ident); ok {
					found = ranged[id.Name]
				}
				if len(found) == 0 {
					rel, _ := filepath.Rel(root, fset.Position(call.Pos()).Filename)
					dynamic = append(dynamic, filepath.ToSlash(rel)+": "+exprString(call.Args[0]))
				}
				for _, s := range found {
					if !seen[s] {
						seen[s] = true
						names = append(names, s)
					}
				}
				return true
			})
		}
	}
	slices.Sort(names)
	return names, dynamic
}

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return "?"
}
