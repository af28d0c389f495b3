package cache

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// Conditions a caller can branch on with errors.Is. Errors from Get wrap one
// of them where one applies, and always say which entry failed.
var (
	ErrNotFound     = errors.New("not found")
	ErrAccessDenied = errors.New("access denied")
	ErrThrottled    = errors.New("throttled")
	ErrDecode       = errors.New("cannot decode value")
	ErrInvalid      = errors.New("invalid entry")
	ErrTooLarge     = errors.New("too large")
)

// Error is the error of one entry: which entry, and what went wrong.
type Error struct {
	Key Key
	Err error
}

func (e *Error) Error() string { return "cache: " + e.Key.String() + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// ClassifyAWS wraps an AWS SDK error with the sentinel its error code means
// (ErrNotFound, ErrAccessDenied, ErrThrottled), keeping the service's own
// code and message. Other errors are returned as they are.
func ClassifyAWS(err error) error {
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
		return ErrNotFound
	case strings.HasPrefix(code, "AccessDenied"), code == "UnauthorizedOperation",
		code == "UnrecognizedClientException", code == "Forbidden", code == "DecryptionFailure":
		return ErrAccessDenied
	case strings.Contains(code, "Throttl"), code == "TooManyRequestsException",
		code == "RequestLimitExceeded", code == "ProvisionedThroughputExceededException",
		code == "SlowDown", code == "RequestThrottled", code == "LimitExceededException":
		return ErrThrottled
	}
	return nil
}
