package natskv

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/offload-dev/offload/ledger"
)

// Receipts returns the receipts held for keys of bucket, read as Get
// reads: a receipt lives in its key's entry, beside the record.
func (l *Ledger) Receipts(ctx context.Context, bucket string, keys []string) (map[string]ledger.Receipt, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/natskv: receipts from %s: %w", bucket, err)
	}
	out := make(map[string]ledger.Receipt)
	err := l.readAll(ctx, bucket, keys, func(k string, v value) {
		if v.Receipt != nil {
			out[k] = ledger.Receipt{Bucket: bucket, Key: k, Change: v.Receipt.Change, Targets: v.Receipt.Targets}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("ledger/natskv: receipts from %s in %s: %w", bucket, l.opts.KV.Bucket(), err)
	}
	return out, nil
}

// AddReceipts adds each receipt to its key's (ledger.MergeReceipt) with a
// compare-and-set on the key's entry, which leaves the record in it as it
// is, and reports ledger.ErrInvalid for those it cannot hold. Receipts of
// different keys are written concurrently.
func (l *Ledger) AddReceipts(ctx context.Context, rs []ledger.Receipt) ([]error, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/natskv: add receipts: %w", err)
	}
	errs := make([]error, len(rs))
	for i, rc := range rs {
		if err := checkReceipt(rc); err != nil {
			errs[i] = ledger.Invalid(i, rc.Bucket, rc.Key, err)
		}
	}
	failed := l.each(len(rs), errs, func(i int) (string, string) { return rs[i].Bucket, rs[i].Key }, func(i int) error {
		rc := rs[i]
		return l.update(ctx, rc.Bucket, rc.Key, func(v *value, ok bool) (bool, error) {
			var held ledger.Receipt
			if v.Receipt != nil {
				held = ledger.Receipt{Change: v.Receipt.Change, Targets: v.Receipt.Targets}
			}
			merged := ledger.MergeReceipt(held, rc)
			if held.Change == merged.Change && slices.Equal(held.Targets, merged.Targets) {
				return false, nil // a redelivery's: nothing new
			}
			v.Receipt = &receipt{Change: merged.Change, Targets: merged.Targets}
			v.NoRecord = !ok || v.NoRecord
			return true, nil
		})
	})
	if len(failed) > 0 {
		return errs, fmt.Errorf("ledger/natskv: add %d of %d receipts to %s failed: %w", len(failed), len(rs), l.opts.KV.Bucket(), errors.Join(failed...))
	}
	return errs, nil
}

func checkReceipt(rc ledger.Receipt) error {
	if err := ledger.CheckReceipt(rc); err != nil {
		return err
	}
	if err := checkEntryKey(rc.Bucket, rc.Key); err != nil {
		return err
	}
	return checkStrings(append([]string{rc.Change}, rc.Targets...)...)
}
