package plan

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// slashURLPath is URLPath of the path with its "/": every byte, and keys
// made of the bytes that matter.
func TestSlashURLPathIsURLPath(t *testing.T) {
	var in []string
	for c := range 256 {
		in = append(in, string([]byte{byte(c)}), "a/"+string([]byte{byte(c)})+"b")
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "/", " ", "+", "%", "?", "#", "*", "~", "é", "\xff", ":", "@", "&", "=", "$", ",", ";", "[", "\x00", "index.html"}
	for range 3000 {
		var b strings.Builder
		for range rnd.IntN(10) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		in = append(in, b.String())
	}
	in = append(in, "", "*", "docs/a b.html")
	for _, p := range in {
		if got, want := slashURLPath(p), URLPath("/"+p); got != want {
			t.Errorf("%q: got %q, want %q", p, got, want)
		}
	}
}
