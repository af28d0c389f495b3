// Package akamai purges Akamai's edge caches through the Fast Purge v3 API:
// invalidate or delete, by URL, CP code or cache tag, on the staging or the
// production network.
//
// Requests are signed with EdgeGrid (EG1-HMAC-SHA256) by Akamai's own Go
// signer, with credentials from an .edgerc file and its section, or from the
// AKAMAI_* environment variables. Items are packed into as few requests as
// Fast Purge's 50,000-byte body limit and its token-bucket sizes allow;
// throttling (429, with the X-Ratelimit-* headers) and server errors are
// retried with Options.Retry (a retry.Policy). Each accepted request's
// purgeId, supportId and estimatedSeconds are kept in the purge.Result, and
// Akamai's own error (title, detail, supportId) reaches the caller.
//
// Fast Purge v3 has no status endpoint: Client.Status reports a purge done
// once its estimatedSeconds have passed since Akamai accepted it.
package akamai
