package ledger

import (
	"context"
	"fmt"
)

// Entry is what a ledger holds for one key: its record and its receipt,
// each absent when there is none. It is what `offload ledger show` prints
// and GET /v1/ledger answers.
type Entry struct {
	Bucket  string   `json:"bucket"`
	Key     string   `json:"key"`
	Record  *Record  `json:"record,omitempty"`
	Receipt *Receipt `json:"receipt,omitempty"`
}

// Lookup returns the entry of one key, or an error wrapping ErrNotFound
// when the key holds neither a record nor a receipt, and ErrInvalid when
// no ledger could hold it (CheckKey).
func Lookup(ctx context.Context, l Ledger, bucket, key string) (Entry, error) {
	e := Entry{Bucket: bucket, Key: key}
	if err := CheckKey(bucket, key); err != nil {
		return e, fmt.Errorf("ledger: look up %s/%.100q: %w", bucket, key, err)
	}
	recs, err := l.Get(ctx, bucket, []string{key})
	if err != nil {
		return e, err
	}
	rcs, err := l.Receipts(ctx, bucket, []string{key})
	if err != nil {
		return e, err
	}
	if r, ok := recs[key]; ok {
		e.Record = &r
	}
	if rc, ok := rcs[key]; ok {
		e.Receipt = &rc
	}
	if e.Record == nil && e.Receipt == nil {
		return e, fmt.Errorf("ledger: %s/%.100q: %w", bucket, key, ErrNotFound)
	}
	return e, nil
}
