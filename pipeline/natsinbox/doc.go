// Package natsinbox is the inbox of `offload serve` on NATS JetStream, for
// several replicas: a pipeline.Queue whose entries are messages of a
// JetStream stream, drained by one durable pull consumer that every
// replica shares.
//
// Events come in two ways: MinIO publishes its bucket notifications to the
// stream directly (its NATS target, with JetStream on), and POST /v1/events
// on any replica publishes the body (Add) and answers only once JetStream
// has acknowledged it. A sender's retry of the same body within two minutes
// is stored once: the message id is the body's hash.
//
// Each replica's worker (Run) pulls a batch: it waits for a message, takes
// what else is there, and unless the consumer was idle gathers more by the
// rule the bolt inbox's worker follows (pipeline.Gather: until messages
// pause for Options.Quiet, Options.Fill of them are there, or the first
// has waited Options.Window), up to Options.BatchBytes; it applies them as
// one plan, so a burst costs as few purges across replicas as it does in
// one process, and a lone event waits for nothing. A message is acked only
// once every change it holds was mirrored, purged and committed to the
// ledger; one whose change failed is nak'd with a backoff and comes back,
// to this replica or another; after Options.MaxDeliveries it is copied to
// the dead-letter stream, with why it failed, and acked. While a batch is
// applied the worker tells JetStream it is in progress, so a slow batch is
// not redelivered, while the batch of a replica that died comes back to
// another after Options.AckWait. The ledger (ledger/natskv, shared)
// makes such a redelivery cost nothing for the changes already committed.
//
// # Streams and consumer
//
// Provision makes what is missing (every replica calls it at start):
//
//	OFFLOAD        subjects [offload.events]; work-queue retention (a message
//	               leaves once acked); file storage; 2-minute duplicate window
//	OFFLOAD_DEAD   subjects [offload.dead]; limits retention, kept until
//	               replayed or discarded
//	offload        durable pull consumer on OFFLOAD: explicit acks, AckWait
//	               30s, MaxDeliver unlimited (the worker dead-letters),
//	               MaxAckPending 20,000
//
// An existing stream is used as it is, so an operator may make it first
// with other limits or replicas; it must take the subject.
package natsinbox
