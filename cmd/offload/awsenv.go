package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// envAWS is the AWS configuration of the Lambda-only build, read from the
// environment Lambda gives a function, without the SDK's config package:
// that package links the sso, ssooidc, signin and sts clients for
// credential sources a function does not use, and their package init was
// about 3 ms of every cold start. docs/configuration.md lists what it
// reads; every other SDK setting is refused by name (awsEnvRefused), so
// that a setup the full build would honour fails here instead of being
// ignored. getenv is os.Getenv; errors name variables, never their values.
func envAWS(getenv func(string) string) (aws.Config, error) {
	for _, k := range awsEnvRefused {
		if getenv(k) != "" {
			return aws.Config{}, fmt.Errorf("aws: %s is set, which the Lambda build (-tags offload_lambda) does not read: unset it, or deploy the full build", k)
		}
	}
	for _, k := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		if p := getenv(k); p != "" {
			if st, err := os.Stat(p); err == nil && st.Size() > 0 {
				return aws.Config{}, fmt.Errorf("aws: %s names %s, a file the Lambda build (-tags offload_lambda) does not read: unset it, or deploy the full build", k, p)
			}
		}
	}
	src := awsEnvSource{getenv}
	for _, k := range []string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"} {
		if _, _, err := src.flag(k); err != nil {
			return aws.Config{}, err
		}
	}
	cfg := aws.Config{Region: cmpEnv(getenv, "AWS_REGION", "AWS_DEFAULT_REGION"), ConfigSources: []any{src}}
	if e := getenv("AWS_ENDPOINT_URL"); e != "" && !src.ignoreEndpoints() {
		cfg.BaseEndpoint = aws.String(e)
	}
	if m := getenv("AWS_RETRY_MODE"); m != "" {
		mode, err := aws.ParseRetryMode(m)
		if err != nil {
			return aws.Config{}, fmt.Errorf("aws: AWS_RETRY_MODE: got %q, want standard or adaptive", m)
		}
		cfg.RetryMode = mode
	}
	if n := getenv("AWS_MAX_ATTEMPTS"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 {
			return aws.Config{}, fmt.Errorf("aws: AWS_MAX_ATTEMPTS: got %q, want a whole number, 1 or more", n)
		}
		cfg.RetryMaxAttempts = v
	}
	// when_required: what S3-compatible stores that refuse the SDK's newer
	// checksums need.
	if err := checksumPolicy(getenv, "AWS_REQUEST_CHECKSUM_CALCULATION", &cfg.RequestChecksumCalculation,
		aws.RequestChecksumCalculationWhenSupported, aws.RequestChecksumCalculationWhenRequired); err != nil {
		return aws.Config{}, err
	}
	if err := checksumPolicy(getenv, "AWS_RESPONSE_CHECKSUM_VALIDATION", &cfg.ResponseChecksumValidation,
		aws.ResponseChecksumValidationWhenSupported, aws.ResponseChecksumValidationWhenRequired); err != nil {
		return aws.Config{}, err
	}
	creds, err := envCredentials(getenv)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.Credentials = creds
	return cfg, nil
}

// checksumPolicy sets *policy from key as the SDK reads it: when_supported
// or when_required, in any case; unset leaves it.
func checksumPolicy[T any](getenv func(string) string, key string, policy *T, supported, required T) error {
	switch v := getenv(key); strings.ToLower(v) {
	case "":
	case "when_supported":
		*policy = supported
	case "when_required":
		*policy = required
	default:
		return fmt.Errorf("aws: %s: got %q, want when_supported or when_required", key, v)
	}
	return nil
}

// awsEnvRefused are the SDK's settings the Lambda build does not read:
// credential sources other than keys and a container endpoint, and the
// settings no Lambda function of offload needs.
var awsEnvRefused = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CA_BUNDLE", "AWS_DEFAULTS_MODE", "AWS_SDK_UA_APP_ID", "AWS_ENABLE_ENDPOINT_DISCOVERY",
	"AWS_ACCOUNT_ID_ENDPOINT_MODE",
	"AWS_DISABLE_REQUEST_COMPRESSION", "AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES", "AWS_DISABLE_CLOCK_SKEW_CORRECTION",
	"AWS_AUTH_SCHEME_PREFERENCE", "AWS_S3_USE_ARN_REGION", "AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS",
	"AWS_S3_DISABLE_EXPRESS_SESSION_AUTH",
}

