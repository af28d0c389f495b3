package awstest

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SetEnv points the AWS SDK's default configuration at endpoint with static
// test credentials, through the environment variables a Lambda function's
// configuration is read from, and keeps the shared config files out. Then
// an example reads as a function's code: config.LoadDefaultConfig and the
// real clients, no test helper.
func SetEnv(endpoint string) {
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": Region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		os.Unsetenv(k)
	}
}

// RunExamples starts a moto server for the package's examples, holding
// what seed puts in it, points the SDK's default configuration at it
// (SetEnv), and runs the tests and examples; then it stops that server and
// the shared one. The examples have a server of their own because tests
// Reset the shared one. Use it from TestMain:
// os.Exit(awstest.RunExamples(m, seed)).
func RunExamples(m *testing.M, seed func(aws.Config) error) int {
	if !flag.Parsed() {
		flag.Parse() // StartMoto asks testing.Verbose
	}
	moto, err := StartMoto()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer moto.Close()
	if err := seed(moto.Config()); err != nil {
		fmt.Fprintln(os.Stderr, "awstest: seed the examples' moto server:", err)
		return 1
	}
	SetEnv(moto.URL)
	return RunMain(m)
}
