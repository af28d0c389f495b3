package httpapi

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the API's OpenAPI 3.0 document, served at GET /openapi.yaml.
// A test checks it is well formed and that the handler's real answers match
// it.
//
//go:embed openapi.yaml
var OpenAPI []byte

func (s *server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(OpenAPI)
}
