package ssmcache_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/internal/awstest"
)

// TestMain points the AWS SDK's default configuration at a moto server
// holding the examples' parameters, so that the examples read as a
// function's code: config.LoadDefaultConfig and the real client.
func TestMain(m *testing.M) { os.Exit(awstest.RunExamples(m, seedExamples)) }

func seedExamples(cfg aws.Config) error {
	api := ssm.NewFromConfig(cfg)
	for name, v := range map[string]string{
		"/production/app/var":     "hello",
		"/production/app/db_host": "db.internal",
		"/production/app/db_user": "app",
		"/tenants/acme/plan":      "gold",
		"/tenants/globex/plan":    "silver",
		"/prod/a":                 "1",
		"/prod/b":                 "2",
		"/prod/c":                 "3",
	} {
		if _, err := api.PutParameter(context.Background(), &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(v), Type: types.ParameterTypeString,
		}); err != nil {
			return err
		}
	}
	return nil
}
