package apicheck

import (
	"fmt"
	"go/ast"
	"go/doc"
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

// Every package's examples read right on pkg.go.dev: an Example names only
// exported identifiers, never a helper of its test package nor an internal
// package, which a reader could not call. Whatever an example needs that a
// user would have (a server, credentials) its TestMain puts where the
// user's code would find it: the environment, ~/.edgerc.
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
`, "b_test.go": `package p_test

import (
	"fmt"
	"example.com/m/internal/awstest"
)

// shown on pkg.go.dev with the example, as the file is shown whole
type printer struct{}

func (printer) Print() { fmt.Println(helper(), awstest.URL) }

func ExampleWhole() {
	printer{}.Print()
}
`}))
		want := []string{
			"a_test.go: ExampleBad uses helper",
			"a_test.go: ExampleBad uses server",
			"a_test.go: ExampleBad uses internal package awstest",
			"b_test.go: ExampleWhole uses helper",
			"b_test.go: ExampleWhole uses internal package awstest",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})

	root := filepath.Join("..", "..")
	if !fileExists(filepath.Join(root, "go.mod")) {
		t.Fatalf("no go.mod in %s: the test runs from internal/apicheck", root)
	}
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		switch {
		case path == root:
		case name == "testdata" || name == "internal" || strings.HasPrefix(name, ".") || fileExists(filepath.Join(path, "go.mod")):
			return filepath.SkipDir // not read on pkg.go.dev as this module's
		}
		dirs = append(dirs, path)
		return nil
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
	if examples < 50 {
		t.Fatalf("found %d examples in the module; the walk missed some", examples)
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
		internalPkgs := map[string]bool{}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.Contains(path, "/internal/") {
				name := filepath.Base(path)
				if imp.Name != nil {
					name = imp.Name.Name
				}
				internalPkgs[name] = true
			}
		}
		// A file with one Example, other declarations and no tests is shown
		// whole on pkg.go.dev: what it declares, the reader sees.
		whole := false
		if exs := doc.Examples(f); len(exs) == 1 {
			_, whole = exs[0].Code.(*ast.File)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Example") {
				continue
			}
			// An identifier the parser did not resolve is declared in
			// another file of the package; one resolved to a declaration
			// outside the example is in this file, which the reader sees
			// only when it is shown whole.
			outside := func(id *ast.Ident) bool {
				if whole {
					return id.Obj == nil
				}
				return id.Obj == nil || id.Obj.Pos() < fn.Body.Pos() || id.Obj.Pos() > fn.Body.End()
			}
			var visit func(n ast.Node) bool
			visit = func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && internalPkgs[x.Name] && outside(x) {
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
			if !whole {
				ast.Inspect(fn.Body, visit)
				continue
			}
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); !ok || g.Tok != token.IMPORT {
					ast.Inspect(d, visit)
				}
			}
		}
	}
	return problems
}
