// Package dynamo is the ledger for AWS: a DynamoDB table, so that every
// Lambda environment of offload shares one ledger and none can move a key
// backwards.
//
// # Table
//
// One table (on-demand capacity is plenty; CreateTable makes it) with a
// string partition key and no sort key:
//
//	pk          S     bucket + "/" + key (S3 bucket names have no "/")
//	seq         S     the sequencer, ledger.PadSequencer'd, so that string order is number order; absent if none
//	sequencer   S     the sequencer as it came, returned by Get; absent if none
//	etag        S     absent if empty
//	version_id  S     absent if empty
//	time        S     the event time in UTC, "2006-01-02T15:04:05.000000000Z": fixed width, so string order is time order
//	deleted     BOOL  present and true if the last change was a remove
//	purged_seq  S     the sequencer the CDN was last purged for, PadSequencer'd; absent if none
//	purged      S     the same as it came, returned by Get; absent if none
//
// The ledger needs dynamodb:BatchGetItem and dynamodb:PutItem on the table;
// CreateTable also needs dynamodb:CreateTable and dynamodb:DescribeTable.
//
// # Writes
//
// Commit writes each record with its own conditional PutItem, not a
// transaction, so one stale key cannot fail the others. The condition is
// ledger.Newer written for DynamoDB; for a record with a sequencer:
//
//	attribute_not_exists(pk)
//	OR #seq < :seq
//	OR (attribute_not_exists(#seq) AND #time < :time)
//	OR (#seq = :seq AND P)
//	OR (attribute_not_exists(#seq) AND #time = :time AND P)
//
// and for one without:
//
//	attribute_not_exists(pk) OR #time < :time OR (#time = :time AND P)
//
// where P, "(attribute_not_exists(purged_seq) OR purged_seq < :purged_seq)",
// is there only if the record's Purged is above zero.
// A failed condition (ConditionalCheckFailedException) is the record's
// ledger.ErrStale, not a failure. Records of different keys are written
// concurrently (Options.Concurrency); records of one key in one Commit are
// written in order. Throttled or failed calls are retried by the SDK
// client's own retryer; what still fails is reported per record and makes
// Commit's error non-nil.
//
// # Reads
//
// Get reads with strongly consistent BatchGetItem calls of up to 100 keys,
// and asks again for the keys DynamoDB left unprocessed, backing off with
// Options.Retry.
package dynamo
