package netstorage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
	"github.com/offload-dev/offload/purge/purgetest"
)

const (
	cpcode  = "123456"
	keyName = "uploader"
	key     = "NSKEY-secret-0123456789abcdefghijklmnop"
)

func newServer(t *testing.T) *akamaitest.NetStorage {
	t.Helper()
	s := akamaitest.NewNetStorage(cpcode, keyName, key)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *akamaitest.NetStorage, tweak ...func(*netstorage.Options)) (*netstorage.Client, *purgetest.Sleeper) {
	t.Helper()
	sl := purgetest.NewSleeper()
	o := netstorage.Options{Host: "example-nsu.akamaihd.net", APIURL: s.URL, CPCode: cpcode, Dir: "/site",
		KeyName: keyName, Key: key, Retry: sl.Policy()}
	for _, f := range tweak {
		f(&o)
	}
	c, err := netstorage.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

// The official example from Akamai's NetStorage Usage API documentation.
func TestAuthVector(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/akamai/netstorage_auth_vector.json")
	if err != nil {
		t.Fatalf("official vector: %v", err)
	}
	var v struct {
		Key, AuthData, Path, Action, StringToSign, ExpectedAuthSign string
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	v.Key, v.AuthData, v.Path, v.Action, v.StringToSign, v.ExpectedAuthSign =
		m["key"], m["auth_data"], m["path"], m["action"], m["string_to_sign"], m["expected_auth_sign"]
	if got := v.AuthData + v.Path + "\nx-akamai-acs-action:" + v.Action + "\n"; got != v.StringToSign {
		t.Errorf("string to sign: got %q, want %q", got, v.StringToSign)
	}
	for name, sign := range map[string]func(k, a, p, ac string) string{
		"client": netstorage.Sign, "test server": akamaitest.NetStorageSign,
	} {
		if got := sign(v.Key, v.AuthData, v.Path, v.Action); got != v.ExpectedAuthSign {
			t.Errorf("%s: got %s, want %s", name, got, v.ExpectedAuthSign)
		}
	}
}

func sums(b []byte) ([]byte, []byte) {
	m, s := md5.Sum(b), sha256.Sum256(b)
	return m[:], s[:]
}

// onlyReader hides every method but Read (no Seek, no WriterTo).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestPut(t *testing.T) {
	data := bytes.Repeat([]byte("offload "), 10000)
	m5, s256 := sums(data)
	mtime := time.Unix(1260000000, 0)
	tests := []struct {
		name     string
		obj      mirror.Object
		body     io.Reader
		wantPath string
		chunked  bool
	}{
		{"known size and digests", mirror.Object{Key: "docs/a.html", Size: int64(len(data)), MD5: m5, SHA256: s256, ModTime: mtime},
			bytes.NewReader(data), "/123456/site/docs/a.html", false},
		{"unknown size, sent chunked", mirror.Object{Key: "b.bin", Size: -1},
			onlyReader{bytes.NewReader(data)}, "/123456/site/b.bin", true},
		{"empty", mirror.Object{Key: "empty", Size: 0}, bytes.NewReader(nil), "/123456/site/empty", false},
		{"spaces and unicode, deep directories", mirror.Object{Key: "a b/ü/c+d?.html", Size: int64(len(data))},
			bytes.NewReader(data), "/123456/site/a b/ü/c+d?.html", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			c, _ := newClient(t, s)
			if err := c.Put(context.Background(), tt.obj, tt.body); err != nil {
				t.Fatalf("Put: got %v, want nil", err)
			}
			f, ok := s.File(tt.wantPath)
			if !ok {
				t.Fatalf("file %s: not on the server (log %v)", tt.wantPath, s.Log())
			}
			want := data
			if tt.obj.Size == 0 {
				want = nil
			}
			wm, ws := sums(want)
			if f.Size != int64(len(want)) || f.MD5 != hex.EncodeToString(wm) || f.SHA256 != hex.EncodeToString(ws) {
				t.Errorf("file: got %+v, want %d bytes md5 %x", f, len(want), wm)
			}
			if f.Chunked != tt.chunked {
				t.Errorf("chunked: got %v, want %v", f.Chunked, tt.chunked)
			}
			if !tt.obj.ModTime.IsZero() && f.MTime != tt.obj.ModTime.Unix() {
				t.Errorf("mtime: got %d, want %d", f.MTime, tt.obj.ModTime.Unix())
			}
			dir := tt.wantPath[:strings.LastIndex(tt.wantPath, "/")]
			if !s.Dir(dir) {
				t.Errorf("directory %s: not created", dir)
			}
			if got := s.Log(); !slices.Equal(got, []string{"PUT upload 200"}) {
				t.Errorf("requests: got %v, want one upload", got)
			}
		})
	}
}

func TestUnsafeKeys(t *testing.T) {
	s := newServer(t)
	c, _ := newClient(t, s)
	for _, k := range []string{"../etc/passwd", "/abs", "a/../../b", "", "a/..", "x\x00y"} {
		err := c.Put(context.Background(), mirror.Object{Key: k, Size: 1}, strings.NewReader("x"))
		if !errors.Is(err, mirror.ErrUnsafeKey) {
			t.Errorf("Put(%q): got %v, want ErrUnsafeKey", k, err)
		}
		if err := c.Delete(context.Background(), k); !errors.Is(err, mirror.ErrUnsafeKey) {
			t.Errorf("Delete(%q): got %v, want ErrUnsafeKey", k, err)
		}
	}
	if got := s.Log(); len(got) != 0 {
		t.Errorf("requests: got %v, want none sent", got)
	}
}

