//go:build offload_lambda

package main

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// loadAWS of the Lambda-only build: the environment Lambda gives the
// function (envAWS), with loadAWS's deadlines (aws_full.go).
func loadAWS(context.Context) (aws.Config, error) {
	cfg, err := envAWS(os.Getenv)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.HTTPClient = awsHTTPClient(awsAnswer)
	cfg.APIOptions = []func(*middleware.Stack) error{operationDeadline(awsOperation)}
	cfg.Logger = logging.NewStandardLogger(os.Stderr) // as LoadDefaultConfig's
	return cfg, nil
}
