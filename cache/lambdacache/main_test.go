package lambdacache_test

import (
	"context"
	"flag"
	"fmt"
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
func TestMain(m *testing.M) {
	flag.Parse() // awstest reads -test.v
	moto, err := awstest.StartMoto()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": moto.URL, "AWS_REGION": awstest.Region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		os.Setenv(k, v)
	}
	err = seed(moto)
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, "seed moto:", err)
	}
	moto.Close()
	os.Exit(code)
}

func seed(moto *awstest.Moto) error {
	ctx := context.Background()
	cfg := moto.Config()
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
