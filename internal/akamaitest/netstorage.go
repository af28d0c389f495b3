package akamaitest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NetStorageSign is the X-Akamai-ACS-Auth-Sign NetStorage expects, computed
// here apart from the client's own code: base64(HMAC-SHA256(key,
// authData + path + "\n" + "x-akamai-acs-action:" + action + "\n")).
func NetStorageSign(key, authData, path, action string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(authData))
	m.Write([]byte(path))
	m.Write([]byte("\nx-akamai-acs-action:" + action + "\n"))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// File is what the NetStorage server keeps of an upload: its digests, not
// its bytes.
type File struct {
	Size   int64
	MD5    string // hex
	SHA256 string // hex
	MTime  int64
	// Chunked is true when the upload came without a Content-Length.
	Chunked bool
}

// NetStorage is an httptest server (127.0.0.1, plain HTTP or HTTPS) that behaves as
// the NetStorage HTTP API: it checks the action header, the auth data (version
// 5, known key name, time within Skew of its clock, unique id not reused)
// and the HMAC-SHA256 signature (403 when wrong, with a Date header), streams
// uploads through MD5 and SHA-256 without keeping them, refuses a body whose
// md5, sha256 or size differs from the action header's, creates directories
// implicitly, and answers a delete of a missing file with 404.
type NetStorage struct {
	*httptest.Server
	CPCode string
	Keys   map[string]string // key name → key
	// Now is the server's clock; default time.Now.
	Now  func() time.Time
	Skew time.Duration // default 60s

	mu     sync.Mutex
	files  map[string]File
	dirs   map[string]bool
	ids    map[string]bool
	faults []int
	log    []string
}

// NewNetStorage starts a server for one CP code and one upload account.
func NewNetStorage(cpcode, keyName, key string) *NetStorage {
	s := newNetStorage(cpcode, keyName, key)
	s.Server.Start()
	return s
}

// NewNetStorageTLS is NewNetStorage over HTTPS, as NetStorage answers on
// https://Host: with TrustTLS, a client built with no APIURL and no
// HTTPClient reaches it as it would reach NetStorage.
func NewNetStorageTLS(cpcode, keyName, key string) *NetStorage {
	s := newNetStorage(cpcode, keyName, key)
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by Close
	s.Server.StartTLS()
	return s
}

func newNetStorage(cpcode, keyName, key string) *NetStorage {
	s := &NetStorage{CPCode: cpcode, Keys: map[string]string{keyName: key}, Now: time.Now, Skew: time.Minute,
		files: map[string]File{}, dirs: map[string]bool{"/" + cpcode: true}, ids: map[string]bool{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// File returns the file at path ("/123456/dir/a.html"), if any.
func (s *NetStorage) File(path string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[path]
	return f, ok
}

// Dir reports whether path is a directory.
func (s *NetStorage) Dir(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirs[path]
}

// Fail answers the next requests, after their signature is checked, with
// these statuses.
func (s *NetStorage) Fail(status ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, status...)
}

// Log returns "METHOD action status" for each request received.
func (s *NetStorage) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *NetStorage) refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<HTML><HEAD><TITLE>%d %s</TITLE></HEAD><BODY>%s</BODY></HTML>", status, http.StatusText(status), msg)
}

func (s *NetStorage) serve(w http.ResponseWriter, r *http.Request) {
	status, action := s.handle(w, r)
	s.mu.Lock()
	s.log = append(s.log, fmt.Sprintf("%s %s %d", r.Method, action, status))
	s.mu.Unlock()
}

