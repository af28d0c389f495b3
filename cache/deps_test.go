package cache_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The core is what every user of Func or Store pulls in: it must not need
// aws-lambda-go (the handler wrapper is in lambdacache) nor the AWS SDK or
// smithy-go (error classification is in the sources).
func TestCoreDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/aws/", "github.com/offload-dev/offload/cache/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the cache core depends on %s", dep)
			}
		}
	}
}
