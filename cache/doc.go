// Package cache keeps values a Lambda function needs — SSM parameters,
// secrets, S3 objects, AppConfig configuration, DynamoDB items, anything a
// loader returns — in the execution environment's memory across
// invocations, and fetches them in as few API calls as the services allow.
//
// Register entries once, at cold start, and read them per invocation (the
// whole program is ExampleWrap_sqs):
//
//	c := cache.New(cache.Options{}) // max age 60s, or $OFFLOAD_CACHE_MAX_AGE
//	params := ssmcache.New(ssm.NewFromConfig(cfg))
//	...
//	dbURL := cache.Add(c, params.String("/prod/app/db_url"), cache.MaxAge(5*time.Minute))
//	flags := cache.Add(c, cache.JSON[Flags](params.String("/prod/app/flags")))
//	...
//	handle := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
//		url, _ := dbURL.From(ctx) // typed: string
//		f, _ := flags.From(ctx)   // typed: Flags, decoded once per fetch
//		...
//	}
//
//	// Every entry is loaded before handle runs: one GetParameters call for the
//	// three parameters, one GetSecretValue for the secret; none while fresh.
//	lambda.Start(cache.Wrap(c, handle, dbURL, flags, hosts, apiKey))
//
// What it does that lambda-cache and Powertools Parameters do not:
//
//   - Entries due at the same time are fetched together, across entries:
//     SSM names ten to a GetParameters call, secrets twenty to a
//     BatchGetSecretValue call. When one entry is read alone, other due
//     entries of the same source ride along in the call it makes anyway.
//   - Entries are keyed by source and full name (and decryption, version,
//     file), so "/prod/x/pw", "/dev/x/pw" and a secret "pw" never overwrite
//     each other. The short name is only how a handler reads a value.
//   - At most one fetch per entry is in flight; concurrent readers share it.
//   - When a refresh fails and a value is cached, the old value is served
//     for up to Options.MaxStale and the failure logged once; the next try
//     waits for a backoff. Expiry has jitter, so a fleet of environments
//     does not refresh in the same second.
//   - S3 objects are refreshed with a conditional GET; files are replaced
//     atomically.
//   - A warm-up ping refreshes what is about to expire and returns.
//   - A hit costs tens of nanoseconds and no allocation.
//
// Sources live in their own packages: ssmcache, secretcache, s3cache,
// appconfigcache and dynamocache. Func caches the result of any function;
// Store is a bounded LRU map for keyed data such as per-user sessions.
package cache
