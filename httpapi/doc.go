// Package httpapi is offload's HTTP interface, in plain net/http: the
// S3-compatible webhook that feeds the durable inbox, manual purges and
// their state, dry-run plans, the inbox's state, health, Prometheus
// metrics, the OpenAPI document and a dashboard. It knows nothing about
// Lambda; `offload serve` mounts it, and a Lambda adapter can too.
//
// Routes (openapi.yaml documents each, with its answers):
//
//	POST   /v1/events                     an S3 event notification (a MinIO webhook); 202 {"id": N} once it is
//	                                      on disk, 400 invalid_event when it can never be applied (nothing stored)
//	GET    /v1/inbox                      depth, oldest entry's age, failing entries; pending, in-flight,
//	                                      redelivered and dead-lettered counts
//	DELETE /v1/inbox/{id}                 drop an entry that can never be processed (an operator's decision)
//	GET    /v1/inbox/dead                 the dead letters: entries set aside after too many failed deliveries
//	POST   /v1/inbox/dead/{id}/replay     put a dead letter back in the inbox
//	DELETE /v1/inbox/dead/{id}            discard a dead letter
//	POST   /v1/purges                     purge paths, URLs or tags through a named target; 200 done, 202 in progress
//	GET    /v1/purges/{id}                a recent purge's state: CloudFront status, Akamai estimate, per-item failures
//	POST   /v1/plan                       a dry run: the plan for the events in the body; nothing is applied
//	GET    /v1/status                     health with details: inbox depth, target names
//	GET    /v1/ledger                     ?bucket=B&key=K: the ledger's record and receipt for one object
//	DELETE /v1/ledger                     ?bucket=B&key=K: reset them (an operator's decision); answers what they held
//	GET    /metrics                       Prometheus text format; cache entries by key and short name
//	GET    /                              the dashboard (HTML)
//	GET    /healthz                       {"status": "ok"} when the inbox can be read, and nothing more (no token needed)
//	GET    /openapi.yaml                  the OpenAPI 3.0 document (no token needed)
//
// Every other route needs a token, as "Authorization: Bearer <token>" or
// "X-Api-Key: <token>", compared in constant time; a token may be limited to
// some routes (Credential). No token, a wrong token and a token for another
// route get the same 401. When no tokens are configured, only loopback
// callers are served. Each token has a rate limit (a token bucket; 429 with
// Retry-After past it), every body a size limit (413), and every error the
// shape {"error": {"code": "...", "message": "..."}}.
//
// A Monitor counts what passes, for /metrics and the dashboard: give the
// same one to Options and, through Monitor.Wrap, to the inbox worker.
package httpapi
