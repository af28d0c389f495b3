// Package httpapi is offload's HTTP interface, in plain net/http: the
// S3-compatible webhook that feeds the durable inbox, the inbox's state and
// a health check. It knows nothing about Lambda; `offload serve` mounts it.
//
// Routes:
//
//	POST   /v1/events      an S3 event notification (a MinIO webhook); 202 {"id": N} once it is on disk
//	GET    /v1/inbox       depth, oldest entry's age, failing entries
//	DELETE /v1/inbox/{id}  drop an entry that can never be processed (an operator's decision)
//	GET    /healthz        200 when the inbox can be read
//
// Every /v1/ route needs "Authorization: Bearer <token>" when tokens are
// configured (compared in constant time). When none are, only loopback
// callers are served.
package httpapi
