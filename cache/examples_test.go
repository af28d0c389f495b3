package cache_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The examples of the cache and its sources read right on pkg.go.dev: an
// Example names only exported identifiers, never a helper of its test
// package nor an internal package, which a reader could not call.
func TestExamplesUseOnlyExportedNames(t *testing.T) {
	t.Run("the checker", func(t *testing.T) {
		got := exampleProblems(parseFiles(t, map[string]string{"a_test.go": `package p_test

import (
	"fmt"
	"example.com/m/internal/awstest"
)

var server string

func helper() string { return "" }

func ExampleGood() {
	server := func() string { return "" } // a local of the same name
	fmt.Println(server(), fmt.Sprint(1))
}

func ExampleBad() {
	fmt.Println(helper(), server, awstest.URL)
}
`}))
		want := []string{
			"a_test.go: ExampleBad uses helper",
			"a_test.go: ExampleBad uses server",
			"a_test.go: ExampleBad uses internal package awstest",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})

	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() != "testdata" {
			dirs = append(dirs, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	examples := 0
	for _, dir := range dirs {
		srcs := map[string]string{}
		names, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			srcs[name] = string(b)
			examples += strings.Count(string(b), "\nfunc Example")
		}
		for _, p := range exampleProblems(parseFiles(t, srcs)) {
			t.Error(p)
		}
	}
	if examples < 20 {
		t.Fatalf("found %d examples under cache/; the walk missed some", examples)
	}
}

func parseFiles(t *testing.T, srcs map[string]string) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range slices.Sorted(maps.Keys(srcs)) {
		f, err := parser.ParseFile(fset, name, srcs[name], 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// exampleProblems reports each unexported package-level name of the files'
// package, and each internal package, that an Example uses.
func exampleProblems(fset *token.FileSet, files []*ast.File) []string {
	helpers := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					helpers[d.Name.Name] = !ast.IsExported(d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							helpers[n.Name] = !ast.IsExported(n.Name)
						}
					case *ast.TypeSpec:
						helpers[s.Name.Name] = !ast.IsExported(s.Name.Name)
					}
				}
			}
		}
	}
	var problems []string
	for _, f := range files {
		file := fset.Position(f.Pos()).Filename
		internal := map[string]bool{}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.Contains(path, "/internal/") {
				name := filepath.Base(path)
				if imp.Name != nil {
					name = imp.Name.Name
				}
				internal[name] = true
			}
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Example") {
				continue
			}
			// An identifier the parser did not resolve, or resolved to a
			// declaration outside the example, is a package-level one.
			outside := func(id *ast.Ident) bool {
				return id.Obj == nil || id.Obj.Pos() < fn.Body.Pos() || id.Obj.Pos() > fn.Body.End()
			}
			var visit func(n ast.Node) bool
			visit = func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && internal[x.Name] && outside(x) {
						problems = append(problems, fmt.Sprintf("%s: %s uses internal package %s", file, fn.Name.Name, x.Name))
						return false
					}
					ast.Inspect(n.X, visit) // not n.Sel: a field or method name
					return false
				case *ast.KeyValueExpr:
					if _, ok := n.Key.(*ast.Ident); ok { // a field name
						ast.Inspect(n.Value, visit)
						return false
					}
				case *ast.Ident:
					if helpers[n.Name] && outside(n) {
						problems = append(problems, fmt.Sprintf("%s: %s uses %s", file, fn.Name.Name, n.Name))
					}
				}
				return true
			}
			ast.Inspect(fn.Body, visit)
		}
	}
	return problems
}
