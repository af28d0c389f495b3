package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/ledger"
)

// A receipt lives in its key's item, beside the record, as two attributes:
// receipt (S, the change) and receipt_targets (SS). Commit's PutItem
// replaces the item, which clears them at no cost; Get skips an item that
// holds a receipt alone.
var receiptNames = map[string]string{"#pk": "pk", "#rc": "receipt", "#rt": "receipt_targets"}

// Receipts returns the receipts held for keys of bucket, read as Get reads,
// only the receipts' attributes.
func (l *Ledger) Receipts(ctx context.Context, bucket string, keys []string) (map[string]ledger.Receipt, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/dynamo: receipts from table %s (bucket %s): %w", l.table, bucket, err)
	}
	out := make(map[string]ledger.Receipt)
	proj := &projection{expr: "#pk, #rc, #rt", names: receiptNames}
	err := l.read(ctx, bucket, keys, proj, func(av map[string]types.AttributeValue) error {
		change, ok := av["receipt"].(*types.AttributeValueMemberS)
		if !ok {
			return nil
		}
		targets, _ := av["receipt_targets"].(*types.AttributeValueMemberSS)
		pk, _ := av["pk"].(*types.AttributeValueMemberS)
		if targets == nil || pk == nil {
			return fmt.Errorf("decode a receipt in bucket %s: no targets or no pk", bucket)
		}
		key, ok := strings.CutPrefix(pk.Value, bucket+"/")
		if !ok {
			return fmt.Errorf("decode the receipt of item %.200q: not in bucket %s", pk.Value, bucket)
		}
		out[key] = ledger.Receipt{Bucket: bucket, Key: key, Change: change.Value, Targets: slices.Sorted(slices.Values(targets.Value))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger/dynamo: receipts from table %s (bucket %s): %w", l.table, bucket, err)
	}
	return out, nil
}

// AddReceipts adds each receipt to its key's with UpdateItem, which leaves
// the record in the item as it is: one call sets the receipt where none is
// held or another change's is, and where the same change's is held (the
// condition fails), a second adds the targets to its set. Receipts of
// different keys are written concurrently.
func (l *Ledger) AddReceipts(ctx context.Context, rs []ledger.Receipt) ([]error, error) {
	if err := l.usable(ctx); err != nil {
		return nil, fmt.Errorf("ledger/dynamo: add receipts to table %s: %w", l.table, err)
	}
	errs := make([]error, len(rs))
	var failed atomic.Int32
	var g errgroup.Group
	g.SetLimit(l.opts.Concurrency)
	for i, rc := range rs {
		if err := ledger.CheckReceipt(rc); err != nil {
			errs[i] = ledger.Invalid(i, rc.Bucket, rc.Key, err)
			continue
		}
		if err := checkItem(rc.Bucket, rc.Key, append([]string{rc.Change}, rc.Targets...)...); err != nil {
			errs[i] = ledger.Invalid(i, rc.Bucket, rc.Key, err)
			continue
		}
		g.Go(func() error {
			switch err := l.addReceipt(ctx, ledger.MergeReceipt(ledger.Receipt{}, rc)); {
			case err == nil:
			case refused(err):
				errs[i] = ledger.Invalid(i, rc.Bucket, rc.Key, err)
			default:
				errs[i] = fmt.Errorf("ledger/dynamo: add the receipt of %.200q to table %s: %w", PK(rc.Bucket, rc.Key), l.table, err)
				failed.Add(1)
			}
			return nil
		})
	}
	g.Wait()
	if n := failed.Load(); n > 0 {
		for _, e := range errs {
			if e != nil && !errors.Is(e, ledger.ErrInvalid) {
				return errs, fmt.Errorf("ledger/dynamo: add receipts to table %s: %d of %d not written: %w", l.table, n, len(rs), e)
			}
		}
	}
	return errs, nil
}

func (l *Ledger) addReceipt(ctx context.Context, rc ledger.Receipt) error {
	values := map[string]types.AttributeValue{
		":c": &types.AttributeValueMemberS{Value: rc.Change},
		":t": &types.AttributeValueMemberSS{Value: rc.Targets},
	}
	set := &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: pkValue(rc.Bucket, rc.Key),
		UpdateExpression:          aws.String("SET #rc = :c, #rt = :t"),
		ConditionExpression:       aws.String("attribute_not_exists(#rc) OR #rc <> :c"),
		ExpressionAttributeNames:  map[string]string{"#rc": "receipt", "#rt": "receipt_targets"},
		ExpressionAttributeValues: values,
	}
	add := &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: pkValue(rc.Bucket, rc.Key),
		UpdateExpression:          aws.String("ADD #rt :t"),
		ConditionExpression:       aws.String("#rc = :c"),
		ExpressionAttributeNames:  map[string]string{"#rc": "receipt", "#rt": "receipt_targets"},
		ExpressionAttributeValues: values,
	}
	// Each failed condition means another writer changed the receipt
	// between the two calls; a few rounds settle it.
	for range 3 {
		for _, in := range []*dynamodb.UpdateItemInput{set, add} {
			_, err := l.api.UpdateItem(ctx, in)
			var ccf *types.ConditionalCheckFailedException
			if !errors.As(err, &ccf) {
				return err
			}
		}
	}
	return errors.New("the receipt kept changing under this write")
}

// Delete removes the key's item, record and receipt, with DeleteItem.
func (l *Ledger) Delete(ctx context.Context, bucket, key string) error {
	what := fmt.Sprintf("ledger/dynamo: delete %.200q from table %s", PK(bucket, key), l.table)
	if err := l.usable(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// A bucket name S3 never gives could name a checkpoint's item.
	if err := ledger.CheckKey(bucket, key); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if checkItem(bucket, key) != nil {
		return fmt.Errorf("%s: %w", what, ledger.ErrNotFound) // never held
	}
	out, err := l.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(l.table), Key: pkValue(bucket, key), ReturnValues: types.ReturnValueAllOld,
	})
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case len(out.Attributes) == 0:
		return fmt.Errorf("%s: %w", what, ledger.ErrNotFound)
	}
	return nil
}
