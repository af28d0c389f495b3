//go:build offload_lambda

package main

import (
	"fmt"
	"os"
)

// main of the Lambda-only build (-tags offload_lambda, what make bootstrap
// builds): the function's bootstrap and nothing else. The commands, the
// server and the NATS client are left out, and with them their packages'
// init, which every cold start paid for.
func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		fmt.Fprintf(os.Stderr, "%s\nthis is the Lambda bootstrap build (-tags offload_lambda): it runs only as a Lambda function, where AWS_LAMBDA_RUNTIME_API is set; build ./cmd/offload without offload_lambda for the commands\n", versionLine())
		os.Exit(2) // bad usage, as the commands' exitUsage
	}
	runLambda()
}
