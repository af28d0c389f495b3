//go:build !offload_lambda

package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/awstest"
)

func TestMain(m *testing.M) { os.Exit(awstest.RunMain(m)) }

// offload runs the command line in-process and returns its exit code and
// output.
func offload(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// awsEnv points the AWS SDK's default configuration at moto.
func awsEnv(t *testing.T, moto *awstest.Moto) {
	t.Setenv("AWS_ENDPOINT_URL", moto.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("OFFLOAD_S3_PATH_STYLE", "true")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
