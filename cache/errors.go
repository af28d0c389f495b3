package cache

import (
	"errors"
	"fmt"
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

// errInvalid returns an error for a caller's mistake at registration.
func errInvalid(format string, args ...any) error {
	return fmt.Errorf("cache: %w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Error is the error of one entry: which entry, and what went wrong.
type Error struct {
	Key Key
	Err error
}

func (e *Error) Error() string { return "cache: " + e.Key.String() + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }
