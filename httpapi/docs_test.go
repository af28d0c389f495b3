package httpapi_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/offload-dev/offload/httpapi"
)

// The route lists a reader meets first, the package doc and the README's
// table, name exactly the handler's routes (openapi.yaml is held to them
// by TestOpenAPIDocumentIsValid).
func TestDocsListTheRoutes(t *testing.T) {
	want := httpapi.Routes()
	slices.Sort(want)
	route := regexp.MustCompile(`\b(GET|POST|PUT|PATCH|DELETE) +(/[^\s?` + "`" + `|]*)`)
	tests := []struct {
		file, heading, start, end string // the list runs from start, after heading, to end
	}{
		{"doc.go", "// Routes (", "\n//\t", "\n//\n"},
		{"../README.md", "`offload serve` answers on these routes", "\n|", "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			for _, mark := range []string{tt.heading, tt.start} {
				i := strings.Index(text, mark)
				if i < 0 {
					t.Fatalf("%s: no %q", tt.file, mark)
				}
				text = text[i:]
			}
			if i := strings.Index(text, tt.end); i >= 0 {
				text = text[:i]
			}
			var got []string
			for _, m := range route.FindAllStringSubmatch(text, -1) {
				got = append(got, m[1]+" "+m[2])
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s lists the routes\n%v\nwant the handler's\n%v", tt.file, got, want)
			}
		})
	}
}

// The README's example of an invalid_event message is what the handler
// answers for that key.
func TestREADMEInvalidEventExample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(b)), " ") // unwrapped
	const before, after = "says what is wrong and where (`", "`)"
	i := strings.Index(text, before)
	if i < 0 {
		t.Fatalf("README.md: no %q", before)
	}
	example, _, _ := strings.Cut(text[i+len(before):], after)

	e := newEnv(t)
	rec := e.do(req{method: "POST", target: "/v1/events", body: tinyEventKey("a%ZZ")})
	var answer struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	if rec.Code != 400 || answer.Error.Code != "invalid_event" || answer.Error.Message != example {
		t.Errorf("got %d %s %q, want 400 invalid_event %q (README.md)", rec.Code, answer.Error.Code, answer.Error.Message, example)
	}
}
