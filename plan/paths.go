package plan

import (
	"net/url"
	"strings"
)

// URLPath encodes an object path as it appears in a URL a browser requests:
// RFC 3986 path escaping ("/a b.html" is "/a%20b.html", "~" and "+" stay).
func URLPath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// objectPaths maps a key (prefix already stripped) to the site paths that
// serve it, each without its leading "/": "docs/a.html" for "/docs/a.html";
// an index document also at its directory, so "docs/index.html" gives
// "docs/" and "docs/index.html", and "index.html" gives "" and
// "index.html". They come as an array, not a slice made for each object,
// and without the "/": the purge set joins it to the item it makes.
func objectPaths(key, index string) ([2]string, int) {
	if index != "" && (key == index || (strings.HasSuffix(key, index) && key[len(key)-len(index)-1] == '/')) {
		return [2]string{strings.TrimSuffix(key, index), key}, 2
	}
	return [2]string{key}, 1
}

// slashURLPath is URLPath("/" + p), made in one allocation, not two.
func slashURLPath(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if !pathKeeps[p[i]] {
			n++
		}
	}
	if n == 0 {
		return "/" + p
	}
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(1 + len(p) + 2*n)
	b.WriteByte('/')
	for i := 0; i < len(p); i++ {
		if c := p[i]; pathKeeps[c] {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// pathKeeps says which bytes URLPath keeps as they are, as net/url says:
// asked once for each byte.
var pathKeeps = func() (t [256]bool) {
	for c := range 256 {
		p := "/a" + string([]byte{byte(c)})
		t[c] = URLPath(p) == p
	}
	return t
}()
