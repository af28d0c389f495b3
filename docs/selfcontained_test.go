// Package docs_test holds the tests that keep the repository's documents
// true: it stands alone, every Go snippet in the docs is an example that
// builds, and docs/json.md describes what `offload plan` and `offload apply`
// print.
package docs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository's top directory, seen from this package.
const root = ".."

// TestSelfContained fails when a tracked file refers to something outside
// the repository: the notes folder beside the checkout, a machine's own
// directories, or a relative path that climbs above the repository from the
// file's own directory. A clone anywhere else must build, test and read the
// same.
func TestSelfContained(t *testing.T) {
	files := repoFiles(t)
	// The list must hold the files every checkout has, or the scan below
	// could pass on nothing.
	for _, must := range []string{"README.md", "go.mod", "Makefile"} {
		if !slices.Contains(files, must) {
			t.Fatalf("files scanned: %d, without %s; want every file of the repository", len(files), must)
		}
	}
	scanned := 0
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // tracked but deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(data, 0) >= 0 {
			continue // binary: an image
		}
		scanned++
		for _, p := range outsideRefs(f, data) {
			t.Error(p)
		}
	}
	t.Logf("%d text files scanned", scanned)
}

// repoFiles lists the repository's files, slash-separated and relative to
// its top: the tracked ones in a git checkout, else every file in the tree,
// so that a copy without .git is checked too rather than skipped.
func repoFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err == nil {
		var files []string
		for f := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
			files = append(files, f)
		}
		return files
	}
	t.Logf("git ls-files: %v; not a git checkout, walking the tree instead", err)
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	// The sibling folder the project's notes live in; the regexp does not
	// hold the text it looks for, so this file passes its own test.
	sharedRef = regexp.MustCompile(`\.\./shared\b`)
	// A machine's own directories, as an absolute path (not inside a URL:
	// "https://host/home/" has a host before it).
	machinePath = regexp.MustCompile("(?:^|[\\s\"'`(=:,\\[])(/(?:work|home|root|Users)/[^\\s\"'`()]*)")
	// A relative path that starts by going up a directory, once or more.
	// Only a path that starts so counts (a test's "a/" + "../b" is data,
	// and "GET .../next" is prose).
	climbing = regexp.MustCompile("(?:^|[^A-Za-z0-9_.\\-/~])((?:\\.\\./)+[^\\s\"'`()<>\\[\\]{},;]*)")
)

// outsideRefs returns, for one file's text, a "file:line: ..." problem for
// every reference to a place outside the repository. A relative path is
// resolved from the file's own directory, which is where Go tests run and
// where a Markdown link starts.
func outsideRefs(name string, data []byte) []string {
	var out []string
	dir := path.Dir(name)
	for i, line := range strings.Split(string(data), "\n") {
		at := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("%s:%d: ", name, i+1)+fmt.Sprintf(format, args...))
		}
		if m := sharedRef.FindString(line); m != "" {
			at("refers to %s, a folder beside the repository; copy what is needed into it", m)
			continue
		}
		if m := machinePath.FindStringSubmatch(line); m != nil {
			at("refers to %s, a path on one machine", m[1])
			continue
		}
		for _, m := range climbing.FindAllStringSubmatch(line, -1) {
			if p := path.Join(dir, m[1]); p == ".." || strings.HasPrefix(p, "../") {
				at("%s climbs out of the repository (from %s/ it is %s)", m[1], dir, p)
			}
		}
	}
	return out
}

func TestOutsideRefs(t *testing.T) {
	// The cases are spelled with up, so that this file passes TestSelfContained.
	const up = ".." + "/"
	tests := []struct {
		name, file, text string
		want             int
	}{
		{"sibling folder in prose", "README.md", "The architecture is in `" + up + "shared/design.md`.", 1},
		{"sibling folder from a subdirectory", "deploy/README.md", "the schema is in `" + up + "shared/design.md`", 1},
		{"test reads a sibling checkout", "mirror/netstorage/x_test.go", `os.ReadFile("` + up + up + up + `other/vector.json")`, 1},
		{"markdown link out of the repository", "docs/a.md", "see [the notes](" + up + up + "notes.md)", 1},
		{"absolute path on a machine", "Makefile", "\tcp x " + "/" + "work/x", 1},
		{"home directory", "docs/a.md", "run `" + "/" + "home/me/offload/x`", 1},
		{"test reads the repository's testdata", "mirror/netstorage/x_test.go", `os.ReadFile("` + up + up + `testdata/akamai/v.json")`, 0},
		{"markdown link inside", "docs/a.md", "see [the README](" + up + "README.md) and ![x](dashboard.png)", 0},
		{"an escaping key as test data", "mirror/s3mirror/x_test.go", `[]string{"` + up + `x", "/abs", "a/` + up + up + `b"}`, 0},
		{"prose with an ellipsis", "internal/lambdatest/runtime.go", "// GET .../next", 0},
		{"a URL with a home path", "README.md", "https://example.com/home/x", 0},
		{"template next to the build output", "deploy/template.yaml", "CodeUri: " + up + "dist/offload-lambda.zip", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outsideRefs(tt.file, []byte(tt.text))
			if len(got) != tt.want {
				t.Errorf("got %d problems %q, want %d", len(got), got, tt.want)
			}
		})
	}
}
