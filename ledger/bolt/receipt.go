package bolt

import (
	"context"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/ledger"
)

// ReceiptBucket is the top-level bbolt bucket that holds receipts, one
// nested bucket per S3 bucket as in RootBucket. Apart from the records, so
// that a receipt never makes a key look seen and Get reads nothing more.
const ReceiptBucket = "receipts"

// Receipts returns the receipts held for keys of bucket, read in one
// transaction.
func (l *Ledger) Receipts(ctx context.Context, bucket string, keys []string) (map[string]ledger.Receipt, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/bolt: receipts from %s: %w", bucket, err)
	}
	out := make(map[string]ledger.Receipt)
	err := l.db.View(func(tx *bbolt.Tx) error {
		b := nested(tx.Bucket([]byte(ReceiptBucket)), bucket)
		if b == nil {
			return nil
		}
		for _, k := range keys {
			v := b.Get([]byte(k))
			if v == nil {
				continue
			}
			rc, err := decodeReceipt(bucket, k, v)
			if err != nil {
				return err
			}
			out[k] = rc
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger/bolt: receipts from %s in %s: %w", bucket, l.db.Path(), err)
	}
	return out, nil
}

// AddReceipts adds each receipt to its key's (ledger.MergeReceipt), in one
// transaction, and reports ErrInvalid for those it cannot hold.
func (l *Ledger) AddReceipts(ctx context.Context, rs []ledger.Receipt) ([]error, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/bolt: add receipts: %w", err)
	}
	errs := make([]error, len(rs))
	valid := 0
	for i, rc := range rs {
		if err := checkKey(rc.Key, ledger.CheckReceipt(rc)); err != nil {
			errs[i] = ledger.Invalid(i, rc.Bucket, rc.Key, err)
			continue
		}
		valid++
	}
	if valid == 0 {
		return errs, nil
	}
	err := l.db.Update(func(tx *bbolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists([]byte(ReceiptBucket))
		if err != nil {
			return err
		}
		for i, rc := range rs {
			if errs[i] != nil {
				continue
			}
			b, err := top.CreateBucketIfNotExists([]byte(rc.Bucket))
			if err != nil {
				return fmt.Errorf("create bucket for %s: %w", rc.Bucket, err)
			}
			var held ledger.Receipt
			if v := b.Get([]byte(rc.Key)); v != nil {
				if held, err = decodeReceipt(rc.Bucket, rc.Key, v); err != nil {
					return err
				}
			}
			if err := b.Put([]byte(rc.Key), encodeReceipt(ledger.MergeReceipt(held, rc))); err != nil {
				return fmt.Errorf("put the receipt of %s/%.100q: %w", rc.Bucket, rc.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger/bolt: add %d receipts to %s: %w", valid, l.db.Path(), err)
	}
	return errs, nil
}

// encodeReceipt writes a receipt's value: the format byte (1), the change
// and then each target, every string as a uvarint length and its bytes.
func encodeReceipt(rc ledger.Receipt) []byte {
	b := []byte{formatV1}
	b = binary.AppendUvarint(b, uint64(len(rc.Change)))
	b = append(b, rc.Change...)
	for _, t := range rc.Targets {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

func decodeReceipt(bucket, key string, b []byte) (ledger.Receipt, error) {
	rc := ledger.Receipt{Bucket: bucket, Key: key}
	if len(b) < 1 || b[0] != formatV1 {
		return rc, fmt.Errorf("decode the receipt of %s/%.100q: unknown format (written by a newer offload?)", bucket, key)
	}
	b = b[1:]
	var strs []string
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return rc, fmt.Errorf("decode the receipt of %s/%.100q: %w", bucket, key, errShort)
		}
		strs = append(strs, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	if len(strs) < 2 {
		return rc, fmt.Errorf("decode the receipt of %s/%.100q: %w", bucket, key, errShort)
	}
	rc.Change, rc.Targets = strs[0], strs[1:]
	return rc, nil
}
