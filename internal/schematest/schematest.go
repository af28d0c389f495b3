// Package schematest checks the JSON that `offload plan` and `offload apply`
// print against the JSON Schemas in docs/ (plan.schema.json,
// result.schema.json), and reads those schemas as the objects, fields and
// enumerations that docs/json.md must describe. The validator is
// santhosh-tekuri/jsonschema, which implements draft 2020-12 in full (the
// schemas use $ref with unevaluatedProperties to extend an object).
package schematest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Roots names each schema file by the document it describes.
var Roots = map[string]string{"plan": "plan.schema.json", "result": "result.schema.json"}

// Schemas are the output schemas, compiled and as raw JSON.
type Schemas struct {
	compiled map[string]*jsonschema.Schema // by root name
	raw      map[string]map[string]any     // by file name
	defs     map[string]node               // every $def and root, by name
}

type node struct {
	file string
	v    map[string]any
}

// Load compiles the schemas in dir (the repository's docs/). Formats such as
// date-time are asserted, not only annotated.
func Load(dir string) (*Schemas, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Schemas{compiled: map[string]*jsonschema.Schema{}, raw: map[string]map[string]any{}, defs: map[string]node{}}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range slices.Sorted(maps.Keys(Roots)) {
		file := Roots[name]
		b, err := os.ReadFile(filepath.Join(abs, file))
		if err != nil {
			return nil, fmt.Errorf("schematest: %w", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("schematest: %s: %w", file, err)
		}
		s.raw[file] = m
		s.defs[name] = node{file, m}
		defs, _ := m["$defs"].(map[string]any)
		for d, v := range defs {
			if _, dup := s.defs[d]; dup {
				return nil, fmt.Errorf("schematest: $defs/%s is in two files; names must be unique", d)
			}
			s.defs[d] = node{file, v.(map[string]any)}
		}
	}
	for name, file := range Roots {
		sch, err := c.Compile(filepath.Join(abs, file))
		if err != nil {
			return nil, fmt.Errorf("schematest: %s: %w", file, err)
		}
		s.compiled[name] = sch
	}
	return s, nil
}

// Validate checks doc against the named root's schema ("plan" or
// "result"), and fails on a null anywhere in it, with where it is.
func (s *Schemas) Validate(root string, doc []byte) error {
	sch, ok := s.compiled[root]
	if !ok {
		return fmt.Errorf("schematest: no schema %q", root)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if p := findNull(v, ""); p != "" {
		return fmt.Errorf("null at %s: every list is an array and no field is null", p)
	}
	return sch.Validate(v)
}

func findNull(v any, at string) string {
	switch v := v.(type) {
	case nil:
		return cmp.Or(at, "the top")
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if p := findNull(v[k], at+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range v {
			if p := findNull(e, fmt.Sprintf("%s[%d]", at, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// Field is one property an object schema declares.
type Field struct {
	Name     string
	Type     string // as docs/json.md writes it: "string", "array of decision", "reason", "object of integer"
	Required bool
	Object   string // the $def of the object it holds (directly or as array items), if any
}

// Object returns the fields the named object schema declares itself, and
// the objects it extends with $ref (their fields are in the output too).
func (s *Schemas) Object(name string) (fields []Field, extends []string, err error) {
	n, ok := s.defs[name]
	if !ok {
		return nil, nil, fmt.Errorf("schematest: no object %q", name)
	}
	if ref, ok := n.v["$ref"].(string); ok {
		d, err := s.refName(ref)
		if err != nil {
			return nil, nil, err
		}
		extends = append(extends, d)
	}
	required := map[string]bool{}
	for _, r := range asList(n.v["required"]) {
		required[r.(string)] = true
	}
	props, _ := n.v["properties"].(map[string]any)
	for _, p := range slices.Sorted(maps.Keys(props)) {
		typ, obj, err := s.typeOf(props[p].(map[string]any))
		if err != nil {
			return nil, nil, fmt.Errorf("schematest: %s.%s: %w", name, p, err)
		}
		fields = append(fields, Field{Name: p, Type: typ, Required: required[p], Object: obj})
	}
	return fields, extends, nil
}

// Objects returns, sorted, every object the roots lead to: the roots, the
// objects their fields hold, and the objects those extend.
func (s *Schemas) Objects() ([]string, error) {
	seen := map[string]bool{}
	var walk func(string) error
	walk = func(name string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		fields, extends, err := s.Object(name)
		if err != nil {
			return err
		}
		for _, f := range fields {
			if f.Object != "" {
				if err := walk(f.Object); err != nil {
					return err
				}
			}
		}
		for _, e := range extends {
			if err := walk(e); err != nil {
				return err
			}
		}
		return nil
	}
	for root := range Roots {
		if err := walk(root); err != nil {
			return nil, err
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// Enums returns every enumeration $def with its values.
func (s *Schemas) Enums() map[string][]string {
	out := map[string][]string{}
	for name, n := range s.defs {
		if e, ok := n.v["enum"].([]any); ok {
			for _, v := range e {
				out[name] = append(out[name], v.(string))
			}
		}
	}
	return out
}

// Paths returns every field path the named root documents, such as
// "changes[].sites" or "purges[].result.calls[].id", sorted.
func (s *Schemas) Paths(root string) ([]string, error) {
	var out []string
	var walk func(name, prefix string) error
	walk = func(name, prefix string) error {
		fields, extends, err := s.Object(name)
		if err != nil {
			return err
		}
		for _, f := range fields {
			p := prefix + f.Name
			out = append(out, p)
			if f.Object != "" {
				if strings.HasPrefix(f.Type, "array of ") {
					p += "[]"
				}
				if err := walk(f.Object, p+"."); err != nil {
					return err
				}
			}
		}
		for _, e := range extends {
			if err := walk(e, prefix); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, ""); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// DocPaths returns the field paths a JSON document has, in the form Paths
// gives: objects' keys joined by ".", "[]" for any array element.
func DocPaths(doc []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var walk func(v any, prefix string)
	walk = func(v any, prefix string) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				p := prefix + k
				if prefix != "" {
					p = prefix + "." + k
				}
				seen[p] = true
				walk(e, p)
			}
		case []any:
			for _, e := range v {
				walk(e, prefix+"[]")
			}
		}
	}
	walk(v, "")
	return slices.Sorted(maps.Keys(seen)), nil
}

// typeOf names a property's type as docs/json.md writes it, and the object
// it holds, if any.
func (s *Schemas) typeOf(p map[string]any) (typ, object string, err error) {
	if ref, ok := p["$ref"].(string); ok {
		d, err := s.refName(ref)
		if err != nil {
			return "", "", err
		}
		if s.isObject(d) {
			return d, d, nil
		}
		return d, "", nil // an enumeration, by its name
	}
	if c, ok := p["const"]; ok {
		return fmt.Sprint(c), "", nil
	}
	t, _ := p["type"].(string)
	switch t {
	case "string":
		if f, ok := p["format"].(string); ok {
			return "string (" + f + ")", "", nil
		}
		return t, "", nil
	case "integer", "boolean":
		return t, "", nil
	case "array":
		items, ok := p["items"].(map[string]any)
		if !ok {
			return "", "", errors.New("an array without items")
		}
		it, obj, err := s.typeOf(items)
		if err != nil {
			return "", "", err
		}
		return "array of " + it, obj, nil
	case "object":
		ap, ok := p["additionalProperties"].(map[string]any)
		if !ok {
			return "", "", errors.New("an inline object: give it a $def of its own")
		}
		vt, _, err := s.typeOf(ap)
		if err != nil {
			return "", "", err
		}
		return "object of " + vt, "", nil
	}
	return "", "", fmt.Errorf("type %v is not one docs/json.md names", p["type"])
}

func (s *Schemas) isObject(name string) bool {
	n := s.defs[name]
	_, props := n.v["properties"]
	return props
}

// refName returns the $def name a $ref points to: "#/$defs/x" and
// "plan.schema.json#/$defs/x" are both "x"; "plan.schema.json" alone is
// "plan".
func (s *Schemas) refName(ref string) (string, error) {
	file, frag, _ := strings.Cut(ref, "#")
	if frag == "" {
		for name, f := range Roots {
			if f == file {
				return name, nil
			}
		}
		return "", fmt.Errorf("$ref %q: no such schema", ref)
	}
	name, ok := strings.CutPrefix(frag, "/$defs/")
	if !ok || strings.Contains(name, "/") {
		return "", fmt.Errorf("$ref %q: only refs to a $def are used", ref)
	}
	if _, ok := s.defs[name]; !ok {
		return "", fmt.Errorf("$ref %q: no such $def", ref)
	}
	return name, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