func (s *NetStorage) handle(w http.ResponseWriter, r *http.Request) (int, string) {
	actionHdr := r.Header.Get("X-Akamai-ACS-Action")
	if actionHdr == "" {
		s.refuse(w, http.StatusForbidden, "not an API request: no X-Akamai-ACS-Action")
		return 403, ""
	}
	av, err := url.ParseQuery(actionHdr)
	if err != nil || av.Get("version") != "1" {
		s.refuse(w, http.StatusBadRequest, "bad X-Akamai-ACS-Action: version must be 1")
		return 400, av.Get("action")
	}
	action := av.Get("action")
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Akamai-") && name != "X-Akamai-Acs-Action" && name != "X-Akamai-Acs-Auth-Data" && name != "X-Akamai-Acs-Auth-Sign" {
			s.refuse(w, http.StatusBadRequest, "unexpected header "+name)
			return 400, action
		}
	}
	// Auth data: "5, 0.0.0.0, 0.0.0.0, time, unique id, key name".
	ad := r.Header.Get("X-Akamai-ACS-Auth-Data")
	f := strings.Split(ad, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	if len(f) != 6 || f[0] != "5" {
		s.refuse(w, http.StatusForbidden, "bad X-Akamai-ACS-Auth-Data")
		return 403, action
	}
	key, ok := s.Keys[f[5]]
	if !ok {
		s.refuse(w, http.StatusForbidden, "unknown key name")
		return 403, action
	}
	ts, err := strconv.ParseInt(f[3], 10, 64)
	now := s.Now()
	if err != nil || time.Unix(ts, 0).Sub(now).Abs() > s.Skew {
		s.refuse(w, http.StatusForbidden, "auth data time out of range")
		return 403, action
	}
	want := NetStorageSign(key, ad, r.URL.EscapedPath(), actionHdr)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Akamai-ACS-Auth-Sign"))) {
		s.refuse(w, http.StatusForbidden, "signature mismatch")
		return 403, action
	}
	s.mu.Lock()
	reused := s.ids[f[4]+"/"+f[3]]
	s.ids[f[4]+"/"+f[3]] = true
	var fault int
	if len(s.faults) > 0 {
		fault, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()
	if reused {
		s.refuse(w, http.StatusForbidden, "unique id reused")
		return 403, action
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/"+s.CPCode+"/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
		s.refuse(w, http.StatusForbidden, "path outside the CP code's storage")
		return 403, action
	}
	if fault != 0 {
		io.Copy(io.Discard, r.Body)
		s.refuse(w, fault, "injected failure")
		return fault, action
	}
	switch {
	case action == "upload" && r.Method == http.MethodPut:
		return s.upload(w, r, p, av), action
	case action == "delete" && r.Method == http.MethodPost:
		s.mu.Lock()
		_, ok := s.files[p]
		delete(s.files, p)
		s.mu.Unlock()
		if !ok {
			s.refuse(w, http.StatusNotFound, "file not found")
			return 404, action
		}
		io.WriteString(w, "<HTML>Request Processed.</HTML>\n")
		return 200, action
	}
	s.refuse(w, http.StatusBadRequest, fmt.Sprintf("action %q not supported with %s", action, r.Method))
	return 400, action
}

func (s *NetStorage) upload(w http.ResponseWriter, r *http.Request, p string, av url.Values) int {
	md, sh := md5.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(md, sh), r.Body)
	if err != nil {
		s.refuse(w, http.StatusBadRequest, "reading body: "+err.Error())
		return 400
	}
	got := File{Size: n, MD5: hexSum(md), SHA256: hexSum(sh), Chunked: r.ContentLength < 0}
	if v := av.Get("md5"); v != "" && v != got.MD5 {
		s.refuse(w, http.StatusBadRequest, "md5 mismatch")
		return 400
	}
	if v := av.Get("sha256"); v != "" && v != got.SHA256 {
		s.refuse(w, http.StatusBadRequest, "sha256 mismatch")
		return 400
	}
	if v := av.Get("size"); v != "" && v != strconv.FormatInt(n, 10) {
		s.refuse(w, http.StatusBadRequest, "size mismatch")
		return 400
	}
	got.MTime, _ = strconv.ParseInt(av.Get("mtime"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirs[p] {
		s.refuse(w, http.StatusConflict, "a directory exists at this path")
		return 409
	}
	// Implicit directories, as NetStorage creates them.
	for d := p[:strings.LastIndex(p, "/")]; d != ""; d = d[:strings.LastIndex(d, "/")] {
		if _, isFile := s.files[d]; isFile {
			s.refuse(w, http.StatusConflict, "a file exists at a parent path")
			return 409
		}
		s.dirs[d] = true
	}
	s.files[p] = got
	io.WriteString(w, "<HTML>Request Processed.</HTML>\n")
	return 200
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
