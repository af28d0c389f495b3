// Package s3mirror mirrors objects to an S3 bucket or an S3-compatible
// store (another bucket, another region, MinIO, ...) through the AWS SDK for
// Go v2.
//
// Put streams: a body is read once, in parts of Options.PartSize, into at
// most Options.Concurrency buffers of that size, whatever the object's
// size; an object of known size up to Options.SinglePutMax (16 MiB), or any
// body that fits in one part, is read into one buffer and sent in one
// PutObject; any other goes up as a multipart upload that this package
// drives itself (CreateMultipartUpload, UploadPart with a CRC32 checksum,
// CompleteMultipartUpload), so that nothing but those buffers holds the
// body. Every request is retried on its own from its buffer. A body of
// unknown length is accepted; one whose length differs from a known size is
// refused. A failed multipart upload is aborted. Keys are joined under
// Options.Prefix and refused with mirror.ErrUnsafeKey when they would leave
// it.
package s3mirror
