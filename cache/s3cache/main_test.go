package s3cache_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/awstest"
)

// TestMain points the AWS SDK's default configuration at a moto server
// holding the examples' object, so that the examples read as a function's
// code: config.LoadDefaultConfig and the real client.
func TestMain(m *testing.M) { os.Exit(awstest.RunExamples(m, seedExamples)) }

func seedExamples(cfg aws.Config) error {
	api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("models")}); err != nil {
		return err
	}
	_, err := api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("models"), Key: aws.String("v1/model.bin"), Body: strings.NewReader("weights"),
	})
	return err
}
