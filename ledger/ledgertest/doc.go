// Package ledgertest is the conformance suite every ledger.Ledger passes:
// memory, bolt and dynamo run the same checks, so the planner can rely on
// one contract whatever the state driver.
//
// Use it from a test of the implementation:
//
//	func TestConformance(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T) ledger.Ledger {
//			return ledger.NewMemory() // a new, empty ledger each call
//		})
//	}
//
// Race checks several Ledger values over one store (two Lambda
// environments over one table), and BenchCommit and BenchGet are the
// shared benchmarks.
package ledgertest
