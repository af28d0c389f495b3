package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offload-dev/offload/ledger"
)

// checkpointPK is the partition key of a checkpoint: "#" starts no bucket
// name, so it is never a record's.
func checkpointPK(name string) string { return "#checkpoint/" + name }

// Checkpoint returns the mark set for name, or "" (ledger.Checkpointer). It
// reads with a strongly consistent BatchGetItem, the call Get makes, so the
// ledger needs no permission more.
func (l *Ledger) Checkpoint(ctx context.Context, name string) (string, error) {
	if err := l.usable(ctx); err != nil {
		return "", fmt.Errorf("ledger/dynamo: checkpoint %s: %w", name, err)
	}
	out, err := l.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		l.table: {ConsistentRead: aws.Bool(true), Keys: []map[string]types.AttributeValue{
			{"pk": &types.AttributeValueMemberS{Value: checkpointPK(name)}},
		}},
	}})
	if err == nil && len(out.UnprocessedKeys) > 0 {
		err = errUnprocessed(1)
	}
	if err != nil {
		return "", fmt.Errorf("ledger/dynamo: checkpoint %s in %s: %w", name, l.table, err)
	}
	for _, item := range out.Responses[l.table] {
		if v, ok := item["checkpoint"].(*types.AttributeValueMemberS); ok {
			return v.Value, nil
		}
	}
	return "", nil
}

// SetCheckpoint sets the mark for name; "" clears it. It writes with
// PutItem, as Commit does: clearing stores an empty mark rather than
// deleting the item, which would need DeleteItem.
func (l *Ledger) SetCheckpoint(ctx context.Context, name, value string) error {
	if err := l.usable(ctx); err != nil {
		return fmt.Errorf("ledger/dynamo: set checkpoint %s: %w", name, err)
	}
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: checkpointPK(name)}}
	if value != "" {
		item["checkpoint"] = &types.AttributeValueMemberS{Value: value}
	}
	if _, err := l.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: item}); err != nil {
		return fmt.Errorf("ledger/dynamo: set checkpoint %s in %s: %w", name, l.table, err)
	}
	return nil
}

var _ ledger.Checkpointer = (*Ledger)(nil)
