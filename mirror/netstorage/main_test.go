package netstorage_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/akamaitest"
)

// TestMain gives the example what a deployment has: the storage group's
// hostname and the upload key in the environment. Here the hostname is a
// local server that checks signatures as NetStorage does, over HTTPS with a
// certificate the process trusts, so the example reads as a user's code:
// netstorage.New with no test-only options.
func TestMain(m *testing.M) { os.Exit(runWithNetStorage(m)) }

func runWithNetStorage(m *testing.M) int {
	dir, err := os.MkdirTemp("", "netstorage-example")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv := akamaitest.NewNetStorageTLS("123456", "uploader", key)
	defer srv.Close()
	if err := akamaitest.TrustTLS(srv.Server, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("NETSTORAGE_HOST", strings.TrimPrefix(srv.URL, "https://"))
	os.Setenv("NETSTORAGE_KEY", key)
	return m.Run()
}
