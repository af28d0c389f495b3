package awstest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Each SDK call, as the SDK really sends it, is named for the IAM action
// it needs; a call Actions does not know is reported unnamed, not guessed.
func TestActionRecorderNamesSDKCalls(t *testing.T) {
	moto := SharedMoto(t)
	ctx := context.Background()
	setup := moto.Config()
	s3setup := s3.NewFromConfig(setup, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3setup.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("actions")}); err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		t.Fatal(err)
	}
	dist := moto.CreateDistribution(t)

	tests := []struct {
		name    string
		call    func(aws.Config) error
		want    []string
		unnamed bool
	}{
		{"s3 PutObject", func(c aws.Config) error {
			_, err := s3c(c).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("actions"), Key: aws.String("a b.html"), Body: strings.NewReader("x")})
			return err
		}, []string{"s3:PutObject"}, false},
		{"s3 GetObject", func(c aws.Config) error {
			_, err := s3c(c).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("actions"), Key: aws.String("a b.html")})
			return err
		}, []string{"s3:GetObject"}, false},
		{"s3 HeadObject", func(c aws.Config) error {
			_, err := s3c(c).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("actions"), Key: aws.String("a b.html")})
			return err
		}, []string{"s3:GetObject"}, false},
		{"s3 ListObjectsV2", func(c aws.Config) error {
			_, err := s3c(c).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("actions"), Prefix: aws.String("a"), StartAfter: aws.String("a")})
			return err
		}, []string{"s3:ListBucket"}, false},
		{"s3 DeleteObject", func(c aws.Config) error {
			_, err := s3c(c).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("actions"), Key: aws.String("a b.html")})
			return err
		}, []string{"s3:DeleteObject"}, false},
		{"s3 GetObjectTagging is not named", func(c aws.Config) error {
			_, _ = s3c(c).GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("actions"), Key: aws.String("a b.html")})
			return nil
		}, []string{}, true},
		{"cloudfront CreateInvalidation", func(c aws.Config) error {
			_, err := invalidate(ctx, cloudfront.NewFromConfig(c), dist, "actions", "/a")
			return err
		}, []string{"cloudfront:CreateInvalidation"}, false},
		{"cloudfront ListInvalidations and GetInvalidation", func(c aws.Config) error {
			cf := cloudfront.NewFromConfig(c)
			out, err := cf.ListInvalidations(ctx, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(dist)})
			if err != nil {
				return err
			}
			_, err = cf.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: aws.String(dist), Id: out.InvalidationList.Items[0].Id})
			return err
		}, []string{"cloudfront:GetInvalidation", "cloudfront:ListInvalidations"}, false},
		{"ssm GetParameters", func(c aws.Config) error {
			_, err := ssm.NewFromConfig(c).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/a"}})
			return err
		}, []string{"ssm:GetParameters"}, false},
		{"dynamodb BatchGetItem", func(c aws.Config) error {
			_, _ = dynamodb.NewFromConfig(c).BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]dbtypes.KeysAndAttributes{
				"none": {Keys: []map[string]dbtypes.AttributeValue{{"pk": &dbtypes.AttributeValueMemberS{Value: "x"}}}}}})
			return nil
		}, []string{"dynamodb:BatchGetItem"}, false},
		{"secretsmanager BatchGetSecretValue", func(c aws.Config) error {
			_, _ = secretsmanager.NewFromConfig(c).BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"a", "b"}})
			return nil
		}, []string{"secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := NewActionRecorder(moto.URL)
			defer rec.Close()
			if err := tt.call(Config(rec.URL)); err != nil {
				t.Fatal(err)
			}
			if got := rec.Actions(); !slices.Equal(got, tt.want) {
				t.Errorf("got actions %q, want %q", got, tt.want)
			}
			if got := rec.Unnamed(); (len(got) > 0) != tt.unnamed {
				t.Errorf("got unnamed requests %q; want some: %v", got, tt.unnamed)
			}
		})
	}
}

func s3c(c aws.Config) *s3.Client {
	return s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = true })
}
