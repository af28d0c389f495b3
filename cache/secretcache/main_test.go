package secretcache_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/offload-dev/offload/internal/awstest"
)

// TestMain points the AWS SDK's default configuration at a moto server
// holding the examples' secrets, so that the examples read as a function's
// code: config.LoadDefaultConfig and the real client.
func TestMain(m *testing.M) { os.Exit(awstest.RunExamples(m, seedExamples)) }

func seedExamples(cfg aws.Config) error {
	api := secretsmanager.NewFromConfig(cfg)
	for name, v := range map[string]string{
		"prod/api-key": "k-123",
		"prod/rds":     `{"username":"app","password":"p@ss"}`,
	} {
		if _, err := api.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String(v),
		}); err != nil {
			return err
		}
	}
	return nil
}
