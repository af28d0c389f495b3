// Package bolt is offload's default ledger: an embedded bbolt file, so that
// `offload serve` and the CLI need no database server.
//
// # Layout
//
// The ledger lives under one top-level bbolt bucket, "ledger", so that other
// parts of offload (serve's durable inbox) can keep their own buckets in the
// same file. Inside it there is one nested bucket per S3 bucket, keyed by
// the object key's bytes. Each value is a small binary record: a format
// byte (1), a flags byte (deleted), the event time (Unix seconds as a signed
// varint, nanoseconds as a uvarint), then the sequencer, ETag, version ID
// and purged sequencer, each as a uvarint length and its bytes. Times come
// back in UTC.
//
// Receipts (ledger.Receipt) live apart, under the top-level bucket
// "receipts", nested by S3 bucket and keyed by object key as the records
// are: a format byte (1), then the change and each target as a uvarint
// length and its bytes. Commit deletes a key's receipt in the transaction
// that writes its record; Delete removes both.
//
// # Transactions and locking
//
// Commit runs in one read-write transaction however many records it holds,
// once it has set aside, each with its own ledger.ErrInvalid, the records
// bbolt cannot hold (one key over 32,768 bytes would fail the whole
// transaction), and compares each record with the one held (ledger.Newer)
// inside that transaction, so concurrent Commits, from goroutines or from other Ledger
// values over the same *bbolt.DB, cannot move a key backwards. Get reads
// every key in one read transaction. bbolt locks the file for one process:
// a second New of the same file waits Options.Timeout and then fails with
// ErrLocked rather than hanging.
package bolt
