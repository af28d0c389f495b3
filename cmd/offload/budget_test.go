package main

import (
	"testing"

	"github.com/offload-dev/offload/purge/akamai"
)

// Targets of one account, as the configuration names its credential,
// share one budget; another credential has its own.
func TestSharedBudgetByAccount(t *testing.T) {
	get := func(id ...string) any {
		t.Helper()
		b, err := sharedBudget("akamai", akamai.Buckets(), id...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	production, staging := get("/etc/offload/.edgerc", "ccu"), get("/etc/offload/.edgerc", "ccu")
	other := get("/etc/offload/.edgerc", "other")
	if production != staging {
		t.Errorf("two targets of one credential: got two budgets, want one")
	}
	if production == other {
		t.Errorf("two credentials: got one budget, want two")
	}
}
