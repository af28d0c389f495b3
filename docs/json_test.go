package docs_test

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/schematest"
)

// TestJSONDoc keeps docs/json.md and the schemas beside it saying the same:
// a table for every object with exactly its fields, types and presence, a
// table for every enumeration with exactly its values, and examples that
// the schemas accept. cmd/offload's TestOutputMatchesDocs checks the
// schemas against what the commands really print.
func TestJSONDoc(t *testing.T) {
	s, err := schematest.Load(".")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile("json.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkJSONDoc(t, s, string(md)) {
		t.Error(p)
	}
}

// Each mistake the doc could make is caught.
func TestJSONDocMistakes(t *testing.T) {
	s, err := schematest.Load(".")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("json.md")
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)
	tests := []struct {
		name, old, new, want string
	}{
		{"a field left out", "| `support_id` | string |", "| `supportid` | string |", "call: support_id is in the schema"},
		{"a field the schema does not have", "| `support_id` | string |", "| `support_id` | string | x | y |\n| `colour` | string |", "call: colour is not in the schema"},
		{"a wrong type", "| `size` | integer |", "| `size` | string |", "change.size: type string, want integer"},
		{"a wrong array type", "| `sites` | array of string |", "| `sites` | array of [change](#change) |", "decision.sites: type array of change, want array of string"},
		{"an optional field said always", "| `detail` | string | when there is more to say |", "| `detail` | string | always |", "decision.detail: present always, but the schema does not require it"},
		{"a required field said optional", "| `record` | integer | always |", "| `record` | integer | mostly |", "change.record: present \"mostly\", want always"},
		{"an enumeration value missing", "| `log` | a dry run", "| `dryrun` | a dry run", "enum provider: got"},
		{"an object without its table", "<!-- schema: outcome -->", "<!-- outcome -->", "outcome: no table"},
		{"an extended object not named", "A [decision](#decision) with how applying it went.", "A decision with how applying it went.", "change_result extends decision"},
		{"an example the schema refuses", `"committed": 2`, `"committed": null`, "example 2 (result)"},
		{"a link to no heading", "[decision](#decision) | always | every change decoded", "[decision](#decisions) | always | every change decoded", "#decisions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(md, tt.old) {
				t.Fatalf("json.md no longer holds %q: update this case", tt.old)
			}
			got := checkJSONDoc(t, s, strings.Replace(md, tt.old, tt.new, 1))
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("got problems %q, want one saying %q", got, tt.want)
			}
		})
	}
}

var (
	marker  = regexp.MustCompile(`^<!-- (schema|enum|example): ([a-z_]+) -->$`)
	mdLink  = regexp.MustCompile(`\[([^\]]*)\]\(([^)]*)\)`)
	heading = regexp.MustCompile(`^#{1,6} (.+)$`)
)

// docTable is a table after a marker, with the text of its section.
type docTable struct {
	rows    [][]string // cells, header and separator left out
	section string     // the text from the heading above to the table
}

