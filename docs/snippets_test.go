package docs_test

import (
	"bytes"
	"go/doc"
	"go/doc/comment"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docComments are the Go files whose package comment holds Go code that a
// reader copies, checked like the Markdown's.
var docComments = []string{"cache/doc.go"}

// TestGoSnippetsAreExamples fails when a Go snippet in README.md, docs/*.md
// or a package comment listed in docComments is not taken from an Example
// function: each snippet's lines must appear, in order and contiguous
// except where the snippet has a "..." line, in some example's code or in
// the program go doc makes of it (the example as func main). Examples are
// compiled by `go test` and `go vet`, so a snippet that passes builds.
func TestGoSnippetsAreExamples(t *testing.T) {
	examples := exampleSources(t)
	if len(examples) < 10 {
		t.Fatalf("got %d example sources, want the module's examples", len(examples))
	}
	var snippets []snippet
	mds, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{filepath.Join(root, "README.md")}, mds...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		snippets = append(snippets, markdownGo(f, string(b))...)
	}
	for _, f := range docComments {
		snippets = append(snippets, packageCommentGo(t, filepath.Join(root, f))...)
	}
	if len(snippets) == 0 {
		t.Fatal("got no Go snippets, want at least README's cache example")
	}
	for _, s := range snippets {
		found := false
		for _, src := range examples {
			if matchSnippet(s.code, src) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: this Go snippet is not in any Example function: write it as one (or fix it to match):\n%s", s.where, s.code)
		}
	}
	t.Logf("%d snippets, %d example sources", len(snippets), len(examples))
}

type snippet struct{ where, code string }

var goFence = regexp.MustCompile("(?ms)^```go\\n(.*?)^```")

func markdownGo(name, md string) []snippet {
	var out []snippet
	for _, m := range goFence.FindAllStringSubmatchIndex(md, -1) {
		line := strings.Count(md[:m[0]], "\n") + 1
		out = append(out, snippet{where: rel(name) + ":" + strconv.Itoa(line), code: md[m[2]:m[3]]})
	}
	return out
}

// rel names a file from the repository's top, as a reader finds it.
func rel(name string) string {
	if r, err := filepath.Rel(root, name); err == nil {
		return filepath.ToSlash(r)
	}
	return name
}

func packageCommentGo(t *testing.T, name string) []snippet {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatalf("%s: no package comment", name)
	}
	var out []snippet
	var p comment.Parser
	for _, b := range p.Parse(f.Doc.Text()).Content {
		if c, ok := b.(*comment.Code); ok {
			out = append(out, snippet{where: rel(name) + " (package comment)", code: c.Text})
		}
	}
	return out
}

// exampleSources returns the source of every Example function in the
// module's test files, and for each the program go doc shows for it.
func exampleSources(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, ex := range doc.Examples(f) {
			out = append(out, printNode(t, fset, &printer.CommentedNode{Node: ex.Code, Comments: ex.Comments}))
			if ex.Play != nil {
				out = append(out, printNode(t, fset, ex.Play))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func printNode(t *testing.T, fset *token.FileSet, n any) string {
	t.Helper()
	var b bytes.Buffer
	if err := format.Node(&b, fset, n); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// matchSnippet reports whether every line of snippet is in src: runs of
// lines between "..." lines each contiguous, the runs in order. Blank lines
// do not count, and runs of spaces and tabs compare as one space, so that
// indentation and gofmt's comment alignment do not matter.
func matchSnippet(snippet, src string) bool {
	have := codeLines(src)
	var runs [][]string
	cur := []string{}
	for _, l := range codeLines(snippet) {
		if l == "..." {
			runs, cur = append(runs, cur), []string{}
			continue
		}
		cur = append(cur, l)
	}
	runs = append(runs, cur)
	at := 0
	for _, run := range runs {
		if len(run) == 0 {
			continue
		}
		i := indexRun(have[at:], run)
		if i < 0 {
			return false
		}
		at += i + len(run)
	}
	return true
}

func indexRun(have, run []string) int {
	for i := 0; i+len(run) <= len(have); i++ {
		match := true
		for j := range run {
			if have[i+j] != run[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func codeLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestMatchSnippet(t *testing.T) {
	src := "func main() {\n\tc := cache.New(cache.Options{}) // max age 60s\n\tx := 1\n\n\ty := 2\n\tfmt.Println(x,   y)\n}\n"
	tests := []struct {
		name, snippet string
		want          bool
	}{
		{"the whole source", src, true},
		{"indented and aligned differently", "func main() {\n  c := cache.New(cache.Options{})   // max age 60s\n  x := 1\n  y := 2\n", true},
		{"with an elision", "func main() {\n\t...\n\tfmt.Println(x, y)\n}", true},
		{"a line left out without saying so", "func main() {\n\tx := 1\n", false},
		{"a line changed", "\tc := cache.New(cache.Options{MaxAge: 1})\n", false},
		{"lines out of order", "\ty := 2\n\t...\n\tx := 1\n", false},
		{"a line that is not there", "\tlambda.Start(handle)\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchSnippet(tt.snippet, src); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
