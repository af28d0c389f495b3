package akamai_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/akamaitest"
)

// TestMain gives the examples what a user's machine has: an ~/.edgerc whose
// default section is a credential for the Fast Purge API. Here that API is
// a local server that checks the EdgeGrid signature as Akamai's does, over
// HTTPS with a certificate the process trusts, so the examples read as a
// user's code: akamai.New with no test-only options.
func TestMain(m *testing.M) { os.Exit(runWithEdgeRC(m)) }

func runWithEdgeRC(m *testing.M) int {
	home, err := os.MkdirTemp("", "akamai-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	srv := akamaitest.NewFastPurge(creds)
	defer srv.Close()
	rc := fmt.Sprintf("[default]\nhost = %s\nclient_token = %s\nclient_secret = %s\naccess_token = %s\n",
		strings.TrimPrefix(srv.URL, "https://"), clientToken, clientSecret, accessToken)
	if err := os.WriteFile(filepath.Join(home, ".edgerc"), []byte(rc), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := akamaitest.TrustTLS(srv.Server, home); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("HOME", home)
	return m.Run()
}
