package plan

import (
	"strings"

	"github.com/offload-dev/offload/purge/cloudfront"
)

// TypedPath returns a path as a person types it (offload purge's argument,
// POST /v1/purges' paths) as target t purges it. A path that holds a
// percent-escape was encoded by whoever typed it and is kept; any other is
// encoded: for CloudFront as an invalidation path (cloudfront.EncodePath),
// a "*" at the end kept as CloudFront's wildcard; for the others as a URL
// path (URLPath). A "/" is put in front of a path that lacks one.
func (t Target) TypedPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if hasEscape(p) {
		return p
	}
	if t.Provider == "cloudfront" {
		wild, ok := strings.CutSuffix(p, "*")
		if p = cloudfront.EncodePath(wild); ok {
			p += "*"
		}
		return p
	}
	return URLPath(p)
}

// hasEscape reports whether p holds a percent-escape.
func hasEscape(p string) bool {
	const hex = "0123456789abcdefABCDEF"
	for i := 0; i+2 < len(p); i++ {
		if p[i] == '%' && strings.IndexByte(hex, p[i+1]) >= 0 && strings.IndexByte(hex, p[i+2]) >= 0 {
			return true
		}
	}
	return false
}
