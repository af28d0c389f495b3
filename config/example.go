package config

import (
	_ "embed"
	"slices"
)

//go:embed example.yaml
var exampleYAML []byte

// ExampleYAML returns a complete annotated configuration: every field of
// every section, each with a comment that says what it does and its
// default. It is valid (Parse accepts it) and is what `offload config
// example` prints.
func ExampleYAML() []byte { return slices.Clone(exampleYAML) }
