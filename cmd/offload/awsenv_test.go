package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/offload-dev/offload/internal/awstest"
)

// Values no error may show, set in every case of the tests below.
const (
	secretKey      = "SECRET-KEY-must-not-show"
	sessionToken   = "SESSION-TOKEN-must-not-show"
	containerToken = "CONTAINER-TOKEN-must-not-show"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// noSecrets fails t if err's text holds any part of a secret value.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{secretKey, sessionToken, containerToken, "must-not-show"} {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("got error %q, want it without the secret %q", err, s)
		}
	}
}

func TestEnvAWS(t *testing.T) {
	keys := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_SESSION_TOKEN": sessionToken}
	with := func(more map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range keys {
			m[k] = v
		}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		name     string
		env      map[string]string
		region   string
		endpoint string // cfg.BaseEndpoint, "" for nil
		mode     aws.RetryMode
		attempts int
		request  aws.RequestChecksumCalculation
		response aws.ResponseChecksumValidation
	}{
		{name: "keys and region, as Lambda sets them", env: with(map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}), region: "eu-west-1"},
		{name: "AWS_DEFAULT_REGION alone", env: with(map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}), region: "us-west-2"},
		{name: "endpoint", env: with(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}), endpoint: "http://127.0.0.1:5000"},
		{name: "endpoints ignored", env: with(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"})},
		{name: "retries", env: with(map[string]string{"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "5"}), mode: aws.RetryModeAdaptive, attempts: 5},
		{name: "checksums only when required, as some S3-compatible stores need",
			env:     with(map[string]string{"AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}),
			request: aws.RequestChecksumCalculationWhenRequired, response: aws.ResponseChecksumValidationWhenRequired},
		{name: "checksums when supported", env: with(map[string]string{"AWS_REQUEST_CHECKSUM_CALCULATION": "when_supported", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_supported"}),
			request: aws.RequestChecksumCalculationWhenSupported, response: aws.ResponseChecksumValidationWhenSupported},
		{name: "empty shared files", env: with(map[string]string{"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none")})},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := envAWS(envOf(c.env))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if cfg.Region != c.region {
				t.Errorf("got region %q, want %q", cfg.Region, c.region)
			}
			if got := aws.ToString(cfg.BaseEndpoint); got != c.endpoint {
				t.Errorf("got base endpoint %q, want %q", got, c.endpoint)
			}
			if cfg.RetryMode != c.mode || cfg.RetryMaxAttempts != c.attempts {
				t.Errorf("got retry mode %q, %d attempts; want %q, %d", cfg.RetryMode, cfg.RetryMaxAttempts, c.mode, c.attempts)
			}
			if cfg.RequestChecksumCalculation != c.request || cfg.ResponseChecksumValidation != c.response {
				t.Errorf("got checksums %v, %v; want %v, %v", cfg.RequestChecksumCalculation, cfg.ResponseChecksumValidation, c.request, c.response)
			}
			v, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.AccessKeyID != "AKID" || v.SecretAccessKey != secretKey || v.SessionToken != sessionToken {
				t.Errorf("got credentials %q, %q, %q; want the environment's", v.AccessKeyID, v.SecretAccessKey, v.SessionToken)
			}
		})
	}
}

func TestEnvAWSRefuses(t *testing.T) {
	full := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(full, []byte("[default]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"AWS_SECRET_ACCESS_KEY": secretKey, "AWS_SESSION_TOKEN": sessionToken, "AWS_CONTAINER_AUTHORIZATION_TOKEN": containerToken}
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a profile", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_PROFILE": "dev"}, "aws: AWS_PROFILE is set, which the Lambda build (-tags offload_lambda) does not read"},
		{"web identity", map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, "aws: AWS_ROLE_ARN is set"},
		{"a CA bundle", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_CA_BUNDLE": "/etc/ca.pem"}, "aws: AWS_CA_BUNDLE is set"},
		{"bad checksum policy", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_RESPONSE_CHECKSUM_VALIDATION": "never"}, `aws: AWS_RESPONSE_CHECKSUM_VALIDATION: got "never", want when_supported or when_required`},
		{"a config file", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_CONFIG_FILE": full}, "aws: AWS_CONFIG_FILE names " + full + ", a file the Lambda build (-tags offload_lambda) does not read"},
		{"no credentials", map[string]string{"AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": sessionToken, "AWS_CONTAINER_AUTHORIZATION_TOKEN": containerToken}, "aws: no credentials: the Lambda build (-tags offload_lambda) reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{"a key id alone", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": ""}, "aws: AWS_ACCESS_KEY_ID is set and AWS_SECRET_ACCESS_KEY is not"},
		{"a secret key alone", map[string]string{}, "aws: AWS_SECRET_ACCESS_KEY is set and AWS_ACCESS_KEY_ID is not"},
		{"bad retry mode", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_RETRY_MODE": "legacy"}, `aws: AWS_RETRY_MODE: got "legacy", want standard or adaptive`},
		{"bad attempts", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_MAX_ATTEMPTS": "0"}, `aws: AWS_MAX_ATTEMPTS: got "0", want a whole number, 1 or more`},
		{"bad FIPS flag", map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_USE_FIPS_ENDPOINT": "yes"}, `aws: AWS_USE_FIPS_ENDPOINT: got "yes", want true or false`},
		{"container endpoint over the network", map[string]string{"AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.9/creds"}, "aws: AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed only to a loopback address or the container agent"},
		{"container endpoint not a URL", map[string]string{"AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "127.0.0.1:9/creds"}, "aws: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http or https URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range secrets {
				env[k] = v
			}
			for k, v := range c.env {
				env[k] = v
			}
			_, err := envAWS(envOf(env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %v, want one with %q", err, c.want)
			}
			noSecrets(t, err)
		})
	}
}

// TestEnvAWSContainerCredentials checks the credentials Lambda SnapStart
// gives a function: an endpoint on the loopback address, asked with the
// authorization token from the environment or from a file.
func TestEnvAWSContainerCredentials(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(containerToken+"-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, file, wantAuth string
	}{
		{"token", containerToken, "", containerToken},
		{"token file", "", tokenFile, containerToken + "-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var gotAuth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				json.NewEncoder(w).Encode(map[string]string{
					"AccessKeyId": "ASIA-CONTAINER", "SecretAccessKey": secretKey, "Token": sessionToken,
					"Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
				})
			}))
			defer srv.Close()
			cfg, err := envAWS(envOf(map[string]string{
				"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/2018-06-01/credentials",
				"AWS_CONTAINER_AUTHORIZATION_TOKEN":  c.token, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": c.file,
			}))
			if err != nil {
				t.Fatal(err)
			}
			v, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.AccessKeyID != "ASIA-CONTAINER" || v.SecretAccessKey != secretKey || v.SessionToken != sessionToken {
				t.Errorf("got credentials %q, %q, %q; want the endpoint's", v.AccessKeyID, v.SecretAccessKey, v.SessionToken)
			}
			if gotAuth != c.wantAuth {
				t.Errorf("got Authorization %q, want %q", gotAuth, c.wantAuth)
			}
		})
	}
}

// TestEnvAWSServiceEndpoint checks AWS_ENDPOINT_URL_<SERVICE> through a
// real client: CloudFront's endpoint is moto, every other service's a
// port nobody listens on.
func TestEnvAWSServiceEndpoint(t *testing.T) {
	moto := awstest.SharedMoto(t)
	env := map[string]string{
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_CLOUDFRONT": moto.URL,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
	}
	// The clients look these two up themselves too.
	t.Setenv("AWS_ENDPOINT_URL", env["AWS_ENDPOINT_URL"])
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFRONT", env["AWS_ENDPOINT_URL_CLOUDFRONT"])
	cfg, err := envAWS(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloudfront.NewFromConfig(cfg).ListDistributions(context.Background(), &cloudfront.ListDistributionsInput{}); err != nil {
		t.Errorf("got error %v from CloudFront at AWS_ENDPOINT_URL_CLOUDFRONT, want none", err)
	}
}
