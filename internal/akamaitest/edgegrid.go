package akamaitest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Credentials are an EdgeGrid API client's, as the server knows them.
type Credentials struct {
	ClientToken   string
	ClientSecret  string
	AccessToken   string
	MaxBody       int      // bytes of a POST body that are hashed; default 131072 (the Go signer's default)
	HeadersToSign []string // header names, in any case
}

// Auth is a parsed EG1-HMAC-SHA256 Authorization header.
type Auth struct {
	ClientToken, AccessToken, Timestamp, Nonce, Signature string
}

// Prefix is the header without its signature: the last field of the data
// to sign.
func (a Auth) Prefix() string {
	return fmt.Sprintf("EG1-HMAC-SHA256 client_token=%s;access_token=%s;timestamp=%s;nonce=%s;",
		a.ClientToken, a.AccessToken, a.Timestamp, a.Nonce)
}

// ParseAuth parses an Authorization header value.
func ParseAuth(h string) (Auth, error) {
	rest, ok := strings.CutPrefix(h, "EG1-HMAC-SHA256 ")
	if !ok {
		return Auth{}, errors.New("not an EG1-HMAC-SHA256 authorization")
	}
	var a Auth
	for _, kv := range strings.Split(rest, ";") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Auth{}, fmt.Errorf("malformed authorization field %q", kv)
		}
		switch k {
		case "client_token":
			a.ClientToken = v
		case "access_token":
			a.AccessToken = v
		case "timestamp":
			a.Timestamp = v
		case "nonce":
			a.Nonce = v
		case "signature":
			a.Signature = v
		}
	}
	if a.ClientToken == "" || a.AccessToken == "" || a.Timestamp == "" || a.Nonce == "" || a.Signature == "" {
		return Auth{}, errors.New("authorization is missing a field")
	}
	return a, nil
}

// TimestampLayout is EdgeGrid's timestamp format: 20140321T19:34:21+0000.
const TimestampLayout = "20060102T15:04:05-0700"

// CanonicalHeaders returns the headers to sign as EdgeGrid canonicalizes
// them: in the order the credentials list them, name lower-cased, value
// trimmed with inner runs of whitespace collapsed to one space, joined by
// tabs. Absent headers are left out.
func CanonicalHeaders(h http.Header, names []string) string {
	var out []string
	sorted := slices.Clone(names)
	slices.SortFunc(sorted, func(a, b string) int {
		return strings.Compare(http.CanonicalHeaderKey(a), http.CanonicalHeaderKey(b))
	})
	for _, n := range sorted {
		vs := h.Values(n)
		if len(vs) == 0 {
			continue
		}
		v := strings.Join(strings.Fields(vs[0]), " ")
		out = append(out, strings.ToLower(n)+":"+v)
	}
	return strings.Join(out, "\t")
}

// ContentHash is the base64 SHA-256 of a POST body cut at maxBody bytes;
// "" for other methods and for an empty body.
func ContentHash(method string, body []byte, maxBody int) string {
	if method != http.MethodPost || len(body) == 0 {
		return ""
	}
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// DataToSign is the tab-joined string EdgeGrid signs, without the
// authorization prefix that ends it: method, "https", host, path with
// query, canonical headers, content hash.
func DataToSign(method, host, pathQuery string, h http.Header, body []byte, c Credentials) string {
	return strings.Join([]string{
		strings.ToUpper(method), "https", strings.ToLower(host), pathQuery,
		CanonicalHeaders(h, c.HeadersToSign), ContentHash(method, body, c.maxBody()),
	}, "\t") + "\t"
}

// Sign returns base64(HMAC-SHA256(base64(HMAC-SHA256(secret, timestamp)), data)).
func Sign(secret, timestamp, data string) string {
	return hmacB64(hmacB64(secret, timestamp), data)
}

func hmacB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (c Credentials) maxBody() int {
	if c.MaxBody <= 0 {
		return 131072
	}
	return c.MaxBody
}

// Verification errors, each answered with a 401 in Akamai's shape.
var (
	ErrNoAuth        = errors.New("missing or malformed EG1-HMAC-SHA256 authorization")
	ErrUnknownClient = errors.New("invalid client_token or access_token")
	ErrTimestamp     = errors.New("invalid timestamp: outside the allowed 30 seconds")
	ErrSignature     = errors.New("the signature does not match")
)

// Skew is how far a request's timestamp may be from the server's clock.
const Skew = 30 * time.Second

// Verify recomputes the signature of r (its method, Host, path with query,
// headers and body) and compares it with the one in its Authorization
// header. The timestamp must be within Skew of now; now zero skips that
// check (for fixed test vectors).
func Verify(r *http.Request, body []byte, c Credentials, now time.Time) (Auth, error) {
	a, err := ParseAuth(r.Header.Get("Authorization"))
	if err != nil {
		return a, fmt.Errorf("%w: %v", ErrNoAuth, err)
	}
	if a.ClientToken != c.ClientToken || a.AccessToken != c.AccessToken {
		return a, ErrUnknownClient
	}
	ts, err := time.Parse(TimestampLayout, a.Timestamp)
	if err != nil {
		return a, fmt.Errorf("%w: %q", ErrTimestamp, a.Timestamp)
	}
	if !now.IsZero() && (ts.Sub(now) > Skew || now.Sub(ts) > Skew) {
		return a, fmt.Errorf("%w: %s, server time %s", ErrTimestamp, a.Timestamp, now.UTC().Format(TimestampLayout))
	}
	pq := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		pq += "?" + r.URL.RawQuery
	}
	data := DataToSign(r.Method, r.Host, pq, r.Header, body, c) + a.Prefix()
	want := Sign(c.ClientSecret, a.Timestamp, data)
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return a, ErrSignature
	}
	return a, nil
}
