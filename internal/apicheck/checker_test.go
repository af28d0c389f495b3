package apicheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"testing"
)

// The checker itself, on a package made to break the rule in every place
// an exported identifier can, and to keep it in the places it may.
func TestProblemsFindsEveryKind(t *testing.T) {
	fset := token.NewFileSet()
	check := func(path, src string, imp types.Importer) *types.Package {
		f, err := parser.ParseFile(fset, path+".go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		pkg, err := (&types.Config{Importer: imp}).Check(path, fset, []*ast.File{f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return pkg
	}
	internalPkg := check("example.com/m/internal/x", "package x\ntype T int\n", nil)
	pkg := check("example.com/m/p", `package p

import "example.com/m/internal/x"

type hidden int

func F(hidden)            {}
func G() *x.T             { return nil }
func H() Gen[hidden]      { return Gen[hidden]{} }
func OK(int) (string, error) { return "", nil }

type S struct {
	A []hidden
	b hidden
	E
}
type E struct{ X map[string]x.T }
type I interface{ M() chan hidden }
type O func(*hidden)
type Gen[T any] struct{}
type A = hidden
type emb struct{ P hidden }
type W struct{ emb }

type Fine struct {
	A int
	b hidden
}

func (Fine) Ok() int          { return 0 }
func (*Fine) Bad() hidden     { return 0 }
func (Fine) unexported() hidden { return 0 }

var V func() hidden
var ok hidden

const C hidden = 1
`, importerFunc(func(path string) (*types.Package, error) {
		if path == internalPkg.Path() {
			return internalPkg, nil
		}
		return nil, fmt.Errorf("no package %s", path)
	}))

	got := Problems(pkg, "example.com/m")
	want := []string{
		"example.com/m/p.A names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.C names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.E.X names example.com/m/internal/x.T, of an internal package",
		"example.com/m/p.F names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.Fine.Bad names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.G names example.com/m/internal/x.T, of an internal package",
		"example.com/m/p.H names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.I.M names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.O names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.S.A names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.V names example.com/m/p.hidden, which is unexported",
		"example.com/m/p.W.P names example.com/m/p.hidden, which is unexported",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got problems:\n%q\nwant:\n%q", got, want)
	}
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
