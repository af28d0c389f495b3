package plan_test

import (
	"fmt"

	"github.com/offload-dev/offload/plan"
)

// A path typed by a person is encoded as each target purges it, unless it
// is encoded already; CloudFront keeps a "*" at the end as its wildcard.
func ExampleTarget_TypedPath() {
	cf := plan.Target{Name: "cf", Provider: "cloudfront"}
	edge := plan.Target{Name: "edge", Provider: "varnish"}
	fmt.Println(cf.TypedPath("/my docs/*"), cf.TypedPath("/~a.html"), cf.TypedPath("/a%20b.html"))
	fmt.Println(edge.TypedPath("/my docs/"), edge.TypedPath("/~a.html"))
	// Output:
	// /my%20docs/* /%7Ea.html /a%20b.html
	// /my%20docs/ /~a.html
}
