// Package awserr classifies AWS SDK errors for the cache's sources: it
// wraps an error with the cache sentinel its error code means, and tells
// which failures of a batch call may be the fault of one of its items.
// It lives apart from the cache core so that the core needs no AWS module.
package awserr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/offload-dev/offload/cache"
)

// Classify wraps an AWS SDK error with the sentinel its error code means
// (cache.ErrNotFound, cache.ErrAccessDenied, cache.ErrThrottled), keeping
// the service's own code and message. Other errors are returned as they are.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	if s := sentinelFor(ae.ErrorCode()); s != nil {
		return fmt.Errorf("%w: %w", s, err)
	}
	return err
}

func sentinelFor(code string) error {
	switch {
	case strings.Contains(code, "NotFound"), code == "NoSuchKey", code == "NoSuchBucket",
		code == "ParameterVersionNotFound", code == "InvalidKeyId":
		return cache.ErrNotFound
	case strings.HasPrefix(code, "AccessDenied"), code == "UnauthorizedOperation",
		code == "UnrecognizedClientException", code == "Forbidden", code == "DecryptionFailure":
		return cache.ErrAccessDenied
	case strings.Contains(code, "Throttl"), code == "TooManyRequestsException",
		code == "RequestLimitExceeded", code == "ProvisionedThroughputExceededException",
		code == "SlowDown", code == "RequestThrottled", code == "LimitExceededException":
		return cache.ErrThrottled
	}
	return nil
}

// ItemFault reports whether a batch call's error may have been caused by
// one of the items it named: the service refused the request (a 4xx) for a
// reason other than throttling, such as a name the caller may not read or
// that the service rejects. Asking for the items one by one then finds the
// culprit. A 5xx, a throttle or a network error is the service's state, not
// an item's: splitting the call would only multiply the load on a service
// that is already failing.
func ItemFault(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) || errors.Is(Classify(err), cache.ErrThrottled) {
		return false
	}
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		status := hs.HTTPStatusCode()
		return status >= 400 && status < 500
	}
	return ae.ErrorFault() == smithy.FaultClient
}
