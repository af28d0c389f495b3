package cache_test

import (
	"context"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/cache/ssmcache"
)

// A Lambda function behind SQS, as one first writes it: its parameters and
// secret are cached across invocations and loaded, batched, before each one.
// The README shows this example as the program it is. It has no output to
// check: lambda.Start runs only under the Lambda runtime, so the example is
// compiled and not run (ExampleWrap runs one invocation by hand).
func ExampleWrap_sqs() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	type Flags struct{ Beta bool }

	c := cache.New(cache.Options{}) // max age 60s, or $OFFLOAD_CACHE_MAX_AGE
	params := ssmcache.New(ssm.NewFromConfig(cfg))
	secrets := secretcache.New(secretsmanager.NewFromConfig(cfg))

	dbURL := cache.Add(c, params.String("/prod/app/db_url"), cache.MaxAge(5*time.Minute))
	flags := cache.Add(c, cache.JSON[Flags](params.String("/prod/app/flags")))
	hosts := cache.Add(c, params.StringList("/prod/app/hosts"))
	apiKey := cache.Add(c, secrets.String("prod/api-key"), cache.Name("key"))

	deliver := func(ctx context.Context, body, dbURL, key string, f Flags, hosts []string) error {
		return nil // the function's own work
	}
	handle := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		url, _ := dbURL.From(ctx)                  // typed: string
		f, _ := flags.From(ctx)                    // typed: Flags, decoded once per fetch
		hs, _ := hosts.From(ctx)                   // typed: []string
		key, _ := cache.Lookup[string](ctx, "key") // by its short name
		var resp events.SQSEventResponse
		for _, m := range ev.Records {
			if err := deliver(ctx, m.Body, url, key, f, hs); err != nil {
				// Only this message is sent again (ReportBatchItemFailures).
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return resp, nil
	}

	// Every entry is loaded before handle runs: one GetParameters call for the
	// three parameters, one GetSecretValue for the secret; none while fresh.
	lambda.Start(cache.Wrap(c, handle, dbURL, flags, hosts, apiKey))
}
