package purge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/offload-dev/offload/purge"
)

// ExampleCDN stands in for a provider package: it refuses every path under
// /private/ and purges the rest, one outcome per item, in order, as the
// Purger contract asks.
type ExampleCDN struct{}

func (ExampleCDN) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "example", Calls: []purge.Call{{ID: "p-1", Items: len(req.Items), Attempts: 1}}}
	for _, it := range req.Items {
		o := purge.Outcome{Item: it, OK: true, ID: "p-1"}
		if err := ctx.Err(); err != nil {
			o.OK, o.Err = false, err.Error()
		} else if strings.HasPrefix(it.Value, "/private/") {
			o.OK, o.Err = false, "HTTP 403: not yours to purge"
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	return res, res.Err() // a *PartialError when some failed
}

// A purge of which some items fail: the error is a *PartialError, and the
// Result says which items failed and why, to retry or report them.
func Example() {
	var cdn purge.Purger = ExampleCDN{}
	res, err := cdn.Purge(context.Background(), purge.Request{
		Items: purge.Paths("/", "/private/a.html", "/docs/a%20b.html"),
		ID:    "change-42", // the same purge sent again is the same purge
	})
	var pe *purge.PartialError
	switch {
	case errors.As(err, &pe):
		fmt.Printf("%d of %d not purged by %s\n", pe.Failed, pe.Total, pe.Provider)
		for _, o := range res.Outcomes {
			if !o.OK {
				fmt.Println("failed:", o.Item, "-", o.Err)
			}
		}
		fmt.Println("to retry:", res.Failed())
	case err != nil:
		fmt.Println("nothing purged:", err)
	}
	fmt.Println("accepted:", res.IDs())
	// Output:
	// 1 of 3 not purged by example
	// failed: path:/private/a.html - HTTP 403: not yours to purge
	// to retry: [path:/private/a.html]
	// accepted: [p-1]
}
