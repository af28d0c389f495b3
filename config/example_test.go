package config_test

import (
	"errors"
	"fmt"

	"github.com/offload-dev/offload/config"
)

// Parse reports every mistake in a file at once, each with its place, the
// field's path and what is allowed.
func ExampleParse() {
	_, err := config.Parse("offload.yaml", []byte(`sites:
  - name: www
    bucket: my-site
    purge_new: sometimes
    targets: [cf, edge]
targets:
  - name: cf
    provider: cloudfront
    distribtion_id: E8F6HK73EP0LT
`))
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e)
		}
	}
	// Output:
	// offload.yaml:4:16: sites[0].purge_new: want true or false, got "sometimes"
	// offload.yaml:5:19: sites[0].targets[1]: no target is named "edge" (configured: "cf")
	// offload.yaml:7:5: targets[0].distribution_id: required by provider cloudfront
	// offload.yaml:9:5: targets[0].distribtion_id: unknown field; did you mean "distribution_id"? (the fields of a cloudfront target: name, provider, distribution_id, collapse, timeout)
}

// ExampleYAML is a complete configuration that sets every field.
func ExampleExampleYAML() {
	cfg, err := config.Parse("example.yaml", config.ExampleYAML())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range cfg.Targets {
		fmt.Println(t.Name, t.Provider)
	}
	// Output:
	// cf cloudfront
	// ak akamai
	// fy fastly
	// cfl cloudflare
	// edge varnish
	// dry-run log
}
