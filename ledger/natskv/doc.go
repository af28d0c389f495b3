// Package natskv is the ledger for several `offload serve` replicas: a NATS
// JetStream key-value bucket, so that every replica reads and commits one
// ledger and none can move a key backwards.
//
// # Bucket
//
// One key-value bucket (CreateBucket makes it: history 1, file storage) holds
// one entry per object. Its key is Key(bucket, key): the S3 bucket and the
// object key, each in unpadded base64url, joined by a dot. Key-value keys
// allow only [-/_=.a-zA-Z0-9] and no empty token, while an S3 key may hold
// any UTF-8; base64url has only letters, digits, - and _, so every S3 key
// maps to a valid key, and the dot keeps one bucket's entries under one
// prefix ("bXktc2l0ZQ.>" watches bucket my-site). A key is at most
// MaxKeyLen (2,048) characters, which S3's longest names fit in: NATS sends
// it in a protocol line the server refuses past 4,096 bytes by closing the
// connection, so a longer one is refused before it is sent, as the
// record's ledger.ErrInvalid, and never read.
//
// The value is a small JSON object: the record's sequencer, ETag, version
// ID, event time (RFC 3339 with nanoseconds), deleted flag and purged
// sequencer ("seq", "etag", "ver", "time", "del", "purged"), and the key's
// receipt, if it has one ("rc": the change and its targets). An entry that
// holds a receipt alone, for a change that failed before its key was ever
// committed, is marked "norec" and Get skips it.
//
// Checkpoints (ledger.Checkpointer, for offload backfill) live in the same
// bucket under CheckpointPrefix ("=checkpoint."), followed by the name in
// base64url; the value is the mark as it is. No record's key starts with
// "=", which base64url does not have.
//
// # Writes
//
// Commit compares each record with the entry held (ledger.Newer) and writes
// it with a compare-and-set: an Update at the revision read, or a Create
// for a key not held (Create writes at the revision of a deleted key's
// marker), so two replicas that plan the same key never both commit: the
// loser of the race reads the entry again and either writes over it, if its
// record is still newer, or reports ledger.ErrStale. The written value holds
// the record and no receipt, so writing a key's record clears its receipt
// in the same compare-and-set: a receipt can never outlive the record
// written after it, nor be cleared by a record that lost. AddReceipts
// merges a receipt into the entry (ledger.MergeReceipt) with a
// compare-and-set in the same way, leaving its record as it is. Records and
// receipts of different keys are written concurrently
// (Options.Concurrency); those of one key in one call are written in order.
// A record or receipt the store cannot hold (ledger.Check or
// ledger.CheckReceipt refuses it, its key is over MaxKeyLen, a string in it
// is not valid UTF-8, which JSON would change) gets its own
// ledger.ErrInvalid and is not sent; one the store failed to write is
// reported in its place and makes the call's error non-nil; the others are
// written.
//
// Delete removes an entry, record and receipt, with a delete marker; the
// next write of the key is a Create over it.
//
// # Reads
//
// Get and Receipts read each key's entry with its own request (a direct
// get when the bucket allows it), Options.Concurrency at a time. A key no
// entry can be for is not read.
package natskv
