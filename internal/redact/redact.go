// Package redact keeps secret values out of what leaves the process: API
// answers, the dashboard, printed errors and logs. A Redactor is told each
// secret value as it is resolved (config.Resolver does this), and replaces
// any trace of them in the text it is given.
//
// The rule, for each secret of at least MinSecret bytes, in each of its
// forms (as is, URL-escaped for a query and for a path, JSON-, Go- and
// HTML-escaped, hex, and base64 in the standard and URL alphabets at each of
// the three alignments it can take inside a longer encoded value):
//
//   - any run of Window or more bytes of the text that is also a run of the
//     form is replaced, so a provider that echoes part of a token (cut at 200
//     bytes, or from its third character on) shows none of it;
//   - a form shorter than Window is replaced where it appears whole.
//
// Fragments shorter than Window can remain: a window that small occurs by
// chance, and would blank ordinary words. Secrets shorter than MinSecret are
// not registered: replacing every "abc" would garble every message, and so
// short a value keeps nothing secret. Over-redaction (a word that happens to
// be a window of a weak secret) costs readability only.
package redact

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

const (
	// Window is the shortest run of a secret that is found within text.
	Window = 8
	// MinSecret is the shortest value registered.
	MinSecret = 4
	// MaxSecrets bounds the values kept: past it, the oldest are
	// forgotten (a credential rotated that many times ago).
	MaxSecrets = 256
	// Mask replaces what is redacted.
	Mask = "[REDACTED]"
)

// Redactor replaces the secrets it was told in the text it is given. Its
// zero value is empty and ready; a nil *Redactor redacts nothing. Safe for
// concurrent use.
type Redactor struct {
	mu     sync.RWMutex
	order  []string            // the values, oldest first
	forms  map[string][]string // by value: its forms
	grams  map[uint64]int      // every Window-byte run of every form: how many forms have it
	shorts map[string]int      // forms shorter than Window: how many values have it
	// How many runs in grams have each hash (saturating at 255, then
	// kept): most text has no run of a secret, and a table read is far
	// cheaper than a map lookup per byte.
	filter *[1 << 16]uint8
}

// filterAt is where gram g is counted in the filter.
func filterAt(g uint64) uint64 { return (g * 0x9E3779B97F4A7C15) >> (64 - 16) }

// New returns an empty Redactor.
func New() *Redactor { return &Redactor{} }

// Add registers a secret value. Adding one already known costs a map
// lookup.
func (r *Redactor) Add(secret string) {
	if r == nil || len(secret) < MinSecret {
		return
	}
	r.mu.RLock()
	_, known := r.forms[secret]
	r.mu.RUnlock()
	if known {
		return
	}
	forms := formsOf(secret)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, known := r.forms[secret]; known {
		return
	}
	if r.forms == nil {
		r.forms, r.grams, r.shorts = map[string][]string{}, map[uint64]int{}, map[string]int{}
		r.filter = new([1 << 16]uint8)
	}
	if len(r.order) == MaxSecrets {
		r.forget(r.order[0])
		r.order = r.order[1:]
	}
	r.order = append(r.order, secret)
	r.forms[secret] = forms
	for _, f := range forms {
		if len(f) < Window {
			r.shorts[f]++
			continue
		}
		for i := 0; i+Window <= len(f); i++ {
			g := gram(f, i)
			r.grams[g]++
			if c := &r.filter[filterAt(g)]; *c < 255 {
				*c++
			}
		}
	}
}

// forget drops a value's forms. r.mu is held.
func (r *Redactor) forget(secret string) {
	for _, f := range r.forms[secret] {
		if len(f) < Window {
			if r.shorts[f]--; r.shorts[f] == 0 {
				delete(r.shorts, f)
			}
			continue
		}
		for i := 0; i+Window <= len(f); i++ {
			g := gram(f, i)
			if c := &r.filter[filterAt(g)]; *c < 255 {
				*c--
			}
			if r.grams[g]--; r.grams[g] == 0 {
				delete(r.grams, g)
			}
		}
	}
	delete(r.forms, secret)
}

// gram is the Window bytes of s at i, as a map key.
func gram(s string, i int) uint64 {
	_ = s[i+Window-1]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// formsOf returns the ways a value can appear in text, each once.
func formsOf(v string) []string {
	var out []string
	add := func(f string) {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	add(v)
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	add(strings.Trim(strconv.Quote(v), `"`))
	add(html.EscapeString(v))
	add(hex.EncodeToString([]byte(v)))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := range 3 {
			add(base64Run(enc, v, shift))
		}
	}
	return out
}

// base64Run returns the characters of the base64 encoding of v, placed
// shift bytes into a longer value, that depend on v's bytes alone: what
// any encoding of data holding v at that alignment contains.
func base64Run(enc *base64.Encoding, v string, shift int) string {
	data := make([]byte, shift+len(v))
	copy(data[shift:], v)
	e := enc.EncodeToString(data)
	first := (8*shift + 5) / 6         // the first character with no bit of the padding before v
	last := (8 * (shift + len(v))) / 6 // the characters that end within v
	if first >= last || last > len(e) {
		return ""
	}
	return e[first:last]
}

// String returns s with every trace of the registered secrets replaced by
// Mask.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.forms) == 0 {
		return s
	}
	// Mark every byte inside a Window-byte run some form has; runs that
	// overlap or touch make one.
	var spans [][2]int
	for i := 0; i+Window <= len(s); i++ {
		if g := gram(s, i); r.filter[filterAt(g)] == 0 || r.grams[g] == 0 {
			continue
		}
		if n := len(spans); n > 0 && spans[n-1][1] >= i {
			spans[n-1][1] = i + Window
		} else {
			spans = append(spans, [2]int{i, i + Window})
		}
	}
	if len(spans) > 0 {
		var b strings.Builder
		b.Grow(len(s))
		at := 0
		for _, sp := range spans {
			start, end := sp[0], sp[1]
			// Whole characters: a cut one would be invalid UTF-8.
			for start > at && !utf8.RuneStart(s[start]) {
				start--
			}
			for end < len(s) && !utf8.RuneStart(s[end]) {
				end++
			}
			if start < at {
				start = at
			}
			b.WriteString(s[at:start])
			b.WriteString(Mask)
			at = end
		}
		b.WriteString(s[at:])
		s = b.String()
	}
	if len(r.shorts) > 0 {
		// Longest first, so that a form holding another goes whole.
		shorts := slices.SortedFunc(maps.Keys(r.shorts), func(a, b string) int {
			return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
		})
		for _, f := range shorts {
			s = strings.ReplaceAll(s, f, Mask)
		}
	}
	return s
}

// Writer returns a writer that writes to w what it is given, redacted.
// Each Write is redacted on its own: a secret split across two writes is
// not found. slog's handlers, fmt.Fprint and json.Encoder write a whole
// record, line or value at once.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return writer{r, w}
}

type writer struct {
	r *Redactor
	w io.Writer
}

func (x writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return x.w.Write(p)
	}
	// String reads p through a view, not a copy (it keeps no reference to
	// it), and returns the view itself when nothing is redacted: then p
	// goes out as it came, without a copy of every write.
	s := unsafe.String(&p[0], len(p))
	out := x.r.String(s)
	var err error
	if unsafe.StringData(out) == &p[0] && len(out) == len(p) {
		_, err = x.w.Write(p)
	} else {
		_, err = io.WriteString(x.w, out)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}
