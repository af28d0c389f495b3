// Package appconfigcache caches AWS AppConfig configurations in a Lambda
// function's memory, through the AppConfig Data API's session-token flow.
//
// A Client builds specs that a cache.Cache holds:
//
//	client, err := appconfigcache.New(appconfigcache.Options{Client: appconfigdata.NewFromConfig(cfg)})
//	...
//	settings := cache.MustAdd(c, cache.JSON[Settings](client.Config("shop", "prod", "settings")))
//	flags := cache.MustAdd(c, client.FeatureFlags("shop", "prod", "flags"))
//
// The client starts one configuration session per application, environment
// and profile (StartConfigurationSession) and polls it with
// GetLatestConfiguration, always with the token the previous call returned.
// When the configuration has not changed since the last poll, the service
// answers with an empty body and the entry keeps its value without decoding
// it again. The client never polls before the interval the service asked for:
// an entry refreshed earlier keeps its value without a call. A token that has
// expired (they last 24 hours) or that the service rejects is replaced by a
// new session, once, without the caller seeing it.
//
// AppConfig has no batch API: entries due together are fetched concurrently,
// one session each. Errors are classified for errors.Is: an unknown
// application, environment or profile is cache.ErrNotFound, a
// ThrottlingException is cache.ErrThrottled.
package appconfigcache
