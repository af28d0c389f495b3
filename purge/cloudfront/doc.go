// Package cloudfront purges an Amazon CloudFront distribution with
// invalidations, through the AWS SDK for Go v2.
//
// Paths go in batches of up to 3,000, with at most 15 wildcard paths each
// (CloudFront's limits on what may be in progress per distribution);
// TooManyInvalidationsInProgress and Throttling are waited out with the
// shared retry policy. Each batch carries a CallerReference derived from the
// distribution, the Request's ID and the batch's sorted paths, so a retried
// call returns the invalidation the first one created instead of a second
// one. Status follows an invalidation (GetInvalidation) and Wait polls it to
// Completed.
//
// EncodePath is CloudFront's rule for an object's path, and the one place
// it is written: the planner makes its paths with it, and Purge sends path
// items as they come.
package cloudfront
