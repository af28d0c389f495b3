package httpapi_test

import (
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
