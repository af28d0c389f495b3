// Command eventgen writes SQS-wrapped S3 event notifications for
// benchmarks:
//
//	go run ./internal/eventgen/cmd/eventgen -n 100000 > events.json
//	go run ./internal/eventgen/cmd/eventgen -n 1000 -lines > events.ndjson
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/offload-dev/offload/internal/eventgen"
)

func main() {
	var o eventgen.Options
	n := flag.Int("n", 10000, "messages, one S3 record each")
	lines := flag.Bool("lines", false, "one SQS event of one message per line, not one event of n messages")
	flag.StringVar(&o.Bucket, "bucket", "", "the bucket (default my-site)")
	flag.IntVar(&o.Redeliver, "redeliver", 0, "every `N`th message repeats the one before (0: none)")
	flag.IntVar(&o.Index, "index", 0, "every `N`th object is an index document (0: none)")
	flag.BoolVar(&o.Lean, "lean", false, "only the fields offload reads")
	flag.Parse()
	write := eventgen.WriteSQS
	if *lines {
		write = eventgen.WriteLines
	}
	if err := write(os.Stdout, *n, o); err != nil {
		fmt.Fprintln(os.Stderr, "eventgen:", err)
		os.Exit(1)
	}
}
