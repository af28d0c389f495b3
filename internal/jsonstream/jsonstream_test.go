package jsonstream

import (
	"encoding/json"
	"strings"
	"testing"
)

// String writes every byte as encoding/json does: alone, and inside a
// longer string.
func TestStringIsMarshal(t *testing.T) {
	var in []string
	for c := range 256 {
		in = append(in, string(rune(c)), string([]byte{byte(c)}), "a/b "+string([]byte{byte(c)})+" c.html")
	}
	in = append(in, "", "assets/dir00/file 000000.js", "é€😀", "\u2028\u2029", "<a href=\"x\">&</a>")
	// Each byte at each place of strings long enough to be read eight
	// bytes at a time, and in their tails.
	for c := range 256 {
		for n := 1; n <= 19; n++ {
			for at := range n {
				b := []byte(strings.Repeat("k", n))
				b[at] = byte(c)
				in = append(in, string(b))
			}
		}
	}
	for _, s := range in {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(nil, s); string(got) != string(want) {
			t.Errorf("String(%q): got %s, want %s", s, got, want)
		}
	}
}
