package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authMessage is the one answer to every refused token: none, a wrong one,
// or one not allowed on the route. A caller learns nothing about which.
const authMessage = "a valid token for this route is required: Authorization: Bearer <token>, or X-Api-Key: <token>"

// Failed authentication is limited per client address: authFailures a
// minute, with a burst of as many, after which the address gets 429 on
// every route that needs a token until its bucket refills. Only a token
// presented and refused counts: a request without one guesses nothing.
const authFailures = 10

// clientKey is what failures are counted under: an IPv4 address, or an
// IPv6 address's /64, which one host usually has whole. Every caller
// behind one proxy shares its address, loopback included.
func clientKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "addr:" + host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return "net:" + p.String()
	}
	return "addr:" + addr.String()
}

// failing answers 429 when the caller's address has failed too often; it
// is checked before the token, so the answer says nothing of it.
func (s *server) failing(w http.ResponseWriter, r *http.Request) bool {
	wait := s.failures.wait(clientKey(r.RemoteAddr))
	if wait <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	writeError(w, http.StatusTooManyRequests, codeRateLimited, "too many failed authentications from this address; retry after the time Retry-After gives")
	return true
}

// caller is an authorized caller: the key its rate limit is counted under,
// and its own limits (0: the defaults).
type caller struct {
	key   string
	Rate  float64
	Burst int
}

// authorize checks the caller's token for the route. When it refuses, it
// has answered.
func (s *server) authorize(w http.ResponseWriter, r *http.Request, route string) (caller, bool) {
	if s.Tokens == nil && s.Credentials == nil {
		if !isLoopback(r.RemoteAddr) {
			writeError(w, http.StatusForbidden, codeForbidden, "no tokens are configured: only loopback callers are served")
			return caller{}, false
		}
		return caller{key: "loopback"}, true
	}
	creds, err := s.credentials(r)
	if err != nil {
		s.Logger.Error("httpapi: read tokens", "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "cannot read the configured tokens")
		return caller{}, false
	}
	got := presented(r)
	g := sha256.Sum256([]byte(got))
	match := -1
	for i, c := range creds {
		if c.Token == "" {
			continue // an unset secret is not an empty password
		}
		// Hashing first hides the lengths; no comparison stops early, and
		// a wrong token and a token for another route end the same way.
		h := sha256.Sum256([]byte(c.Token))
		allowed := 0
		if len(c.Routes) == 0 || slices.Contains(c.Routes, route) {
			allowed = 1
		}
		match = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(g[:], h[:])&allowed, i, match)
	}
	if got == "" || match < 0 {
		if got != "" {
			s.failures.allow(clientKey(r.RemoteAddr), authFailures/time.Minute.Seconds(), authFailures)
		}
		w.Header().Add("WWW-Authenticate", `Bearer realm="offload"`)
		if route == "GET /" {
			// Lets a browser ask for the token (as the password).
			w.Header().Add("WWW-Authenticate", `Basic realm="offload"`)
		}
		writeError(w, http.StatusUnauthorized, codeUnauthorized, authMessage)
		return caller{}, false
	}
	c := creds[match]
	return caller{key: "token:" + hex.EncodeToString(g[:8]), Rate: c.Rate, Burst: c.Burst}, true
}

// credentials returns every configured token with its routes.
func (s *server) credentials(r *http.Request) ([]Credential, error) {
	var out []Credential
	if s.Tokens != nil {
		toks, err := s.Tokens(r.Context())
		if err != nil {
			return nil, err
		}
		for _, t := range toks {
			out = append(out, Credential{Token: t})
		}
	}
	if s.Credentials != nil {
		creds, err := s.Credentials(r.Context())
		if err != nil {
			return nil, err
		}
		out = append(out, creds...)
	}
	return out, nil
}

// presented returns the token the request carries: a bearer token, an
// X-Api-Key, or a Basic password (what a browser sends for the dashboard).
func presented(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			return rest
		case strings.EqualFold(scheme, "Basic"):
			b, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return ""
			}
			_, pass, _ := strings.Cut(string(b), ":")
			return pass
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-Api-Key"))
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
