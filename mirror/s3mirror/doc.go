// Package s3mirror mirrors objects to an S3 bucket or an S3-compatible
// store (another bucket, another region, MinIO, ...) through the AWS SDK for
// Go v2.
//
// Put streams: a body is read once, in parts of Options.PartSize, with a
// bounded number of parts in memory at a time, whatever the object's size
// (see Options.Concurrency); an object of known size up to
// Options.SinglePutMax (16 MiB) is read into one buffer and sent in one
// PutObject; any other object larger than one part goes up as a multipart
// upload, and a body of unknown length is accepted. A failed multipart upload is aborted.
// Keys are joined under Options.Prefix and refused with mirror.ErrUnsafeKey
// when they would leave it.
package s3mirror
