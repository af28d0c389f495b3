package lambdacache_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/cache/ssmcache"
)

// The handler a Lambda author writes first: an SQS handler whose
// parameters and secret are loaded before it runs, fetched together, and
// read from its context, typed.
func Example() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{}) // max age 60s, or $OFFLOAD_CACHE_MAX_AGE
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	secrets, err := secretcache.New(secretcache.Options{Client: secretsmanager.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}

	type Flags struct{ Beta bool }
	dbURL := cache.MustAdd(c, params.String("/prod/app/db_url"), cache.MaxAge(5*time.Minute))
	flags := cache.MustAdd(c, cache.JSON[Flags](params.String("/prod/app/flags")))
	hosts := cache.MustAdd(c, params.StringList("/prod/app/hosts"))
	apiKey := cache.MustAdd(c, secrets.String("prod/api-key"))

	handle := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		url, _ := dbURL.From(ctx) // string, loaded before handle runs
		f, _ := flags.From(ctx)   // Flags, decoded once per fetch
		h, _ := hosts.From(ctx)   // []string
		key, _ := apiKey.From(ctx)
		var resp events.SQSEventResponse
		for _, m := range ev.Records {
			if m.Body == "beta" && !f.Beta {
				// Fails this message alone: the queue sends it again.
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				continue
			}
			fmt.Println(m.MessageId, url, h[0], len(key))
		}
		return resp, nil
	}
	// Every entry is loaded before handle runs: one GetParameters call for
	// the three parameters and one GetSecretValue for the secret, then none
	// while they are fresh.
	handler := lambdacache.Wrap(c, handle)

	// lambda.Start(handler) in main; here, two SQS events by hand.
	for range 2 {
		out, err := handler.Invoke(ctx, []byte(`{"Records":[{"messageId":"m1","body":"x"},{"messageId":"m2","body":"beta"}]}`))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(out))
	}
	for _, st := range c.Stats() {
		fmt.Println(st.Key, "fetched", st.Refreshes, "hits", st.Hits)
	}
	// Output:
	// m1 postgres://db.internal/app a.example.com 5
	// {"batchItemFailures":[{"itemIdentifier":"m2"}]}
	// m1 postgres://db.internal/app a.example.com 5
	// {"batchItemFailures":[{"itemIdentifier":"m2"}]}
	// ssm:/prod/app/db_url fetched 1 hits 1
	// ssm:/prod/app/flags [json] fetched 1 hits 1
	// ssm:/prod/app/hosts [list] fetched 1 hits 1
	// secretsmanager:prod/api-key fetched 1 hits 1
}
