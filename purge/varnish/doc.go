// Package varnish purges HTTP caches that accept PURGE or BAN requests:
// Varnish, and others that follow its convention.
//
// Each item is one request to every configured endpoint, carrying the
// site's Host header; an item counts as purged only when every endpoint
// answered 2xx. The cache must allow the method from this host; a VCL that
// does so for loopback is:
//
//	acl purgers { "127.0.0.1"; "::1"; }
//	sub vcl_recv {
//		if (req.method == "PURGE") {
//			if (client.ip !~ purgers) { return (synth(405, "Not allowed")); }
//			return (purge);
//		}
//	}
//	sub vcl_backend_fetch {
//		if (bereq.http.If-None-Match) { unset bereq.http.If-Modified-Since; }
//	}
//
// The second part matters when the origin is MinIO: Varnish may revalidate
// a copy it has just purged, with both of its validators, and MinIO answers
// 304 when the date holds even though the ETag does not, so a version
// written in the same second as the cached one would never be served
// (docs/configuration.md, "Varnish's VCL").
package varnish
