// Package cloudflare purges a Cloudflare zone through the API's
// POST /zones/{zone_id}/purge_cache: by URL ("files"), cache tag, prefix,
// host name, or everything, with a Bearer API token that has the
// Cache Purge permission.
//
// How many URLs one request may carry depends on the zone's plan (30, 100
// or 500), so it is an option; tags, prefixes and hosts have their own
// per-request limit. A 429 is waited out with the shared retry policy,
// honouring Retry-After.
package cloudflare
