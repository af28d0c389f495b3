// Command hello is the smallest floor of measurement 4 of the bench
// harness: aws-lambda-go's lambda.Start with a handler that takes the SQS
// event and answers that nothing failed, making no call and linking no AWS
// SDK. Its cold start is what the Go runtime, aws-lambda-go and the
// emulator cost before any function does anything; gofloor adds one
// CloudFront call to it. Built as gofloor is.
package main

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(events.SQSEvent) (events.SQSEventResponse, error) {
		// An empty list, not nil: nil is JSON null, no partial batch response.
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}, nil
	})
}
