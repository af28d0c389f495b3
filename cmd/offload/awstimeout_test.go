package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/middleware"

	"github.com/offload-dev/offload/internal/loopback"
)

// Against an endpoint that never answers, an SSM call ends at its
// operation deadline, and an S3 call (which may stream for as long as it
// takes, so has none) at the transport's wait for an answer.
func TestAWSTimeouts(t *testing.T) {
	hang, err := loopback.NewHang()
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	const answer, operation = time.Second, 300 * time.Millisecond
	cfg := aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(hang.URL()), HTTPClient: awsHTTPClient(answer),
		APIOptions: []func(*middleware.Stack) error{operationDeadline(operation)},
	}
	tests := []struct {
		name     string
		call     func(ctx context.Context) error
		min, max time.Duration
		want     string
	}{
		{"ssm: the operation deadline", func(ctx context.Context) error {
			_, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
			return err
		}, operation, answer, "deadline exceeded"},
		{"s3: the wait for an answer", func(ctx context.Context) error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).
				GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			return err
		}, answer, 20 * time.Second, "timeout awaiting response headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.call(context.Background())
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
			if errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want a deadline, not a cancellation", err)
			}
			if took < tt.min || took > tt.max {
				t.Errorf("took %v, want %v to %v", took, tt.min, tt.max)
			}
		})
	}
}
