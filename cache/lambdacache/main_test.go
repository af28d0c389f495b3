package lambdacache_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/internal/awstest"
)

// TestMain points the AWS SDK's default configuration at a moto server
// holding the example's parameters and secret, so that Example reads as a
// function's code: config.LoadDefaultConfig and the real clients.
func TestMain(m *testing.M) { os.Exit(awstest.RunExamples(m, seed)) }

func seed(cfg aws.Config) error {
	ctx := context.Background()
	params := ssm.NewFromConfig(cfg)
	for name, v := range map[string]string{
		"/prod/app/db_url": "postgres://db.internal/app",
		"/prod/app/flags":  `{"Beta": false}`,
		"/prod/app/hosts":  "a.example.com,b.example.com",
	} {
		typ := types.ParameterTypeString
		if name == "/prod/app/hosts" {
			typ = types.ParameterTypeStringList
		}
		if _, err := params.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(v), Type: typ}); err != nil {
			return err
		}
	}
	_, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("prod/api-key"), SecretString: aws.String("k-123"),
	})
	return err
}
