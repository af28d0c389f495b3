package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/httpapi"
)

// spec is the OpenAPI document, and a checker of answers against it for
// the subset of JSON Schema it uses: $ref, type, nullable, required,
// properties, additionalProperties, items, enum. An object schema with
// properties and no additionalProperties allows no other property, so a
// field the server sends must be documented.
type spec struct {
	doc map[string]any

	mu      sync.Mutex
	checked map[string]bool // "GET /v1/inbox 200" answers seen
}

var (
	specOnce sync.Once
	theSpec  *spec
	specErr  error
)

func loadSpec(t *testing.T) *spec {
	t.Helper()
	specOnce.Do(func() {
		theSpec = &spec{checked: map[string]bool{}}
		specErr = yaml.Unmarshal(httpapi.OpenAPI, &theSpec.doc)
	})
	if specErr != nil {
		t.Fatalf("openapi.yaml: %v", specErr)
	}
	return theSpec
}

func (s *spec) get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// deref follows $ref until it reaches a value; the error says which ref
// does not resolve.
func (s *spec) deref(v any) (map[string]any, error) {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object: %v", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		if !strings.HasPrefix(ref, "#/") {
			return nil, fmt.Errorf("$ref %q: only local refs are used", ref)
		}
		v = s.get(s.doc, strings.Split(ref[2:], "/")...)
		if v == nil {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return nil, fmt.Errorf("$ref loop")
}

// check checks an answer to method on route (an OpenAPI path) against the
// document: the status is documented, and so is the content type, and a
// JSON body matches its schema.
func (s *spec) check(t *testing.T, method, route string, rec *httptest.ResponseRecorder) {
	t.Helper()
	op, err := s.deref(s.get(s.doc, "paths", route, strings.ToLower(method)))
	if err != nil {
		t.Errorf("openapi: %s %s is not documented", method, route)
		return
	}
	resp, err := s.deref(s.get(op, "responses", strconv.Itoa(rec.Code)))
	if err != nil {
		t.Errorf("openapi: %s %s: status %d is not documented (body %s)", method, route, rec.Code, rec.Body)
		return
	}
	s.mu.Lock()
	s.checked[fmt.Sprintf("%s %s %d", method, route, rec.Code)] = true
	s.mu.Unlock()
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if rec.Body.Len() > 0 {
			t.Errorf("openapi: %s %s %d: body %q, documented without one", method, route, rec.Code, rec.Body)
		}
		return
	}
	for name := range s.mapOf(resp["headers"]) {
		if rec.Header().Get(name) == "" {
			t.Errorf("openapi: %s %s %d: header %s is documented, not sent", method, route, rec.Code, name)
		}
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	media, ok := content[mt].(map[string]any)
	if !ok {
		t.Errorf("openapi: %s %s %d: content type %q is not documented", method, route, rec.Code, mt)
		return
	}
	if mt != "application/json" {
		return
	}
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Errorf("openapi: %s %s %d: body is not JSON: %v", method, route, rec.Code, err)
		return
	}
	for _, e := range s.validate(media["schema"], v, "$") {
		t.Errorf("openapi: %s %s %d: %s\nbody: %s", method, route, rec.Code, e, rec.Body)
	}
}

