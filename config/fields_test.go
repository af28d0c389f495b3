package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// fieldPaths returns the path of every field of Config by its yaml tags,
// with [] for a list's items: "auth.scoped_tokens[].token",
// "targets[].distribution_id".
func fieldPaths() []string {
	var paths []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		names, index := fieldsOf(t)
		for _, name := range names {
			path := join(prefix, name)
			paths = append(paths, path)
			ft := t.Field(index[name]).Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				walk(ft.Elem(), path+"[]")
			} else if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(textUnmarshaler) {
				walk(ft, path)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return paths
}

// nodePaths returns the path of every field set in n, in fieldPaths' form.
func nodePaths(n *yaml.Node, prefix string, into map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			path := join(prefix, n.Content[i].Value)
			into[path] = true
			nodePaths(n.Content[i+1], path, into)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			nodePaths(item, prefix+"[]", into)
		}
	}
}

func TestFieldPaths(t *testing.T) {
	paths := fieldPaths()
	for _, want := range []string{"listen", "auth.scoped_tokens[].burst", "batch.window", "sites[].purge_new", "targets[].distribution_id", "mirrors[].path_style"} {
		if !slices.Contains(paths, want) {
			t.Errorf("fieldPaths: %s is missing from %v", want, paths)
		}
	}
	for _, p := range paths {
		if strings.Contains(p, "Duration") || strings.HasPrefix(p, "file") {
			t.Errorf("fieldPaths: got %s, which is not a yaml field", p)
		}
	}
}

// The example sets every field there is, so that it shows them all.
func TestExampleSetsEveryField(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Load(exampleYAML, &doc); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	nodePaths(doc.Content[0], "", set)
	for _, p := range fieldPaths() {
		if !set[p] {
			t.Errorf("example.yaml does not set %s", p)
		}
	}
}