// checkJSONDoc returns every way md differs from the schemas.
func checkJSONDoc(t *testing.T, s *schematest.Schemas, md string) []string {
	t.Helper()
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	tables := map[string]docTable{} // "schema:plan", "enum:reason"
	var examples []struct{ root, body string }
	anchors := map[string]bool{}
	lines := strings.Split(md, "\n")
	var section strings.Builder
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := heading.FindStringSubmatch(line); m != nil {
			anchors[slug(m[1])] = true
			section.Reset()
		}
		section.WriteString(line + "\n")
		m := marker.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if m[1] == "example" {
			if j >= len(lines) || lines[j] != "```json" {
				bad("line %d: %s: want a ```json block right after it", i+1, line)
				continue
			}
			k := j + 1
			for k < len(lines) && lines[k] != "```" {
				k++
			}
			examples = append(examples, struct{ root, body string }{m[2], strings.Join(lines[j+1:k], "\n")})
			i = k
			continue
		}
		key := m[1] + ":" + m[2]
		if _, dup := tables[key]; dup {
			bad("line %d: a second table for %s", i+1, key)
		}
		tab := docTable{section: section.String()}
		for k := j + 2; k < len(lines) && strings.HasPrefix(lines[k], "|"); k++ {
			cells := strings.Split(strings.Trim(lines[k], "|"), "|")
			for c := range cells {
				cells[c] = strings.TrimSpace(cells[c])
			}
			tab.rows = append(tab.rows, cells)
			i = k
		}
		if len(tab.rows) == 0 {
			bad("line %d: %s: want a table right after it", i+1, line)
		}
		tables[key] = tab
	}

	objects, err := s.Objects()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range objects {
		tab, ok := tables["schema:"+name]
		if !ok {
			bad("%s: no table (want one after <!-- schema: %s -->)", name, name)
			continue
		}
		fields, extends, err := s.Object(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range extends {
			if !strings.Contains(tab.section, "(#"+e+")") {
				bad("%s extends %s: want its section to link to it, [%s](#%s)", name, e, e, e)
			}
		}
		documented := map[string][]string{}
		for _, r := range tab.rows {
			if len(r) < 4 {
				bad("%s: row %q: want field, type, present, what", name, r)
				continue
			}
			documented[plain(r[0])] = r
		}
		for _, f := range fields {
			r, ok := documented[f.Name]
			if !ok {
				bad("%s: %s is in the schema, not in the table", name, f.Name)
				continue
			}
			if got := plain(r[1]); got != f.Type {
				bad("%s.%s: type %s, want %s", name, f.Name, got, f.Type)
			}
			switch present := plain(r[2]); {
			case f.Required && present != "always":
				bad("%s.%s: present %q, want always: the schema requires it", name, f.Name, present)
			case !f.Required && present == "always":
				bad("%s.%s: present always, but the schema does not require it: say when it is there", name, f.Name)
			}
		}
		for field := range documented {
			if !slices.ContainsFunc(fields, func(f schematest.Field) bool { return f.Name == field }) {
				bad("%s: %s is not in the schema", name, field)
			}
		}
	}
	enums := s.Enums()
	for name, values := range enums {
		tab, ok := tables["enum:"+name]
		if !ok {
			bad("enum %s: no table (want one after <!-- enum: %s -->)", name, name)
			continue
		}
		var got []string
		for _, r := range tab.rows {
			got = append(got, plain(r[0]))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(values))
		if !slices.Equal(got, want) {
			bad("enum %s: got %q, want %q", name, got, want)
		}
	}
	for key := range tables {
		kind, name, _ := strings.Cut(key, ":")
		if kind == "schema" && !slices.Contains(objects, name) || kind == "enum" && enums[name] == nil {
			bad("a table for %s, which the schemas do not have", key)
		}
	}

	roots := map[string]bool{}
	for i, ex := range examples {
		roots[ex.root] = true
		if err := s.Validate(ex.root, []byte(ex.body)); err != nil {
			bad("example %d (%s): %v", i+1, ex.root, err)
		}
	}
	for _, root := range slices.Sorted(maps.Keys(schematest.Roots)) {
		if !roots[root] {
			bad("no example of a %s (want a ```json block after <!-- example: %s -->)", root, root)
		}
	}

	for _, m := range mdLink.FindAllStringSubmatch(md, -1) {
		if a, ok := strings.CutPrefix(m[2], "#"); ok && !anchors[a] {
			bad("link %s: no heading #%s", m[0], a)
		}
	}
	return problems
}

// plain is a cell's text without Markdown: links become their text,
// backticks go.
func plain(cell string) string {
	return strings.TrimSpace(strings.ReplaceAll(mdLink.ReplaceAllString(cell, "$1"), "`", ""))
}

// slug is the anchor GitHub gives a heading.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(plain(h)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
