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
// serve it: "/docs/a.html"; an index document also at its directory, so
// "docs/index.html" gives "/docs/" and "/docs/index.html", and "index.html"
// gives "/" and "/index.html".
// They come as an array, not a slice made for each object.
func objectPaths(key, index string) ([2]string, int) {
	p := "/" + key
	if index != "" && (key == index || (strings.HasSuffix(key, index) && key[len(key)-len(index)-1] == '/')) {
		return [2]string{strings.TrimSuffix(p, index), p}, 2
	}
	return [2]string{p}, 1
}
