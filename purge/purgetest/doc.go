// Package purgetest is the conformance suite every purge.Purger passes:
// batching at the provider's limit, per-item partial failure, cancellation,
// retry of throttling and server errors honouring Retry-After, no retry of a
// refusal, and concurrent use.
//
// A provider's test gives the suite a Harness whose New builds the purger
// against a backend the test controls: an httptest server that speaks the
// provider's API, or a proxy in front of the real component (moto,
// varnishd). That backend decodes each call it receives into the keys of the
// items it carries and asks the suite's Backend what to do with it:
//
//	func TestConformance(t *testing.T) {
//		purgetest.Run(t, purgetest.Harness{
//			New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
//				srv := httptest.NewServer(fakeAPI(b)) // calls b.Receive(keys) per request
//				t.Cleanup(srv.Close)
//				return fastly.New(fastly.Options{APIURL: srv.URL, Retry: p, ...})
//			},
//			Item: func(i int) purge.Item { return purge.Tags(fmt.Sprint("k", i))[0] },
//		})
//	}
//
// The retry policy handed to New sleeps on a fake clock, so no check waits.
package purgetest
