// Package purgetest is the conformance suite every purge.Purger passes:
// batching at the provider's limit, per-item partial failure, cancellation,
// retry of throttling and server errors honouring Retry-After, no retry of a
// refusal, and concurrent use. It needs nothing but offload's public API, so
// a provider written in another module runs it as offload's own do.
//
// # Test your own provider
//
// A provider's test gives Run a Harness whose New builds the purger against
// a backend the test controls: an httptest server that speaks the
// provider's API, or a proxy in front of the real component (moto,
// varnishd). That backend decodes each call it receives into the keys of
// the items it carries and asks the suite's Backend what to do with it:
// Receive returns nil to serve the call, or a *Fault to answer in the
// provider's own shape.
//
// Say your CDN purges paths with POST {"paths": [...]}, at most 3 a call.
// The fake of its API is a few lines:
//
//	func fakeAPI(b *purgetest.Backend) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			var req struct{ Paths []string }
//			json.NewDecoder(r.Body).Decode(&req)
//			if f := b.Receive(req.Paths); f != nil {
//				f.SetRetryAfter(w.Header()) // Retry-After, for a throttling fault
//				http.Error(w, f.Message, f.Status()) // 429, 503 or 400
//				return
//			}
//			fmt.Fprint(w, "purge-1") // the CDN's id for the purge
//		})
//	}
//
// and the test hands the suite a purger over it, with the retry policy the
// suite gives (it sleeps on a fake clock, so no check waits):
//
//	func TestConformance(t *testing.T) {
//		purgetest.Run(t, purgetest.Harness{
//			New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
//				srv := httptest.NewServer(fakeAPI(b))
//				t.Cleanup(srv.Close)
//				c, err := yourcdn.New(yourcdn.Options{Endpoint: srv.URL, PathsPerCall: 3, Retry: p})
//				if err != nil {
//					t.Fatal(err)
//				}
//				return c
//			},
//			Unsupported: purge.Tags("t1")[0], // a kind yourcdn cannot purge
//		})
//	}
//
// Harness.Item makes the items to send (paths by default) and Harness.Key
// what the backend reports for each; Harness.Limit and Harness.Concurrency
// are read from the purger's Limits and default to one call at a time.
// testdata/outside in this package's directory is such a provider, in a
// module of its own; TestOutsideModule runs its tests.
package purgetest
