package ledger_test

import (
	"testing"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/ledgertest"
)

func TestMemory(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledger.Ledger { return ledger.NewMemory() })
}

func TestMemoryZeroValue(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledger.Ledger { return new(ledger.Memory) })
}

func BenchmarkMemoryCommit(b *testing.B) {
	ledgertest.BenchCommit(b, ledger.NewMemory(), 10000)
}

func BenchmarkMemoryGet(b *testing.B) {
	ledgertest.BenchGet(b, ledger.NewMemory(), 10000)
}
