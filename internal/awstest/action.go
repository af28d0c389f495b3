package awstest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Actions names the IAM actions an SDK request needs, as a policy's Action
// writes them ("s3:GetObject"): the service from the credential scope of
// the request's signature, the operation from X-Amz-Target or, for the
// REST APIs of S3 (path-style) and CloudFront, from the method and path.
// It reports false for a request it cannot name rather than guess.
func Actions(r *http.Request) ([]string, bool) {
	service := signingName(r.Header.Get("Authorization"))
	if service == "" {
		return nil, false
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		op := t[strings.LastIndexByte(t, '.')+1:]
		acts := []string{service + ":" + op}
		if service == "secretsmanager" && op == "BatchGetSecretValue" {
			// It also needs GetSecretValue on every secret it reads.
			acts = append(acts, "secretsmanager:GetSecretValue")
		}
		return acts, true
	}
	var op string
	switch service {
	case "s3":
		op = s3Action(r)
	case "cloudfront":
		op = cloudFrontAction(r)
	}
	if op == "" {
		return nil, false
	}
	return []string{service + ":" + op}, true
}

// signingName reads the service from "AWS4-HMAC-SHA256
// Credential=AKID/20260101/us-east-1/s3/aws4_request, ...".
func signingName(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// s3Action names a path-style S3 request's IAM action: the ones on objects
// and the bucket listing; anything else is left unnamed.
func s3Action(r *http.Request) string {
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	if key == "" {
		if r.Method == http.MethodGet && (len(q) == 0 || q.Has("list-type") || q.Has("prefix")) {
			return "ListBucket" // ListObjects and ListObjectsV2
		}
		return ""
	}
	if len(q) > 0 && !q.Has("versionId") && !q.Has("x-id") {
		return "" // a sub-resource: ?tagging, ?acl, ?uploads...
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if q.Has("versionId") {
			return "GetObjectVersion"
		}
		return "GetObject"
	case http.MethodPut:
		return "PutObject"
	case http.MethodDelete:
		if q.Has("versionId") {
			return "DeleteObjectVersion"
		}
		return "DeleteObject"
	}
	return ""
}

var (
	invalidations = regexp.MustCompile(`^/20\d\d-\d\d-\d\d/distribution/[^/]+/invalidation$`)
	invalidation  = regexp.MustCompile(`^/20\d\d-\d\d-\d\d/distribution/[^/]+/invalidation/[^/]+$`)
)

func cloudFrontAction(r *http.Request) string {
	switch {
	case r.Method == http.MethodPost && invalidations.MatchString(r.URL.Path):
		return "CreateInvalidation"
	case r.Method == http.MethodGet && invalidations.MatchString(r.URL.Path):
		return "ListInvalidations"
	case r.Method == http.MethodGet && invalidation.MatchString(r.URL.Path):
		return "GetInvalidation"
	}
	return ""
}

// ActionRecorder is a proxy in front of an endpoint (moto) that records the
// IAM actions of every request through it: what a role for the caller must
// allow.
type ActionRecorder struct {
	*httptest.Server

	mu      sync.Mutex
	actions map[string]int
	unnamed []string
}

// NewActionRecorder starts a recorder on 127.0.0.1 in front of target.
// Close it when done.
func NewActionRecorder(target string) *ActionRecorder {
	u, err := url.Parse(target)
	if err != nil {
		panic("awstest: action recorder target " + target + ": " + err.Error())
	}
	a := &ActionRecorder{actions: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = Transport()
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acts, ok := Actions(r)
		a.mu.Lock()
		for _, act := range acts {
			a.actions[act]++
		}
		if !ok {
			a.unnamed = append(a.unnamed, r.Method+" "+r.URL.RequestURI())
		}
		a.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	return a
}

// Actions returns the actions recorded, sorted.
func (a *ActionRecorder) Actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.actions))
	for act := range a.actions {
		out = append(out, act)
	}
	slices.Sort(out)
	return out
}

// Unnamed returns the requests Actions could not name.
func (a *ActionRecorder) Unnamed() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.unnamed)
}
