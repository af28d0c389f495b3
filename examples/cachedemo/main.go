// Command cachedemo shows the execution-context cache at work without an AWS
// account: it starts a local moto server (AWS APIs on 127.0.0.1), stores 25
// SSM parameters, 5 secrets and an S3 object there, wraps a Lambda handler
// with the cache, and invokes it as Lambda would, with time moving 20
// seconds between invocations. It prints what each invocation cost and the
// API calls made, against what one call per entry (stacked lambda-cache
// decorators) would have made.
//
//	go run ./examples/cachedemo
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
	"github.com/offload-dev/offload/cache/s3cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
)

func main() {
	invocations := flag.Int("n", 10, "invocations")
	flag.Parse()
	if err := run(*invocations); err != nil {
		fmt.Fprintln(os.Stderr, "cachedemo:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	fmt.Println("starting moto_server on 127.0.0.1 ...")
	moto, err := awstest.StartMoto()
	if err != nil {
		return fmt.Errorf("%w\n(moto is on the machine image; `make test-deps` installs it)", err)
	}
	defer moto.Close()
	counter := awstest.NewCounter()
	cfg := moto.Config(counter)
	ctx := context.Background()

	ssmAPI := ssm.NewFromConfig(cfg)
	smAPI := secretsmanager.NewFromConfig(cfg)
	s3API := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if err := seed(ctx, ssmAPI, smAPI, s3API); err != nil {
		return err
	}
	counter.Reset()

	clock := fakeclock.New()
	c, err := cache.New(cache.Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssmAPI})
	if err != nil {
		return err
	}
	secrets, err := secretcache.New(secretcache.Options{Client: smAPI})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "cachedemo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	objects, err := s3cache.New(s3cache.Options{Client: s3API, Dir: dir})
	if err != nil {
		return err
	}

	// Each entry is added once; the handler wrapper loads every entry of
	// the cache before each invocation.
	for i := range 25 {
		cache.MustAdd(c, params.String(fmt.Sprintf("/demo/app/param%02d", i)))
	}
	for i := range 5 {
		cache.MustAdd(c, secrets.String(fmt.Sprintf("demo/secret%d", i)), cache.MaxAge(2*time.Minute))
	}
	model := cache.MustAdd(c, objects.File("s3://demo-models/model.bin", "model.bin"), cache.MaxAge(90*time.Second))

	handler := lambdacache.Wrap(c, func(ctx context.Context, ev json.RawMessage) (string, error) {
		path, _ := model.From(ctx)
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("model %d bytes", len(b)), nil
	})

	fmt.Printf("%d entries: 25 SSM parameters (max age 60s), 5 secrets (2m), 1 S3 file (90s)\n\n", len(c.Stats()))
	fmt.Printf("%-4s %-6s %-8s %-22s %s\n", "inv", "time", "calls", "by operation", "handler said")
	baseline := 0
	prevStats := map[cache.Key]int64{}
	for i := 1; i <= n; i++ {
		before := counter.Counts()
		out, err := handler.Invoke(ctx, []byte(`{"Records":[]}`))
		if err != nil {
			return err
		}
		delta := diff(before, counter.Counts())
		// What one call per entry would have cost: a call for every refresh.
		for _, st := range c.Stats() {
			baseline += int(st.Refreshes - prevStats[st.Key])
			prevStats[st.Key] = st.Refreshes
		}
		total := 0
		for _, v := range delta {
			total += v
		}
		fmt.Printf("%-4d %-6s %-8d %-22s %s\n", i, fmt.Sprintf("+%ds", (i-1)*20), total, format(delta), out)
		clock.Advance(20 * time.Second)
	}
	var hits, misses int64
	for _, st := range c.Stats() {
		hits += st.Hits
		misses += st.Misses
	}
	fmt.Printf("\nAPI calls: %d with offload's cache; %d with one call per entry refresh (stacked lambda-cache decorators)\n", counter.Count(), baseline)
	fmt.Printf("entry reads served from memory: %d of %d\n", hits, hits+misses)
	return nil
}

func seed(ctx context.Context, ssmAPI *ssm.Client, smAPI *secretsmanager.Client, s3API *s3.Client) error {
	for i := range 25 {
		if _, err := ssmAPI.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(fmt.Sprintf("/demo/app/param%02d", i)), Value: aws.String(fmt.Sprint("value", i)), Type: types.ParameterTypeSecureString,
		}); err != nil {
			return err
		}
	}
	for i := range 5 {
		if _, err := smAPI.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(fmt.Sprintf("demo/secret%d", i)), SecretString: aws.String("s3cr3t"),
		}); err != nil {
			return err
		}
	}
	if _, err := s3API.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("demo-models")}); err != nil {
		return err
	}
	_, err := s3API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-models"), Key: aws.String("model.bin"), Body: strings.NewReader(strings.Repeat("w", 1<<20))})
	return err
}

func diff(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func format(m map[string]int) string {
	var parts []string
	for _, k := range []string{"GetParameters", "BatchGetSecretValue", "GetSecretValue"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
			delete(m, k)
		}
	}
	for k, v := range m {
		if strings.HasPrefix(k, "GET /") {
			k = "GetObject"
		}
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
