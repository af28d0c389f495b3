package mirror_test

import (
	"fmt"

	"github.com/offload-dev/offload/mirror"
)

func ExampleJoin() {
	for _, key := range []string{"docs/a b.html", "a/./b.html", "../secret", "/abs", ""} {
		p, err := mirror.Join("site", key)
		fmt.Printf("%q %v\n", p, err)
	}
	// Output:
	// "/site/docs/a b.html" <nil>
	// "/site/a/b.html" <nil>
	// "" key escapes the mirror's directory: "../secret"
	// "" key escapes the mirror's directory: "/abs"
	// "" key escapes the mirror's directory: ""
}