// NetStorage's refusals come back with its words, retried only when they
// may pass and the body can be read again; the key never shows.
func TestFailures(t *testing.T) {
	data := []byte("hello, edge")
	m5, _ := sums(data)
	bad5 := slices.Clone(m5)
	bad5[0] ^= 1
	tests := []struct {
		name    string
		opts    func(*netstorage.Options)
		faults  []int
		obj     mirror.Object
		body    func() io.Reader
		wantErr string // "" for success
		wantLog []string
	}{
		{"wrong key", func(o *netstorage.Options) { o.Key = "wrong-key-wrong-key" }, nil,
			mirror.Object{Key: "a", Size: 11}, func() io.Reader { return bytes.NewReader(data) },
			"netstorage: upload /123456/site/a: HTTP 403 Forbidden: 403 Forbidden signature mismatch", []string{"PUT upload 403"}},
		{"md5 differs", nil, nil, mirror.Object{Key: "a", Size: 11, MD5: bad5},
			func() io.Reader { return bytes.NewReader(data) }, "HTTP 400 Bad Request: 400 Bad Request md5 mismatch", []string{"PUT upload 400"}},
		{"5xx retried with a seekable body", nil, []int{503, 500}, mirror.Object{Key: "a", Size: 11, MD5: m5},
			func() io.Reader { return bytes.NewReader(data) }, "", []string{"PUT upload 503", "PUT upload 500", "PUT upload 200"}},
		{"5xx not retried with a stream", nil, []int{503}, mirror.Object{Key: "a", Size: 11},
			func() io.Reader { return onlyReader{bytes.NewReader(data)} }, "HTTP 503 Service Unavailable", []string{"PUT upload 503"}},
		{"clock 5 minutes slow, corrected", func(o *netstorage.Options) { o.Now = func() time.Time { return time.Now().Add(-5 * time.Minute) } },
			nil, mirror.Object{Key: "a", Size: 11}, func() io.Reader { return bytes.NewReader(data) },
			"", []string{"PUT upload 403", "PUT upload 200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.Fail(tt.faults...)
			var tweaks []func(*netstorage.Options)
			if tt.opts != nil {
				tweaks = append(tweaks, tt.opts)
			}
			c, _ := newClient(t, s, tweaks...)
			err := c.Put(context.Background(), tt.obj, tt.body())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Put: got %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Put: got %v, want %q in it", err, tt.wantErr)
			}
			if err != nil {
				for _, secret := range []string{key, "wrong-key-wrong-key"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the key appears in the error: %v", err)
					}
				}
			}
			if got := s.Log(); !slices.Equal(got, tt.wantLog) {
				t.Errorf("requests: got %v, want %v", got, tt.wantLog)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	s := newServer(t)
	c, _ := newClient(t, s)
	if err := c.Put(context.Background(), mirror.Object{Key: "d/x", Size: 1}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second finds nothing: still no error
		if err := c.Delete(context.Background(), "d/x"); err != nil {
			t.Errorf("Delete %d: got %v, want nil", i, err)
		}
	}
	if _, ok := s.File("/123456/site/d/x"); ok {
		t.Error("file still there after Delete")
	}
	want := []string{"PUT upload 200", "POST delete 200", "POST delete 404"}
	if got := s.Log(); !slices.Equal(got, want) {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

func TestCancelled(t *testing.T) {
	s := newServer(t)
	c, _ := newClient(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Put(ctx, mirror.Object{Key: "x", Size: 1}, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: got %v, want context.Canceled", err)
	}
	if err := c.Delete(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: got %v, want context.Canceled", err)
	}
}

func TestNewAndSecrets(t *testing.T) {
	s := newServer(t)
	c, _ := newClient(t, s)
	all := fmt.Sprintf("%v %+v %#v %s", c, c, c, c)
	if strings.Contains(all, key) {
		t.Errorf("the key appears in %s", all)
	}
	if got, want := c.String(), "netstorage.Client{host: example-nsu.akamaihd.net, path: /123456/site, keyname: uploader}"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	tests := []struct {
		opts netstorage.Options
		want string
	}{
		{netstorage.Options{Host: "h", CPCode: "1", KeyName: "k"}, "netstorage: bad configuration: Options.Key (or KeyFunc) required"},
		{netstorage.Options{}, "Options.Host, Options.CPCode, Options.KeyName, Options.Key (or KeyFunc) required"},
		{netstorage.Options{Host: "h", CPCode: "1", KeyName: "k", Key: key, KeyFunc: func(context.Context) (string, error) { return key, nil }},
			"set Options.Key or Options.KeyFunc, not both"},
		{netstorage.Options{CPCode: "1", KeyName: "k", Key: key}, "Options.Host required"},
		{netstorage.Options{Host: "h", CPCode: "abc", KeyName: "k", Key: key}, `Options.CPCode "abc" is not a number`},
		{netstorage.Options{Host: "h", CPCode: "1", KeyName: "k", Key: key, Dir: "/a/../.."}, `Options.Dir "/a/../.." holds ".."`},
	}
	for _, tt := range tests {
		_, err := netstorage.New(tt.opts)
		if !errors.Is(err, netstorage.ErrConfig) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), key) {
			t.Errorf("New: got %v, want ErrConfig with %q and no key", err, tt.want)
		}
	}
}
