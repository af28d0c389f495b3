//go:build !offload_lambda

package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/internal/redact"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
)

// tokenDesk is a provider's API that accepts the credentials in valid and
// records which one each request carried.
type tokenDesk struct {
	mu    sync.Mutex
	valid map[string]bool
	used  []string
	// credential reads a request's credential: a token header, or the key
	// a NetStorage signature was made with.
	credential func(r *http.Request, valid map[string]bool) string
}

func (d *tokenDesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cred := d.credential(r, d.valid)
	if !d.valid[cred] {
		http.Error(w, `{"msg":"Provided credentials are missing or invalid"}`, http.StatusUnauthorized)
		return
	}
	d.used = append(d.used, cred)
	w.Header().Set("Content-Type", "application/json")
	// Fastly's answer to a URL purge, and Cloudflare's envelope: each
	// reads the fields it knows.
	fmt.Fprint(w, `{"status":"ok","id":"1-1-1","success":true,"errors":[],"result":{"id":"p1"}}`)
}

func (d *tokenDesk) set(valid ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.valid = map[string]bool{}
	for _, v := range valid {
		d.valid[v] = true
	}
}

func (d *tokenDesk) last() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.used) == 0 {
		return ""
	}
	return d.used[len(d.used)-1]
}

// A credential rotated where its reference points (Secrets Manager, SSM, a
// file, the .edgerc) is used by the next purge after the cache's max age,
// without a restart, and not fetched again before it. The old and the new
// credential are both valid for the provider meanwhile, as a rotation
// keeps them; the fake records which one each request carried.
func TestCredentialRotation(t *testing.T) {
	moto := awstest.SharedMoto(t)
	awsEnv(t, moto)
	calls := awstest.NewCounter()
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", countingProxy(t, moto.URL, calls))
	t.Setenv("AWS_ENDPOINT_URL_SSM", countingProxy(t, moto.URL, calls))
	sm := secretsmanager.NewFromConfig(moto.Config())
	params := ssm.NewFromConfig(moto.Config())
	ctx := context.Background()
	dir := t.TempDir()
	const maxAge = time.Minute

	header := func(name, prefix string) func(*http.Request, map[string]bool) string {
		return func(r *http.Request, _ map[string]bool) string { return strings.TrimPrefix(r.Header.Get(name), prefix) }
	}
	// The NetStorage key is the one whose signature matches.
	nsKey := func(r *http.Request, valid map[string]bool) string {
		for k := range valid {
			if netstorage.Sign(k, r.Header.Get("X-Akamai-ACS-Auth-Data"), r.URL.EscapedPath(), r.Header.Get("X-Akamai-ACS-Action")) == r.Header.Get("X-Akamai-ACS-Auth-Sign") {
				return k
			}
		}
		return ""
	}

	tests := []struct {
		name    string
		desk    func(r *http.Request, valid map[string]bool) string
		setup   func(t *testing.T, old string) (config.Secret, func(new string)) // stores old; returns the reference and a rotation
		fetches []string                                                         // the AWS calls that read the secret
		target  func(ref config.Secret, api string) config.Target
		mirror  func(ref config.Secret, api string) config.Mirror
	}{
		{
			name: "fastly token in Secrets Manager", desk: header("Fastly-Key", ""),
			setup: func(t *testing.T, old string) (config.Secret, func(string)) {
				name := "offload/rotation/fastly"
				if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(`{"token":"` + old + `"}`)}); err != nil {
					t.Fatal(err)
				}
				return config.Secret("secretsmanager:" + name + "#token"), func(new string) {
					if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(`{"token":"` + new + `"}`)}); err != nil {
						t.Fatal(err)
					}
				}
			},
			fetches: []string{"GetSecretValue", "BatchGetSecretValue"},
			target: func(ref config.Secret, api string) config.Target {
				return config.Target{Name: "fy", Provider: "fastly", BaseURL: "https://www.example.com", ServiceID: "s", Token: ref, APIURL: api}
			},
		},
		{
			name: "cloudflare token in a file", desk: header("Authorization", "Bearer "),
			setup: func(t *testing.T, old string) (config.Secret, func(string)) {
				path := filepath.Join(dir, "cloudflare-token")
				write := func(v string) {
					if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				write(old)
				return config.Secret("file:" + path), write
			},
			target: func(ref config.Secret, api string) config.Target {
				return config.Target{Name: "cfl", Provider: "cloudflare", BaseURL: "https://www.example.com", ZoneID: "z", Token: ref, APIURL: api, URLsPerRequest: 30, Plan: "free"}
			},
		},
		{
			name: "netstorage key in SSM", desk: nsKey,
			setup: func(t *testing.T, old string) (config.Secret, func(string)) {
				name := "/offload/rotation/netstorage"
				put := func(v string, overwrite bool) {
					if _, err := params.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(v),
						Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(overwrite)}); err != nil {
						t.Fatal(err)
					}
				}
				put(old, false)
				return config.Secret("ssm:" + name), func(new string) { put(new, true) }
			},
			fetches: []string{"GetParameter", "GetParameters"},
			mirror: func(ref config.Secret, api string) config.Mirror {
				return config.Mirror{Name: "ns", Provider: "netstorage", Host: "example-nsu.akamaihd.net", CPCode: "123456", KeyName: "uploader", Key: ref, APIURL: api}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const oldCred, newCred = "credential-before-rotation-0123456789", "credential-after-rotation-9876543210"
			desk := &tokenDesk{credential: tt.desk}
			desk.set(oldCred)
			api := httptest.NewServer(desk)
			defer api.Close()
			ref, rotate := tt.setup(t, oldCred)

			clock := fakeclock.New()
			cfg := &config.Config{State: config.State{Driver: "memory"}}
			d, err := newDeps(cfg, slog.New(slog.DiscardHandler), redact.New(), func(o *cache.Options) { o.Clock, o.MaxAge, o.Jitter = clock, maxAge, -1 })
			if err != nil {
				t.Fatal(err)
			}
			var send func() error
			if tt.target != nil {
				p, err := d.purger(ctx, tt.target(ref, api.URL))
				if err != nil {
					t.Fatal(err)
				}
				send = func() error {
					_, err := p.Purge(ctx, purge.Request{Items: purge.URLs("https://www.example.com/a.html")})
					return err
				}
			} else {
				m, err := d.mirror(ctx, tt.mirror(ref, api.URL))
				if err != nil {
					t.Fatal(err)
				}
				send = func() error { return m.Put(ctx, mirror.Object{Key: "a.txt", Size: 2}, bytes.NewReader([]byte("hi"))) }
			}

			steps := []struct {
				name    string
				advance time.Duration
				want    string
				fetched int // more reads of the secret than before this step
			}{
				{"before the rotation", 0, oldCred, 0},
				{"rotated, within the max age", maxAge - time.Second, oldCred, 0},
				{"past the max age", 2 * time.Second, newCred, 1},
				{"again", 0, newCred, 0},
			}
			for i, step := range steps {
				if i == 1 {
					rotate(newCred)
					desk.set(oldCred, newCred) // a rotation keeps the old one valid for a while
				}
				clock.Advance(step.advance)
				before := calls.Count(tt.fetches...)
				if err := send(); err != nil {
					t.Fatalf("%s: got %v, want nil", step.name, err)
				}
				if got := desk.last(); got != step.want {
					t.Errorf("%s: the provider got %q, want %q", step.name, got, step.want)
				}
				if tt.fetches != nil {
					if got := calls.Count(tt.fetches...) - before; got != step.fetched {
						t.Errorf("%s: %v calls: got %d more, want %d (%s)", step.name, tt.fetches, got, step.fetched, calls)
					}
				}
			}
		})
	}

	// The .edgerc is read again past the max age: a new client secret is
	// what the next purge signs with.
	t.Run("akamai edgerc", func(t *testing.T) {
		old := akamaitest.Credentials{ClientToken: "akab-client-token-rotation-000000000000", ClientSecret: "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQ=", AccessToken: "akab-access-token-rotation-000000000000"}
		f := akamaitest.NewFastPurge(old)
		defer f.Close()
		rc := filepath.Join(dir, ".edgerc")
		write := func(c akamaitest.Credentials) {
			body := fmt.Sprintf("[ccu]\nhost = %s\nclient_token = %s\nclient_secret = %s\naccess_token = %s\n",
				strings.TrimPrefix(f.URL, "https://"), c.ClientToken, c.ClientSecret, c.AccessToken)
			if err := os.WriteFile(rc, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write(old)
		clock := fakeclock.New()
		d, err := newDeps(&config.Config{State: config.State{Driver: "memory"}}, slog.New(slog.DiscardHandler), redact.New(),
			func(o *cache.Options) { o.Clock, o.MaxAge, o.Jitter = clock, maxAge, -1 })
		if err != nil {
			t.Fatal(err)
		}
		// The purger as wire builds it, but with the test server's client,
		// which trusts its certificate.
		p, err := akamai.New(akamai.Options{ConfigFunc: d.edgerc(rc, "ccu"), BaseURL: "https://www.example.com", HTTPClient: f.Client()})
		if err != nil {
			t.Fatal(err)
		}
		rotated := old
		rotated.ClientSecret = "bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ="
		for i, step := range []struct {
			name    string
			advance time.Duration
			creds   akamaitest.Credentials // what the server accepts
			ok      bool
		}{
			{"before the rotation", 0, old, true},
			{"rotated, within the max age: the old secret is still read", maxAge - time.Second, old, true},
			{"past the max age: the new secret", 2 * time.Second, rotated, true},
		} {
			if i == 1 {
				write(rotated)
			}
			f.Received() // the server's earlier reads of Creds come before this write
			f.Creds = step.creds
			clock.Advance(step.advance)
			_, err := p.Purge(ctx, purge.Request{Items: purge.URLs("https://www.example.com/a.html")})
			if (err == nil) != step.ok {
				t.Errorf("%s: got %v, want ok %v", step.name, err, step.ok)
			}
		}
	})
}
