package apicheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// listed is what `go list -json` says of a package.
type listed struct {
	ImportPath string
	Name       string
	Export     string
	GoFiles    []string
	Module     *struct{ Path string }
	Error      *struct{ Err string }
}

// TestPublicAPINamesOnlyPublicTypes type-checks every non-internal,
// non-main package of the module from its export data and fails for each
// exported identifier whose signature names an unexported type of the
// module or a type of an internal package: code outside the module could
// not name it.
func TestPublicAPINamesOnlyPublicTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every package's export data")
	}
	pkgs, exports, module := list(t)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	checked := 0
	var problems []string
	for _, p := range pkgs {
		if p.Name == "main" || internal(p.ImportPath) || len(p.GoFiles) == 0 { // a test-only package has no API
			continue
		}
		tp, err := imp.Import(p.ImportPath)
		if err != nil {
			t.Fatalf("import %s: %v", p.ImportPath, err)
		}
		checked++
		problems = append(problems, Problems(tp, module)...)
	}
	if checked == 0 {
		t.Fatal("checked no package, want every public package of the module")
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// list runs `go list -export -deps` over the module and returns its own
// packages, every package's export data file, and the module's path.
func list(t *testing.T) ([]listed, map[string]string, string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	modBytes, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatalf("read go.mod: %v", err)
	}
	module := modulePath(string(modBytes))
	if module == "" {
		t.Fatal("go.mod names no module")
	}
	cmd := exec.Command(goTool(), "list", "-e", "-export", "-deps", "-json=ImportPath,Name,Export,GoFiles,Module,Error", "./...")
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var own []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		if p.Module != nil && p.Module.Path == module {
			own = append(own, p)
		}
	}
	slices.SortFunc(own, func(a, b listed) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return own, exports, module
}

func modulePath(gomod string) string {
	for _, line := range strings.Split(gomod, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// goTool is the go command of the toolchain running the test.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func internal(path string) bool {
	return strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")
}

// Problems returns a line for each place where an exported identifier of
// pkg names a type code outside module cannot name.
func Problems(pkg *types.Package, module string) []string {
	c := &checker{module: module}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		where := pkg.Path() + "." + name
		switch obj := obj.(type) {
		case *types.Func, *types.Var, *types.Const:
			c.typ(where, obj.Type())
		case *types.TypeName:
			c.typeName(where, obj)
		}
	}
	return c.problems
}

type checker struct {
	module   string
	problems []string
}

func (c *checker) typeName(where string, obj *types.TypeName) {
	if obj.IsAlias() {
		c.typ(where, types.Unalias(obj.Type()))
		return
	}
	named, ok := obj.Type().(*types.Named)
	if !ok {
		return
	}
	if tps := named.TypeParams(); tps != nil {
		for i := range tps.Len() {
			c.typ(where+" type parameter "+tps.At(i).Obj().Name(), tps.At(i).Constraint())
		}
	}
	switch u := named.Underlying().(type) {
	case *types.Struct:
		c.fields(where, u)
	case *types.Interface:
		for i := range u.NumMethods() {
			if m := u.Method(i); m.Exported() {
				c.typ(where+"."+m.Name(), m.Type())
			}
		}
	default:
		c.typ(where, u)
	}
	ms := types.NewMethodSet(types.NewPointer(named))
	for i := range ms.Len() {
		if m := ms.At(i).Obj(); m.Exported() {
			c.typ(where+"."+m.Name(), m.Type())
		}
	}
}

// fields checks a struct's exported fields, and those promoted from an
// unexported embedded struct.
func (c *checker) fields(where string, s *types.Struct) {
	for i := range s.NumFields() {
		f := s.Field(i)
		switch {
		case f.Exported():
			c.typ(where+"."+f.Name(), f.Type())
		case f.Embedded():
			if es, ok := deref(f.Type()).Underlying().(*types.Struct); ok {
				c.fields(where, es)
			}
		}
	}
}

func deref(t types.Type) types.Type {
	if p, ok := t.(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// typ checks every type t names.
func (c *checker) typ(where string, t types.Type) {
	switch t := t.(type) {
	case *types.Alias:
		c.typ(where, types.Unalias(t))
	case *types.Named:
		obj := t.Obj()
		if p := obj.Pkg(); p != nil {
			switch {
			case internal(p.Path()):
				c.problems = append(c.problems, fmt.Sprintf("%s names %s.%s, of an internal package", where, p.Path(), obj.Name()))
			case !obj.Exported() && (p.Path() == c.module || strings.HasPrefix(p.Path(), c.module+"/")):
				c.problems = append(c.problems, fmt.Sprintf("%s names %s.%s, which is unexported", where, p.Path(), obj.Name()))
			}
		}
		if args := t.TypeArgs(); args != nil {
			for i := range args.Len() {
				c.typ(where, args.At(i))
			}
		}
	case *types.Pointer:
		c.typ(where, t.Elem())
	case *types.Slice:
		c.typ(where, t.Elem())
	case *types.Array:
		c.typ(where, t.Elem())
	case *types.Map:
		c.typ(where, t.Key())
		c.typ(where, t.Elem())
	case *types.Chan:
		c.typ(where, t.Elem())
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				c.typ(where, tup.At(i).Type())
			}
		}
	case *types.Struct:
		c.fields(where, t)
	case *types.Interface:
		for i := range t.NumMethods() {
			if m := t.Method(i); m.Exported() {
				c.typ(where+"."+m.Name(), m.Type())
			}
		}
		for i := range t.NumEmbeddeds() {
			c.typ(where, t.EmbeddedType(i))
		}
	case *types.Union:
		for i := range t.Len() {
			c.typ(where, t.Term(i).Type())
		}
	case *types.TypeParam, *types.Basic, *types.Tuple, nil:
	}
}
