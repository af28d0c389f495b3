//go:build !offload_lambda

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// loadAWS is awsconfig.LoadDefaultConfig with deadlines: connect and TLS
// in awsConnect, an answer's headers within awsAnswer of the request, and
// each operation of DynamoDB, SSM and Secrets Manager, retries included,
// within awsOperation. S3 streams bodies for as long as they take, and the
// purger and mirrors bound CloudFront and S3 calls themselves.
//
// The config package links the sso, ssooidc, sts and signin clients, whose
// endpoint tables and schemas were about a fifth of the bootstrap's package
// init (3 to 4 ms of each cold start): the Lambda-only build reads the
// environment Lambda gives a function instead (aws_lambda.go, envAWS), and
// refuses the settings only this one honours (profiles, role assumption,
// web identity, shared files).
func loadAWS(ctx context.Context) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithHTTPClient(awsHTTPClient(awsAnswer)),
		awsconfig.WithAPIOptions([]func(*middleware.Stack) error{operationDeadline(awsOperation)}))
}
