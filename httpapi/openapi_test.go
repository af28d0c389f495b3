package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/httpapi"
)

// spec is the OpenAPI document as kin-openapi reads it, and a router that
// finds a request's operation in it. Every request the tests make through
// serve is checked against it, and so is the answer.
type spec struct {
	router routers.Router

	mu   sync.Mutex
	seen map[string]bool // operations ("GET /v1/inbox") checked
}

var (
	specOnce sync.Once
	theSpec  *spec
	specErr  error
)

func loadSpec(t testing.TB) *spec {
	t.Helper()
	specOnce.Do(func() { theSpec, specErr = newSpec() })
	if specErr != nil {
		t.Fatalf("openapi.yaml: %v", specErr)
	}
	return theSpec
}

// loadDoc loads and validates the document, as kin-openapi's loader and
// validator read it.
func loadDoc() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPI)
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(loader.Context)
}

func newSpec() (*spec, error) {
	doc, err := loadDoc()
	if err != nil {
		return nil, err
	}
	// Answers are read strictly: an object schema with properties and no
	// additionalProperties allows no other property, so a field the server
	// sends must be documented.
	closeObjects(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &spec{router: router, seen: map[string]bool{}}, nil
}

func init() {
	// kin-openapi decodes a body to validate it; the dashboard's HTML is a
	// string, as plain text is.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// closeObjects sets additionalProperties: false on every schema with
// properties that does not say, in the components, the parameters, the
// request bodies and the responses. Branches of anyOf, oneOf and allOf
// are left as they are: each sees only part of the object.
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = new(bool)
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				walk(p.Value.Schema)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				for _, mt := range r.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
}

// serve has h answer r, and checks the exchange against the document.
func serve(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			t.Fatal(err)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	vr := r.Clone(r.Context()) // before the handler can change r
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for _, err := range loadSpec(t).check(vr, body, rec) {
		t.Errorf("openapi: %s %s → %d: %v\nbody: %.500s", r.Method, r.URL.Path, rec.Code, err, rec.Body)
	}
	return rec
}

// check checks one exchange against the document. A request the document
// refuses must have been refused with a 4xx. The answer's status must be
// documented for the operation, with its content type, its required
// headers, and a body that matches the schema. An exchange with no
// operation in the document (404 or 405 for a route there is not) has
// nothing to check.
func (s *spec) check(r *http.Request, body []byte, rec *httptest.ResponseRecorder) []error {
	ctx := context.Background()
	// The document's server; the request's own host is httptest's.
	r.URL.Scheme, r.URL.Host, r.Host = "http", "127.0.0.1:8080", "127.0.0.1:8080"
	r.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	s.seen[r.Method+" "+route.Path] = true
	s.mu.Unlock()

	var errs []error
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: presentedAsDocumented}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && (rec.Code < 400 || rec.Code > 499) {
		errs = append(errs, fmt.Errorf("the document refuses the request, the handler answered %d: %w", rec.Code, err))
	}
	in.Options = &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: in.Options}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// presentedAsDocumented accepts a request whose credential is presented as
// the security scheme says (a Basic password where only bearer tokens are
// documented is not). Whether the credential is right is the handler's to
// say, and auth_test.go's to test; a request with none passes, as loopback
// callers need none when no tokens are configured, which OpenAPI cannot say.
func presentedAsDocumented(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	if h.Get("Authorization") == "" && h.Get("X-Api-Key") == "" {
		return nil
	}
	sc := in.SecurityScheme
	switch sc.Type {
	case "http":
		if scheme, _, _ := strings.Cut(h.Get("Authorization"), " "); strings.EqualFold(scheme, sc.Scheme) {
			return nil
		}
	case "apiKey":
		if sc.In == "header" && h.Get(sc.Name) != "" {
			return nil
		}
	}
	return fmt.Errorf("no credential as %s says", in.SecuritySchemeName)
}

// TestMain checks, after a run of every test, that every operation in
// the document was checked at least once.
func TestMain(m *testing.M) {
	code := m.Run()
	if f := flag.Lookup("test.run"); code == 0 && f != nil && f.Value.String() == "" && theSpec != nil {
		var missed []string
		for _, op := range documentedOperations() {
			if !theSpec.seen[op] {
				missed = append(missed, op)
			}
		}
		if len(missed) > 0 {
			fmt.Fprintf(os.Stderr, "openapi: no test checked an answer of %v\n", missed)
			code = 1
		}
	}
	os.Exit(code)
}

func documentedOperations() []string {
	doc, err := loadDoc()
	if err != nil {
		return nil
	}
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// The document is valid OpenAPI, as kin-openapi's validator reads it, and
// documents exactly the handler's routes.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Errorf("openapi: got %q, want 3.0.x", doc.OpenAPI)
	}
	routes := httpapi.Routes()
	slices.Sort(routes)
	if got := documentedOperations(); !slices.Equal(got, routes) {
		t.Errorf("documented operations:\n%v\nwant the handler's routes:\n%v", got, routes)
	}
}