func (s *spec) validate(schema any, v any, at string) []string {
	sc, err := s.deref(schema)
	if err != nil {
		return []string{at + ": " + err.Error()}
	}
	if v == nil {
		if sc["nullable"] == true {
			return nil
		}
		return []string{at + ": null, and the schema is not nullable"}
	}
	var errs []string
	if enum, ok := sc["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
	}
	switch typ, _ := sc["type"].(string); typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %T, want an object", at, v))
		}
		props, _ := sc["properties"].(map[string]any)
		for _, r := range s.list(sc["required"]) {
			if _, ok := m[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required property %q is missing", at, r))
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				errs = append(errs, s.validate(ps, m[k], at+"."+k)...)
			} else if ap, ok := sc["additionalProperties"]; ok {
				if ap != false {
					errs = append(errs, s.validate(ap, m[k], at+"."+k)...)
				}
			} else if props != nil {
				errs = append(errs, fmt.Sprintf("%s: property %q is not documented", at, k))
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %T, want an array", at, v))
		}
		for i, it := range a {
			errs = append(errs, s.validate(sc["items"], it, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: %T, want a string", at, v))
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			errs = append(errs, fmt.Sprintf("%s: %v, want an integer", at, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			errs = append(errs, fmt.Sprintf("%s: %T, want a number", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: %T, want a boolean", at, v))
		}
	case "":
		errs = append(errs, at+": the schema has no type")
	default:
		errs = append(errs, at+": unknown type "+typ)
	}
	return errs
}

// The document is well formed: OpenAPI 3.0, every operation has responses
// with descriptions, path parameters are declared, every $ref resolves,
// operation ids are unique, and it documents exactly the handler's routes.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	s := loadSpec(t)
	if v, _ := s.doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Errorf("openapi: %q, want 3.0.x", v)
	}
	if s.get(s.doc, "info", "title") == nil || s.get(s.doc, "info", "version") == nil {
		t.Error("info.title and info.version are required")
	}
	paths, _ := s.doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatal("no paths")
	}
	schemes, _ := s.get(s.doc, "components", "securitySchemes").(map[string]any)
	checkSecurity := func(where string, v any) {
		reqs, _ := v.([]any)
		for _, r := range reqs {
			for name := range r.(map[string]any) {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: security scheme %q is not defined", where, name)
				}
			}
		}
	}
	checkSecurity("security", s.doc["security"])

	var documented []string
	ids := map[string]string{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	for path, item := range paths {
		if !strings.HasPrefix(path, "/") {
			t.Errorf("path %q does not start with /", path)
		}
		for m, opv := range item.(map[string]any) {
			if !slices.Contains(methods, m) {
				t.Errorf("%s: %q is not an operation", path, m)
				continue
			}
			where := strings.ToUpper(m) + " " + path
			documented = append(documented, where)
			op := opv.(map[string]any)
			if id, _ := op["operationId"].(string); id == "" {
				t.Errorf("%s: no operationId", where)
			} else if other, dup := ids[id]; dup {
				t.Errorf("%s: operationId %q is also %s's", where, id, other)
			} else {
				ids[id] = where
			}
			if sec, ok := op["security"]; ok {
				checkSecurity(where, sec)
			}
			declared := map[string]bool{}
			for _, p := range s.list(op["parameters"]) {
				pm, err := s.deref(p)
				if err != nil {
					t.Errorf("%s: parameter: %v", where, err)
					continue
				}
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
					if pm["required"] != true {
						t.Errorf("%s: path parameter %v must be required", where, pm["name"])
					}
				}
				if pm["schema"] == nil {
					t.Errorf("%s: parameter %v has no schema", where, pm["name"])
				}
			}
			for _, m := range param.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter {%s} is not declared", where, m[1])
				}
				delete(declared, m[1])
			}
			for p := range declared {
				t.Errorf("%s: parameter %s is not in the path", where, p)
			}
			resps, _ := op["responses"].(map[string]any)
			if len(resps) == 0 {
				t.Errorf("%s: no responses", where)
			}
			for code, r := range resps {
				if _, err := strconv.Atoi(code); (err != nil || len(code) != 3) && code != "default" {
					t.Errorf("%s: response %q is not a status code", where, code)
				}
				rm, err := s.deref(r)
				if err != nil {
					t.Errorf("%s %s: %v", where, code, err)
					continue
				}
				if d, _ := rm["description"].(string); d == "" {
					t.Errorf("%s %s: no description", where, code)
				}
				for mt, media := range s.mapOf(rm["content"]) {
					if _, err := s.deref(s.get(media, "schema")); err != nil {
						t.Errorf("%s %s %s: schema: %v", where, code, mt, err)
					}
				}
			}
		}
	}
	// Every $ref anywhere resolves, and every schema has a type.
	s.walk(s.doc, "#", func(at string, m map[string]any) {
		if ref, ok := m["$ref"].(string); ok {
			if _, err := s.deref(m); err != nil {
				t.Errorf("%s: %v", at, err)
			}
			if len(m) > 1 {
				t.Errorf("%s: $ref has siblings, which OpenAPI 3.0 ignores", at)
			}
			_ = ref
		}
	})
	for name, sc := range s.mapOf(s.get(s.doc, "components", "schemas")) {
		s.walkSchema(t, "#/components/schemas/"+name, sc)
	}

	routes := httpapi.Routes()
	slices.Sort(routes)
	slices.Sort(documented)
	if !slices.Equal(routes, documented) {
		t.Errorf("documented operations:\n%v\nthe handler's routes:\n%v", documented, routes)
	}
}

func (s *spec) list(v any) []any {
	l, _ := v.([]any)
	return l
}

func (s *spec) mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func (s *spec) walk(v any, at string, f func(string, map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(at, x)
		for k, c := range x {
			s.walk(c, at+"/"+k, f)
		}
	case []any:
		for i, c := range x {
			s.walk(c, fmt.Sprintf("%s/%d", at, i), f)
		}
	}
}

// walkSchema checks that every schema names a type the checker knows, and
// that required properties are defined.
func (s *spec) walkSchema(t *testing.T, at string, v any) {
	m := s.mapOf(v)
	if _, ok := m["$ref"]; ok {
		return
	}
	typ, _ := m["type"].(string)
	if !slices.Contains([]string{"object", "array", "string", "integer", "number", "boolean"}, typ) {
		t.Errorf("%s: type %q", at, typ)
	}
	props := s.mapOf(m["properties"])
	for _, r := range s.list(m["required"]) {
		if _, ok := props[r.(string)]; !ok && props != nil {
			t.Errorf("%s: required %v is not a property", at, r)
		}
	}
	for k, p := range props {
		s.walkSchema(t, at+"/properties/"+k, p)
	}
	if it, ok := m["items"]; ok {
		s.walkSchema(t, at+"/items", it)
	} else if typ == "array" {
		t.Errorf("%s: an array without items", at)
	}
	if ap, ok := m["additionalProperties"].(map[string]any); ok {
		s.walkSchema(t, at+"/additionalProperties", ap)
	}
}

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
	e.spec.check(t, http.MethodGet, "/openapi.yaml", rec)
	if rec.Code != http.StatusOK || rec.Body.String() != string(httpapi.OpenAPI) {
		t.Errorf("got %d, %d bytes; want 200 and the document", rec.Code, rec.Body.Len())
	}
}
