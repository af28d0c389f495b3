package akamaitest

import (
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
)

// TrustTLS makes srv's certificate the only root the process trusts, by
// writing it into dir and pointing SSL_CERT_FILE at it, so that a client
// with Go's default transport reaches srv as it would reach Akamai: an
// example then needs no test-only HTTPClient. Go reads SSL_CERT_FILE once,
// at the first certificate check, so call it from TestMain before m.Run.
func TrustTLS(srv *httptest.Server, dir string) error {
	cert := srv.Certificate()
	if cert == nil {
		return fmt.Errorf("akamaitest: trust %s: not a TLS server", srv.URL)
	}
	file := filepath.Join(dir, "akamaitest-ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		return fmt.Errorf("akamaitest: trust %s: %w", srv.URL, err)
	}
	return os.Setenv("SSL_CERT_FILE", file)
}
