package config_test

import (
	"context"
	"fmt"
	"os"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/config"
)

// redactor keeps the secret values it is told; internal/redact's
// Redactor, which offload uses, replaces them in what leaves the process.
type redactor struct{ values []string }

func (r *redactor) Add(s string) { r.values = append(r.values, s) }

// A Resolver tells its redactor every value it reads.
func ExampleResolver_SetRedactor() {
	os.Setenv("OFFLOAD_EXAMPLE_TOKEN", "s3cret-token-value")
	defer os.Unsetenv("OFFLOAD_EXAMPLE_TOKEN")
	c, err := cache.New(cache.Options{})
	if err != nil {
		panic(err)
	}
	r := config.NewResolver(c, nil)
	red := &redactor{}
	r.SetRedactor(red)
	if _, err := r.Resolve(context.Background(), "env:OFFLOAD_EXAMPLE_TOKEN"); err != nil {
		panic(err)
	}
	fmt.Println(len(red.values), "value told")
	// Output:
	// 1 value told
}
