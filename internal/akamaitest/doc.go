// Package akamaitest holds test servers that behave as Akamai's APIs do, for
// the tests of purge/akamai and mirror/netstorage: an EdgeGrid verifier that
// recomputes the EG1-HMAC-SHA256 signature of a request it received, a Fast
// Purge v3 server (signature, 50,000-byte body limit, token-bucket rate
// limits, Akamai's problem-details errors) and a NetStorage HTTP API server
// (ACS signature, action header, clock skew, streaming uploads). All listen
// on 127.0.0.1 only.
package akamaitest