// envCredentials returns the function's credentials: the keys Lambda sets
// from its role, or else a container credentials endpoint (what Lambda
// SnapStart gives a function).
func envCredentials(getenv func(string) string) (aws.CredentialsProvider, error) {
	id := cmpEnv(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
	secret := cmpEnv(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	switch {
	case id != "" && secret != "":
		p := credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))
		p.Value.AccountID = getenv("AWS_ACCOUNT_ID")
		return p, nil
	case id != "":
		return nil, errors.New("aws: AWS_ACCESS_KEY_ID is set and AWS_SECRET_ACCESS_KEY is not: set both, or neither")
	case secret != "":
		return nil, errors.New("aws: AWS_SECRET_ACCESS_KEY is set and AWS_ACCESS_KEY_ID is not: set both, or neither")
	}
	endpoint, key := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"), "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	if rel := getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		endpoint, key = "http://169.254.170.2"+rel, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
	}
	if endpoint == "" {
		return nil, errors.New("aws: no credentials: the Lambda build (-tags offload_lambda) reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's role) or AWS_CONTAINER_CREDENTIALS_FULL_URI, and none is set; deploy the full build for profiles, web identity or instance credentials")
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("aws: %s is not an http or https URL", key)
	}
	if u.Scheme == "http" && !containerHost(u.Hostname()) {
		// As the SDK: plain HTTP only to this machine or the container
		// agent, whose answers nobody on the way can read or forge.
		return nil, fmt.Errorf("aws: %s: plain http is allowed only to a loopback address or the container agent (169.254.170.2, 169.254.170.23, fd00:ec2::23), got host %s", key, u.Hostname())
	}
	token, tokenFile := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"), getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
	p := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.HTTPClient = awsHTTPClient(awsAnswer)
		o.AuthorizationToken = token
		if tokenFile != "" {
			// Read on every refresh: the agent rotates it.
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return "", fmt.Errorf("aws: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
				}
				return strings.TrimSpace(string(b)), nil
			})
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

func containerHost(host string) bool {
	ip := net.ParseIP(host)
	if host == "localhost" {
		return true
	}
	return ip != nil && (ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) || ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23")))
}

// cmpEnv returns the first of keys that is set.
func cmpEnv(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// awsEnvSource answers the clients' questions the config package's
// EnvConfig answers, from the same variables: each service's endpoint
// (AWS_ENDPOINT_URL_<SERVICE>), and FIPS and dual-stack endpoints.
type awsEnvSource struct{ getenv func(string) string }

func (s awsEnvSource) ignoreEndpoints() bool {
	on, _, _ := s.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	return on
}

// GetIgnoreConfiguredEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (s awsEnvSource) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return s.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
}

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<SERVICE>, the service's
// id upper case with spaces as underscores (SECRETS_MANAGER).
func (s awsEnvSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := s.getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// GetUseFIPSEndpoint reports AWS_USE_FIPS_ENDPOINT.
func (s awsEnvSource) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	on, found, err := s.flag("AWS_USE_FIPS_ENDPOINT")
	if !found || err != nil {
		return aws.FIPSEndpointStateUnset, false, err
	}
	if on {
		return aws.FIPSEndpointStateEnabled, true, nil
	}
	return aws.FIPSEndpointStateDisabled, true, nil
}

// GetUseDualStackEndpoint reports AWS_USE_DUALSTACK_ENDPOINT.
func (s awsEnvSource) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	on, found, err := s.flag("AWS_USE_DUALSTACK_ENDPOINT")
	if !found || err != nil {
		return aws.DualStackEndpointStateUnset, false, err
	}
	if on {
		return aws.DualStackEndpointStateEnabled, true, nil
	}
	return aws.DualStackEndpointStateDisabled, true, nil
}

// flag reads a true/false variable as the SDK does: either word, any case.
func (s awsEnvSource) flag(key string) (on, found bool, err error) {
	switch v := s.getenv(key); {
	case v == "":
		return false, false, nil
	case strings.EqualFold(v, "true"):
		return true, true, nil
	case strings.EqualFold(v, "false"):
		return false, true, nil
	default:
		return false, false, fmt.Errorf("aws: %s: got %q, want true or false", key, v)
	}
}
