package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// decoder fills a Config from the document's nodes, field by field, with
// the yaml tags as names. It goes on past a mistake, so that one run
// reports them all, and it remembers which fields failed, so that
// validation does not report them a second time.
type decoder struct {
	file    string
	errs    Errors
	failed  []string // field paths
	aliases int      // aliases followed on the way to the current node
}

var (
	secretType      = reflect.TypeFor[Secret]()
	durationType    = reflect.TypeFor[Duration]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *decoder) add(n *yaml.Node, field, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Field: field, Msg: fmt.Sprintf(format, args...)})
	d.failed = append(d.failed, field)
}

// failedAt reports whether field, or a field it is part of, did not decode.
func (d *decoder) failedAt(field string) bool {
	for _, f := range d.failed {
		if f == field || strings.HasPrefix(field, f) && (f == "" || strings.ContainsRune(".[", rune(field[len(f)]))) {
			return true
		}
	}
	return false
}

// namesKnown reports whether the name of every item of list (targets,
// mirrors) decoded, so that a reference to a name not there is a mistake of
// its own.
func (d *decoder) namesKnown(list string, n int) bool {
	if d.failedAt(list) {
		return false
	}
	for i := range n {
		if d.failedAt(fmt.Sprintf("%s[%d].name", list, i)) {
			return false
		}
	}
	return true
}

// value decodes n into v. A null leaves v as it is: the default.
func (d *decoder) value(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind == yaml.AliasNode {
		if d.aliases > 100 { // an anchor that contains its own alias
			d.add(n, field, "an alias (*%s) that contains itself", n.Value)
			return
		}
		d.aliases++
		defer func() { d.aliases-- }()
		n = n.Alias
	}
	if isNull(n) {
		return
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			d.mismatch(n, v.Type(), field)
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.add(n, field, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		before := len(d.errs)
		d.value(n, p.Elem(), field)
		if len(d.errs) == before {
			v.Set(p)
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.mismatch(n, v.Type(), field)
			return
		}
		d.mapping(n, v, field)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.mismatch(n, v.Type(), field)
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", field, i))
		}
		v.Set(s)
	case reflect.String:
		// Any scalar is a string: cpcode: 123456 reads as "123456".
		if n.Kind != yaml.ScalarNode {
			d.mismatch(n, v.Type(), field)
			return
		}
		v.SetString(n.Value)
	default: // bool, int, float64: the YAML library reads the scalar
		if n.Kind != yaml.ScalarNode || n.Decode(v.Addr().Interface()) != nil {
			d.mismatch(n, v.Type(), field)
		}
	}
}

// mapping decodes the fields of struct v from mapping n, refusing fields
// the struct does not have and, in a target or a mirror, fields its
// provider does not use.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, field string) {
	names, index := fieldsOf(v.Type())
	only, provider := providerFields(v.Type(), n)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.add(k, field, "a field name must be a plain word (fields here: %s)", strings.Join(names, ", "))
			continue
		}
		path := join(field, k.Value)
		if first, ok := seen[k.Value]; ok {
			d.add(k, path, "set twice (first at line %d, column %d)", first.Line, first.Column)
			continue
		}
		seen[k.Value] = k
		i, known := index[k.Value]
		switch {
		case k.Value == "<<":
			d.add(k, path, "merge keys (<<) are not supported: write the fields out")
		case !known && only != nil:
			d.add(k, path, "unknown field%s (the fields of a %s %s: %s)", suggest(k.Value, only), provider, kindOf(v.Type()), strings.Join(only, ", "))
		case !known:
			d.add(k, path, "unknown field%s (fields here: %s)", suggest(k.Value, names), strings.Join(names, ", "))
		case only != nil && !slices.Contains(only, k.Value):
			d.add(k, path, "not used by provider %s (its fields: %s)", provider, strings.Join(only, ", "))
		default:
			d.value(val, v.Field(i), path)
		}
	}
}

// fieldsOf returns the yaml names of t's fields, in order, and their indexes.
func fieldsOf(t reflect.Type) ([]string, map[string]int) {
	var names []string
	index := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

// providerFields returns the fields a target or a mirror may have with the
// provider mapping n names, or nil when that is not known.
func providerFields(t reflect.Type, n *yaml.Node) ([]string, string) {
	var table map[string][]string
	switch t {
	case reflect.TypeFor[Target]():
		table = targetFields
	case reflect.TypeFor[Mirror]():
		table = mirrorFields
	default:
		return nil, ""
	}
	p := mapValue(n, "provider")
	if p == nil || p.Kind != yaml.ScalarNode {
		return nil, ""
	}
	fs, ok := table[p.Value]
	if !ok {
		return nil, ""
	}
	return append(slices.Clone(commonFields), fs...), p.Value
}

func kindOf(t reflect.Type) string {
	if t == reflect.TypeFor[Mirror]() {
		return "mirror"
	}
	return "target"
}

func (d *decoder) mismatch(n *yaml.Node, t reflect.Type, field string) {
	if field == "" {
		names, _ := fieldsOf(t)
		d.add(n, field, "want a mapping of settings (%s), got %s", strings.Join(names, ", "), describe(n, true))
		return
	}
	secret := t == secretType || t.Kind() == reflect.Slice && t.Elem() == secretType
	msg := "want " + want(t) + ", got " + describe(n, secret)
	switch {
	case secret || n.Kind != yaml.ScalarNode:
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		msg += fmt.Sprintf(" (write [%s])", short(n.Value))
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		plain := &yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}
		if plain.Decode(reflect.New(t).Interface()) == nil {
			msg += " (write it without quotes)"
		}
	}
	d.add(n, field, "%s", msg)
}

func want(t reflect.Type) string {
	switch t {
	case secretType:
		return "a secret reference (env:NAME, file:PATH, ssm:/name or secretsmanager:name#key)"
	case durationType:
		return "a duration such as 500ms or 2s"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return want(t.Elem())
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem() == secretType {
			return "a list of secret references"
		}
		return "a list"
	case reflect.Struct:
		return "a mapping"
	}
	return "a string"
}

// describe says what n is; it quotes a scalar's value only when the field
// is not a secret.
func describe(n *yaml.Node, secret bool) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	tag := n.ShortTag()
	switch {
	case secret && (tag == "!!int" || tag == "!!float"):
		return "a number"
	case secret:
		return "a string"
	case tag == "!!str":
		return fmt.Sprintf("%q", short(n.Value))
	}
	return short(n.Value)
}

// short cuts a value quoted in an error to a readable length.
func short(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// suggest returns ` did you mean "x"?` for the name closest to got, when
// one is close enough to be a typo.
func suggest(got string, names []string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	best, bestDist := "", 3 // at most two edits
	for _, n := range names {
		if d := editDistance(norm(got), norm(n)); d < bestDist && d < len(n) {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}
