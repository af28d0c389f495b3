// Package fastly purges a Fastly service through the Fastly API: single
// URLs (POST /purge/{host}/{path}), surrogate keys in batches of up to 256
// (POST /service/{id}/purge with {"surrogate_keys": [...]}), and everything
// (POST /service/{id}/purge_all). Requests carry the API token in Fastly-Key
// and, for a soft purge, Fastly-Soft-Purge: 1.
package fastly
