package awstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// CreateDistribution makes a CloudFront distribution in moto for tests that
// purge through it, and returns its id.
func (m *Moto) CreateDistribution(tb testing.TB) string {
	tb.Helper()
	id, err := NewDistribution(context.Background(), cloudfront.NewFromConfig(m.Config()))
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// NewDistribution makes a CloudFront distribution through c (a client of
// moto) and returns its id; for the benchmark harness, outside tests.
func NewDistribution(ctx context.Context, c *cloudfront.Client) (string, error) {
	out, err := c.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{
		DistributionConfig: &types.DistributionConfig{
			CallerReference: aws.String(fmt.Sprintf("test-%d", time.Now().UnixNano())),
			Comment:         aws.String("offload test"),
			Enabled:         aws.Bool(true),
			Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
				Id:             aws.String("site"),
				DomainName:     aws.String("my-site.s3.amazonaws.com"),
				S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String("")},
			}}},
			DefaultCacheBehavior: &types.DefaultCacheBehavior{
				TargetOriginId:       aws.String("site"),
				ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps,
				MinTTL:               aws.Int64(0),
				ForwardedValues: &types.ForwardedValues{
					QueryString: aws.Bool(false),
					Cookies:     &types.CookiePreference{Forward: types.ItemSelectionNone},
				},
				TrustedSigners: &types.TrustedSigners{Enabled: aws.Bool(false), Quantity: aws.Int32(0)},
			},
		},
	})
	if err != nil {
		return "", fmt.Errorf("awstest: create a distribution in moto: %w", err)
	}
	return aws.ToString(out.Distribution.Id), nil
}

// Invalidations lists the paths of every invalidation of a distribution in
// moto, one slice per invalidation.
func (m *Moto) Invalidations(tb testing.TB, distributionID string) [][]string {
	tb.Helper()
	c := cloudfront.NewFromConfig(m.Config())
	ctx := context.Background()
	list, err := c.ListInvalidations(ctx, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(distributionID)})
	if err != nil {
		tb.Fatalf("awstest: list invalidations: %v", err)
	}
	var out [][]string
	for _, s := range list.InvalidationList.Items {
		inv, err := c.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: aws.String(distributionID), Id: s.Id})
		if err != nil {
			tb.Fatalf("awstest: get invalidation %s: %v", aws.ToString(s.Id), err)
		}
		out = append(out, inv.Invalidation.InvalidationBatch.Paths.Items)
	}
	return out
}
