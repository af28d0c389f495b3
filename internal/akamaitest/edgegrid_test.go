package akamaitest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/internal/akamaitest"
)

// The official EdgeGrid vectors (testdata/akamai at the repository's top,
// from AkamaiOPEN-edgegrid-python; see its README.md), checked through the
// verifier the Fast Purge test server uses.
type vectorData struct {
	AccessToken   string   `json:"access_token"`
	ClientToken   string   `json:"client_token"`
	ClientSecret  string   `json:"client_secret"`
	MaxBody       int      `json:"max_body"`
	HeadersToSign []string `json:"headers_to_sign"`
	Nonce         string   `json:"nonce"`
	Timestamp     string   `json:"timestamp"`
	SignKeyTest   string   `json:"sign_key_test"`
	ContentHash   string   `json:"content_hash_test"`
}

type vectorCase struct {
	TestName string `json:"testName"`
	Request  struct {
		Method  string              `json:"method"`
		Path    string              `json:"path"`
		Data    *string             `json:"data"`
		Headers []map[string]string `json:"headers"`
	} `json:"request"`
	ExpectedAuthorization string `json:"expectedAuthorization"`
	ExpectedDataToSign    string `json:"expectedDataToSign"`
	FailsWithMessage      string `json:"failsWithMessage"`
}

const vectorDir = "../../testdata/akamai/"

func loadVectors(t *testing.T) (vectorData, []vectorCase) {
	t.Helper()
	var d vectorData
	var cases []vectorCase
	for name, v := range map[string]any{"edgegrid-python_testdata.json": &d, "edgegrid-python_testcases.json": &cases} {
		raw, err := os.ReadFile(vectorDir + name)
		if err != nil {
			t.Fatalf("official vectors: %v", err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(cases) != 15 {
		t.Fatalf("got %d EdgeGrid cases, want 15", len(cases))
	}
	return d, cases
}

const vectorHost = "akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net"

func vectorRequest(t *testing.T, tc vectorCase) (*http.Request, []byte) {
	t.Helper()
	var body []byte
	var rd *strings.Reader
	if tc.Request.Data != nil {
		body = []byte(*tc.Request.Data)
		rd = strings.NewReader(*tc.Request.Data)
	}
	var r *http.Request
	var err error
	if rd != nil {
		r, err = http.NewRequest(tc.Request.Method, "https://"+vectorHost+tc.Request.Path, rd)
	} else {
		r, err = http.NewRequest(tc.Request.Method, "https://"+vectorHost+tc.Request.Path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range tc.Request.Headers {
		for k, v := range h {
			if k == "Host" {
				r.Host = v
				continue
			}
			r.Header.Set(k, v)
		}
	}
	return r, body
}

func TestEdgeGridVectors(t *testing.T) {
	d, cases := loadVectors(t)
	creds := akamaitest.Credentials{ClientToken: d.ClientToken, ClientSecret: d.ClientSecret,
		AccessToken: d.AccessToken, MaxBody: d.MaxBody, HeadersToSign: d.HeadersToSign}

	if got := akamaitest.Sign(d.ClientSecret, d.Timestamp, ""); got == "" {
		t.Fatal("Sign returned nothing")
	}
	// The signing key alone: HMAC(client_secret, timestamp).
	if got := akamaitest.SigningKey(d.ClientSecret, d.Timestamp); got != d.SignKeyTest {
		t.Errorf("signing key: got %s, want %s", got, d.SignKeyTest)
	}

	for _, tc := range cases {
		t.Run(tc.TestName, func(t *testing.T) {
			r, body := vectorRequest(t, tc)
			r.Header.Set("Authorization", tc.ExpectedAuthorization)
			auth, err := akamaitest.ParseAuth(tc.ExpectedAuthorization)
			if err != nil {
				t.Fatal(err)
			}
			if auth.Timestamp != d.Timestamp || auth.Nonce != d.Nonce {
				t.Fatalf("vector header: got timestamp %s nonce %s, want %s %s", auth.Timestamp, auth.Nonce, d.Timestamp, d.Nonce)
			}
			if tc.ExpectedDataToSign != "" {
				got := akamaitest.DataToSign(r.Method, r.Host, r.URL.EscapedPath()+query(r), r.Header, body, creds)
				if got != tc.ExpectedDataToSign {
					t.Errorf("data to sign:\n got %q\nwant %q", got, tc.ExpectedDataToSign)
				}
			}
			if tc.FailsWithMessage != "" {
				// The Python signer now refuses leading whitespace in a
				// signed header; the signature it once made follows the
				// canonical rule (trim, collapse), which the verifier keeps.
				if !strings.HasPrefix(r.Header.Get("X-Test1"), " ") {
					t.Fatalf("case %q: want a header value with leading whitespace", tc.TestName)
				}
			}
			ts, _ := time.Parse(akamaitest.TimestampLayout, d.Timestamp)
			if _, err := akamaitest.Verify(r, body, creds, ts); err != nil {
				t.Errorf("Verify: got %v, want the official signature accepted", err)
			}
			// One byte changed anywhere signed must fail.
			r.Header.Set("Authorization", strings.Replace(tc.ExpectedAuthorization, "signature=", "signature=A", 1))
			if _, err := akamaitest.Verify(r, body, creds, ts); err == nil {
				t.Error("Verify: got nil for a wrong signature, want an error")
			}
			r.Header.Set("Authorization", tc.ExpectedAuthorization)
			if _, err := akamaitest.Verify(r, body, creds, ts.Add(31*time.Second)); err == nil {
				t.Error("Verify: got nil for a timestamp 31s old, want an error")
			}
		})
	}
}

// Akamai's Go signer and the verifier agree: every vector request, signed by
// edgegrid.Config.SignRequest (fresh timestamp and nonce), verifies.
func TestSignerAgreesWithVerifier(t *testing.T) {
	d, cases := loadVectors(t)
	creds := akamaitest.Credentials{ClientToken: d.ClientToken, ClientSecret: d.ClientSecret,
		AccessToken: d.AccessToken, MaxBody: d.MaxBody, HeadersToSign: d.HeadersToSign}
	cfg := edgegrid.Config{Host: vectorHost, ClientToken: d.ClientToken, ClientSecret: d.ClientSecret,
		AccessToken: d.AccessToken, MaxBody: d.MaxBody, HeaderToSign: d.HeadersToSign}
	for _, tc := range cases {
		t.Run(tc.TestName, func(t *testing.T) {
			r, body := vectorRequest(t, tc)
			cfg.SignRequest(r)
			if _, err := akamaitest.Verify(r, body, creds, time.Now()); err != nil {
				t.Errorf("Verify(signed by edgegrid): got %v, want nil", err)
			}
		})
	}
}

func query(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}