// Every route answers 413 for a body over the limit, and every route that
// needs a token the answers of the middleware in front of it: no token or
// a wrong one (401), a scoped token not allowed there (403), too many
// requests (429), the tokens unreadable (503). No test can make each
// answer on each route, so the document is checked for them.
func TestOpenAPIDocumentsTheMiddlewaresAnswers(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want := []string{"413"}
			if op.Security == nil || len(*op.Security) > 0 {
				want = append(want, "401", "403", "429", "503")
			}
			for _, code := range want {
				if op.Responses.Value(code) == nil {
					t.Errorf("%s %s: no %s answer documented", method, path, code)
				}
			}
		}
	}
}

// check reports what does not match the document: each case is an
// exchange it must refuse.
func TestSpecCheckRejects(t *testing.T) {
	s := loadSpec(t)
	type hdr = map[string]string
	jsonCT := hdr{"Content-Type": "application/json"}
	tests := []struct {
		name         string
		method, path string
		reqHeader    hdr
		reqBody      string
		code         int
		header       hdr
		body         string
		want         string
	}{
		{"missing required property", "GET", "/v1/inbox", nil, "", 500, jsonCT,
			`{"error":{"code":"internal"}}`, `property "message" is missing`},
		{"undocumented property", "GET", "/v1/inbox", nil, "", 500, jsonCT,
			`{"error":{"code":"internal","message":"m","extra":1}}`, `property "extra" is unsupported`},
		{"not in the enum", "GET", "/v1/inbox", nil, "", 500, jsonCT,
			`{"error":{"code":"oops","message":"m"}}`, "value is not one of the allowed values"},
		{"a fraction for an integer", "GET", "/v1/inbox", nil, "", 200, jsonCT,
			`{"depth":1.5,"oldest_age_seconds":0,"failing":0,"failures":[]}`, "value must be an integer"},
		{"undocumented status", "GET", "/v1/inbox", nil, "", 418, jsonCT,
			`{"error":{"code":"internal","message":"m"}}`, "status is not supported"},
		{"undocumented content type", "GET", "/v1/inbox", nil, "", 200, hdr{"Content-Type": "text/plain"},
			`depth 1`, "response header Content-Type has unexpected value"},
		{"required header missing", "GET", "/v1/inbox", nil, "", 429, jsonCT,
			`{"error":{"code":"rate_limited","message":"m"}}`, `response header "Retry-After" missing`},
		{"refused request answered 2xx", "POST", "/v1/purges", jsonCT, `{"target":"cf","path":["/"]}`, 200,
			hdr{"Content-Type": "application/json", "Location": "/v1/purges/1"}, purgeAnswer, "the document refuses the request"},
		{"undocumented credential answered 2xx", "GET", "/v1/inbox", hdr{"Authorization": "Token t"}, "", 200, jsonCT,
			`{"depth":0,"oldest_age_seconds":0,"failing":0,"failures":[]}`, "the document refuses the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.reqBody))
			for k, v := range tt.reqHeader {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			for k, v := range tt.header {
				rec.Header().Set(k, v)
			}
			rec.WriteHeader(tt.code)
			rec.WriteString(tt.body)
			errs := s.check(r, []byte(tt.reqBody), rec)
			if len(errs) == 0 || !strings.Contains(errors.Join(errs...).Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", errs, tt.want)
			}
		})
	}
	// And the same exchange, right, passes.
	r := httptest.NewRequest("GET", "/v1/inbox", nil)
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	rec.WriteString(`{"depth":0,"oldest_age_seconds":0,"failing":0,"failures":[]}`)
	if errs := s.check(r, nil, rec); len(errs) > 0 {
		t.Errorf("a documented answer: got %v, want none", errs)
	}
}

const purgeAnswer = `{"id":"1","target":"cf","provider":"cloudfront","source":"api","created":"2026-01-02T03:04:05Z",` +
	`"state":"done","done":true,"items":1,"failed":0,"calls":[],"failures":[]}`

// The routes a scoped token may name in the configuration are the
// handler's routes that need a token.
func TestConfigKnowsTheRoutes(t *testing.T) {
	var want []string
	for _, r := range httpapi.Routes() {
		if r != "GET /healthz" && r != "GET /openapi.yaml" {
			want = append(want, r)
		}
	}
	if !slices.Equal(config.APIRoutes, want) {
		t.Errorf("config.APIRoutes = %v, want %v", config.APIRoutes, want)
	}
}

// The document the handler serves is the embedded one.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	rec := e.do(req{method: http.MethodGet, target: "/openapi.yaml", remote: "192.0.2.1:1"})
	if rec.Code != http.StatusOK || rec.Body.String() != string(httpapi.OpenAPI) {
		t.Errorf("got %d, %d bytes; want 200 and the document", rec.Code, rec.Body.Len())
	}
}
