// Package dynamocache caches Amazon DynamoDB items in a Lambda function's
// memory across invocations.
//
// A Client builds specs that a cache.Cache holds: a whole item, an item
// decoded into a struct, or a single value stored as Powertools'
// DynamoDBProvider stores parameters (partition key "id", attribute
// "value"):
//
//	client, err := dynamocache.New(dynamocache.Options{Client: dynamodb.NewFromConfig(cfg)})
//	...
//	user := cache.MustAdd(c, dynamocache.ItemAs[User](client, "users", dynamocache.StringKey("pk", "u#42")))
//	limit := cache.MustAdd(c, client.Value("parameters", "rate-limit"))
//
// Entries due together are fetched together: up to 100 keys per
// BatchGetItem call, across tables, with keys that the service leaves
// unprocessed asked for again, with backoff (Options.Retry), a bounded
// number of times before their entries fail with cache.ErrThrottled. A single entry is
// fetched with GetItem. A missing item fails with cache.ErrNotFound, naming
// the table and the key.
//
// Entries are keyed by table, a canonical rendering of the key (numbers
// normalised, so 1.0 and 1 are the same key) and the read consistency, so
// two entries never overwrite each other's value.
package dynamocache
