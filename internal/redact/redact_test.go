package redact_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/offload-dev/offload/internal/redact"
)

const token = "fy7Qk2pZ9xW3mN8vR1tL5cH0" // 24 bytes

func TestString(t *testing.T) {
	odd := `a+b/c=d&e%f "g"<h>` + "\u00e9" + `-tail` // characters every escaping changes
	tests := []struct {
		name, secret, in, want string
	}{
		{"whole", token, "401: token " + token + " is not valid", "401: token [REDACTED] is not valid"},
		{"twice", token, token + "," + token, "[REDACTED],[REDACTED]"},
		{"a prefix of 8 bytes", token, "key fy7Qk2pZ… refused", "key [REDACTED]… refused"},
		{"a middle part", token, "…9xW3mN8vR1…", "…[REDACTED]…"},
		{"7 bytes are left", token, "key fy7Qk2p refused", "key fy7Qk2p refused"},
		{"glued to other text", token, "Bearer" + token + "xyz", "Bearer[REDACTED]xyz"},
		{"URL query escaped", odd, "?key=" + url.QueryEscape(odd) + "&x=1", "?key=[REDACTED]&x=1"},
		{"URL path escaped", odd, "/keys/" + url.PathEscape(odd), "/keys/[REDACTED]"},
		{"JSON escaped", odd, `{"key":"a+b/c=d&e%f \"g\"\u003ch\u003e` + "\u00e9" + `-tail"}`, `{"key":"[REDACTED]"}`},
		{"Go quoted", odd, "key=" + strconv.Quote(odd), `key="[REDACTED]"`},
		{"hex", token, "sig " + hex.EncodeToString([]byte(token)), "sig [REDACTED]"},
		{"base64", token, "b64 " + base64.StdEncoding.EncodeToString([]byte(token)), "b64 [REDACTED]"},
		// The characters at either end that hold bits of the secret and of
		// what is around it stay: 4 bits at most.
		{"base64 URL alphabet", odd, base64.URLEncoding.EncodeToString([]byte(odd)), "[REDACTED]A=="},
		{"base64 after one byte", token, "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+token)), "Basic Om[REDACTED]A=="},
		{"base64 after two bytes", token, "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+token)), "Basic dTp[REDACTED]A="},
		{"base64 after three bytes", token, base64.StdEncoding.EncodeToString([]byte("us:" + token)), "dXM6[REDACTED]"},
		{"a short secret, whole", "k3y-42", "key k3y-42, not k3y-4", "key [REDACTED], not k3y-4"},
		{"too short to register", "abc", "abc", "abc"},
		{"nothing of it", token, "all is well", "all is well"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redact.New()
			r.Add(tt.secret)
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// A cut through a character widens to the whole character: the answer
// stays valid UTF-8.
func TestStringKeepsUTF8(t *testing.T) {
	secret := "pässwörd-ünïcode-längst"
	r := redact.New()
	r.Add(secret)
	for i := range len(secret) - 8 {
		in := "x" + secret[i:] + "ü"
		got := r.String(in)
		if !utf8.ValidString(got) {
			t.Fatalf("from byte %d: got %q, not valid UTF-8", i, got)
		}
		if !strings.Contains(got, redact.Mask) {
			t.Errorf("from byte %d: got %q, want a mask", i, got)
		}
	}
}

func TestNilAndEmpty(t *testing.T) {
	var r *redact.Redactor
	r.Add(token)
	if got := r.String(token); got != token {
		t.Errorf("nil: got %q, want the text unchanged", got)
	}
	var z redact.Redactor
	if got := z.String(token); got != token {
		t.Errorf("zero value, empty: got %q, want the text unchanged", got)
	}
	z.Add(token)
	if got := z.String(token); got != redact.Mask {
		t.Errorf("zero value after Add: got %q, want %q", got, redact.Mask)
	}
}

// Past MaxSecrets values, the oldest is forgotten.
func TestMaxSecrets(t *testing.T) {
	r := redact.New()
	// Values with no 8-byte run in common.
	secret := func(i int) string {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		return hex.EncodeToString(h[:12])
	}
	for i := range redact.MaxSecrets + 1 {
		r.Add(secret(i))
	}
	r.Add(secret(redact.MaxSecrets)) // known: no change
	if got := r.String(secret(0)); got != secret(0) {
		t.Errorf("the oldest: got %q, want it forgotten", got)
	}
	for _, i := range []int{1, redact.MaxSecrets} {
		if got := r.String(secret(i)); got != redact.Mask {
			t.Errorf("secret %d: got %q, want %q", i, got, redact.Mask)
		}
	}
}

func TestWriter(t *testing.T) {
	r := redact.New()
	r.Add(token)
	var buf bytes.Buffer
	w := r.Writer(&buf)
	in := []byte("level=ERROR err=\"401 " + token + "\"\n")
	n, err := w.Write(in)
	if err != nil || n != len(in) {
		t.Fatalf("got %d, %v; want %d, nil", n, err, len(in))
	}
	if want := "level=ERROR err=\"401 [REDACTED]\"\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestConcurrent(t *testing.T) {
	r := redact.New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				s := "concurrent-" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
				r.Add(s)
				if got := r.String("x " + s); got != "x "+redact.Mask {
					t.Errorf("got %q, want %q", got, "x "+redact.Mask)
				}
			}
		})
	}
	wg.Wait()
}

// A plan's output goes through a Writer: 64 KiB writes of JSON with no
// secret in them, with secrets registered (the common case) and without.
func BenchmarkWriter(b *testing.B) {
	text := []byte(strings.Repeat(`{"bucket":"my-site","key":"assets/dir00/file 000000.js","decision":"purge"},`, 64<<10/80))
	for _, n := range []int{0, 16} {
		b.Run(strconv.Itoa(n)+"-secrets", func(b *testing.B) {
			r := redact.New()
			for i := range n {
				h := sha256.Sum256([]byte{byte(i)})
				r.Add(hex.EncodeToString(h[:16]))
			}
			w := r.Writer(discard{})
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.Write(text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
