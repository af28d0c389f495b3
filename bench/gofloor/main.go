// Command gofloor is the floor of measurement 4 of the bench harness: the
// least a Go Lambda function can do for the event offload's bootstrap is
// measured with, so that the bootstrap's cold start is shown next to what
// any Go function pays on the same machine, emulator and moto.
//
// It is aws-lambda-go's lambda.Start, a CloudFront client of the AWS SDK
// for Go v2 made at init from the environment the harness gives it (region,
// static keys, the endpoint of moto, DISTRIBUTION_ID), without the SDK's
// config package, and a handler that takes an SQS event whose messages each
// carry an S3 notification, and makes one CreateInvalidation for the
// batch's object paths. It keeps no ledger, reads no configuration file,
// batches, retries and checks nothing beyond what the SDK does: it is not a
// rival to offload but the cost below which no Go function of the kind
// goes. Build it as the bootstrap is built:
//
//	CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' ./bench/gofloor
//
// hello/ is a smaller floor still: lambda.Start and no call at all.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

func main() {
	creds := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "environment"}
	opts := cloudfront.Options{
		Region: os.Getenv("AWS_REGION"),
		// Static keys, as Lambda sets them from the function's role.
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
	}
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		opts.BaseEndpoint = aws.String(e) // moto's, in the harness
	}
	cf := cloudfront.New(opts)
	lambda.Start(handler(cf, os.Getenv("DISTRIBUTION_ID")))
}

func handler(cf *cloudfront.Client, dist string) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var paths []string
		for _, m := range ev.Records {
			var s3 events.S3Event
			if err := json.Unmarshal([]byte(m.Body), &s3); err != nil {
				return events.SQSEventResponse{}, fmt.Errorf("gofloor: message %s: body is not an S3 notification: %w", m.MessageId, err)
			}
			for _, r := range s3.Records {
				paths = append(paths, (&url.URL{Path: "/" + r.S3.Object.URLDecodedKey}).EscapedPath())
			}
		}
		// An empty response, not a nil one: nil is JSON null, which is no
		// partial batch response.
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		if len(paths) == 0 {
			return resp, nil
		}
		// The invocation's request id: unique, and the same if the
		// invocation is tried again.
		ref := "gofloor"
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ref = lc.AwsRequestID
		}
		_, err := cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
			DistributionId: aws.String(dist),
			InvalidationBatch: &types.InvalidationBatch{
				CallerReference: aws.String(ref),
				Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
			},
		})
		if err != nil {
			return events.SQSEventResponse{}, fmt.Errorf("gofloor: create invalidation of %d paths: %w", len(paths), err)
		}
		return resp, nil
	}
}
