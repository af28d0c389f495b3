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
// prefix ("bXktc2l0ZQ.>" watches bucket my-site). The value is a small JSON
// object: the sequencer, ETag, version ID, event time (RFC 3339 with
// nanoseconds), deleted flag and purged sequencer.
//
// # Writes
//
// Commit compares each record with the entry held (ledger.Newer) and writes
// it with a compare-and-set on the entry's revision (an Update at the
// revision read; at revision 0 for a key never written), so two replicas
// that plan the same key never both commit: the loser of the race reads the
// entry again and either writes over it, if its record is still newer, or
// reports ledger.ErrStale. Records of different keys are written
// concurrently (Options.Concurrency); records of one key in one Commit are
// written in order. A record the store failed to write is reported in its
// place and makes Commit's error non-nil; the others are written.
//
// # Reads
//
// Get reads each key with its own request (a direct get when the bucket
// allows it), Options.Concurrency at a time.
package natskv
