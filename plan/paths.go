package plan

import (
	"net/url"
	"strings"
)

// CloudFrontPath encodes an object path ("/docs/a b.html") as CloudFront
// invalidation paths must be: non-ASCII bytes and the characters RFC 1738
// calls unsafe percent-escaped, nothing else. "%" and "*" are escaped too,
// so a key's literal "%41" or "*" never reads as an escape or a wildcard;
// wildcards are added only by the planner's collapse.
func CloudFrontPath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`<>"#%{}|\^~[]`+"`*", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// URLPath encodes an object path as it appears in a URL a browser requests:
// RFC 3986 path escaping ("/a b.html" is "/a%20b.html", "~" and "+" stay).
func URLPath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// JoinURL joins a base URL ("https://www.example.com" or one with a path)
// and an encoded path that starts with "/".
func JoinURL(base, encodedPath string) string {
	return strings.TrimRight(base, "/") + encodedPath
}

// objectPaths maps a key (prefix already stripped) to the site paths that
// serve it: "/docs/a.html"; an index document also at its directory, so
// "docs/index.html" gives "/docs/" and "/docs/index.html", and "index.html"
// gives "/" and "/index.html".
func objectPaths(key, index string) []string {
	p := "/" + key
	if index != "" && (key == index || strings.HasSuffix(key, "/"+index)) {
		return []string{strings.TrimSuffix(p, index), p}
	}
	return []string{p}
}
