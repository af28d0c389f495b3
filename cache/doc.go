// Package cache keeps values a Lambda function needs — SSM parameters,
// secrets, S3 objects, AppConfig configuration, DynamoDB items, anything a
// loader returns — in the execution environment's memory across
// invocations, and fetches them in as few API calls as the services allow.
//
// Add each entry once, at cold start, and read it per invocation. With
// lambdacache's handler wrapper, as in its example:
//
//	c, err := cache.New(cache.Options{}) // max age 60s, or $OFFLOAD_CACHE_MAX_AGE
//	...
//	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
//	...
//	dbURL := cache.MustAdd(c, params.String("/prod/app/db_url"), cache.MaxAge(5*time.Minute))
//	flags := cache.MustAdd(c, cache.JSON[Flags](params.String("/prod/app/flags")))
//	...
//	handle := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
//		url, _ := dbURL.From(ctx) // string, loaded before handle runs
//		f, _ := flags.From(ctx)   // Flags, decoded once per fetch
//		...
//	}
//	...
//	handler := lambdacache.Wrap(c, handle)
//
// Outside a handler, Entry.Get reads a value, fetching it if it has
// expired; Fetch reads one by a name known only at request time.
//
// What it does that lambda-cache and Powertools Parameters do not:
//
//   - Entries due at the same time are fetched together, across entries:
//     SSM names ten to a GetParameters call, secrets twenty to a
//     BatchGetSecretValue call. When one entry is read alone, other due
//     entries of the same source ride along in the call it makes anyway.
//     During an outage a load still makes one call per batch, not one per
//     name.
//   - Entries are keyed by source and full name (and decryption, version,
//     file), so "/prod/x/pw", "/dev/x/pw" and a secret "pw" never overwrite
//     each other, though all three have the short name "pw" by default.
//     A key is one entry: adding it again returns it.
//   - At most one fetch per entry is in flight; concurrent readers share it.
//     The fetch runs on its own context: a reader that gives up gets its
//     own context's error, and the others still get the value.
//   - When a refresh fails and a value is cached, the old value is served
//     for up to Options.MaxStale and the failure logged once; the next try
//     waits for a backoff (Options.Retry). Expiry has jitter, so a fleet of
//     environments does not refresh in the same second.
//   - S3 objects are refreshed with a conditional GET; files are replaced
//     atomically.
//   - A warm-up ping refreshes what is about to expire and returns.
//   - A hit reads memory only, without an allocation: the clock it checks
//     expiry against lags the real one by about ClockGranularity (1 ms).
//
// Every zero field of Options means its default; AlwaysFetch, NoJitter and
// NeverStale say "always", "off" and "never". Mistakes are errors from New
// and Add, never a panic at cold start (MustAdd panics with Add's error, for
// entries declared as package variables).
//
// Sources live in their own packages: ssmcache, secretcache, s3cache,
// appconfigcache and dynamocache; the Lambda handler wrapper in
// lambdacache, so that this package needs neither aws-lambda-go nor the AWS
// SDK. Func caches the result of any function; Store is a bounded LRU map
// for keyed data such as per-user sessions.
package cache
