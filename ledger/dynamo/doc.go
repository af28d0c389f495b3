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
//	receipt          S   the change a receipt is for (ledger.Receipt); absent if none
//	receipt_targets  SS  the targets it was purged at; absent if none
//	commit_id   S     the PutItem that wrote the record: the Ledger's random writer id, "-", a count
//
// A key whose change failed before it was ever committed has an item with
// pk and the receipt alone; Get skips it.
//
// The ledger needs dynamodb:BatchGetItem, dynamodb:PutItem,
// dynamodb:UpdateItem (receipts) and dynamodb:DeleteItem (Delete) on the
// table; CreateTable also needs dynamodb:CreateTable and
// dynamodb:DescribeTable.
//
// # Writes
//
// Commit writes each record with its own conditional PutItem, not a
// transaction, so one stale key cannot fail the others. The condition is
// ledger.Newer written for DynamoDB; for a record with a sequencer:
//
//	attribute_not_exists(#time)
//	OR #seq < :seq
//	OR (attribute_not_exists(#seq) AND #time < :time)
//	OR (#seq = :seq AND P)
//	OR (attribute_not_exists(#seq) AND #time = :time AND P)
//
// and for one without:
//
//	attribute_not_exists(#time) OR #time < :time OR (#time = :time AND P)
//
// where P, "(attribute_not_exists(purged_seq) OR purged_seq < :purged_seq)",
// is there only if the record's Purged is above zero. "No time" is "no
// record": an item may hold a receipt alone. The PutItem replaces the
// whole item, so writing a record clears its key's receipt at no cost.
// A failed condition (ConditionalCheckFailedException) is the record's
// ledger.ErrStale, not a failure, unless the item it failed on (asked for
// with ReturnValuesOnConditionCheckFailure ALL_OLD) holds the call's own
// commit_id: then an earlier attempt of the same call was applied and its
// answer lost, the SDK retried it, and the record is written. A record
// committed again, a redelivery, is a new call and stale. A record
// DynamoDB cannot hold (its pk over 2,048 bytes, a string not valid UTF-8)
// is the record's ledger.ErrInvalid, found before any call. Records of
// different keys are written concurrently (Options.Concurrency); records
// of one key in one Commit are written in order. Throttled or failed calls
// are retried by the SDK client's own retryer; what still fails is
// reported per record and makes Commit's error non-nil.
//
// # Reads
//
// Get reads with strongly consistent BatchGetItem calls of up to 100 keys,
// and asks again for the keys DynamoDB left unprocessed, backing off with
// Options.Retry. Receipts reads the same way, only the receipt's
// attributes; the pipeline asks for them only for objects purged through
// more than one target.
//
// # Receipts and Delete
//
// AddReceipts writes with UpdateItem, which leaves a record in the item as
// it is: "SET receipt, receipt_targets" where no receipt or another
// change's is held, else "ADD receipt_targets" to the same change's.
// Delete is one DeleteItem, which removes the record and the receipt.
package dynamo
