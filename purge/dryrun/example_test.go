package dryrun_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/dryrun"
)

func ExampleNew() {
	// A logger without the time, so the output is the same on every run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	c, err := dryrun.New(dryrun.Options{Name: "staging", Logger: logger})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths("/", "/docs/a%20b.html")})
	fmt.Println(len(res.Outcomes), "logged,", err)
	// Output:
	// level=INFO msg="dry run: would purge" target=staging id=dry-run-1 items="[/ /docs/a%20b.html]"
	// 2 logged, <nil>
}
