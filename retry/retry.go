// Package retry is the one retry policy every provider and mirror uses:
// exponential backoff with full jitter, Retry-After honoured, a total time
// budget, and retries only for errors marked as safe to retry.
package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy says how often and how long to retry. The zero value is ready to
// use: every zero field means its default.
type Policy struct {
	Initial     time.Duration // first backoff; default 500ms
	Max         time.Duration // longest single backoff; default 30s
	Budget      time.Duration // total time for all attempts and waits; default 2m
	MaxAttempts int           // default 8; 1 means no retry

	// Sleep waits for d or until ctx is done. Tests inject one that records
	// the waits and returns at once. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now tells the time, for the budget. Default time.Now.
	Now func() time.Time
}

// Error marks an error as safe to retry, optionally after a delay the server
// asked for (Retry-After, X-RateLimit-Reset).
type Error struct {
	Err   error
	After time.Duration // 0: use the policy's backoff
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as safe to retry.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// After marks err as safe to retry no sooner than d.
func After(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, After: d}
}

// IsRetryable reports whether err was marked safe to retry.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Result tells how a Do went.
type Result struct {
	Attempts int
	Waited   time.Duration
}

// ErrBudget is wrapped by the error Do returns when the time budget or the
// attempt limit ran out before the operation succeeded.
var ErrBudget = errors.New("retry budget exhausted")

// Do calls op until it returns nil, returns an error not marked retryable,
// ctx is done, or the budget or attempts run out. The error returned is op's
// last, wrapped with ErrBudget when the budget ended it.
func (p Policy) Do(ctx context.Context, op func(ctx context.Context, attempt int) error) (Result, error) {
	p = p.withDefaults()
	start := p.Now()
	var res Result
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		err := op(ctx, attempt)
		if err == nil {
			return res, nil
		}
		var re *Error
		if !errors.As(err, &re) {
			return res, err
		}
		if ctx.Err() != nil {
			return res, err
		}
		if attempt >= p.MaxAttempts {
			return res, fmt.Errorf("%w after %d attempts: %w", ErrBudget, attempt, err)
		}
		wait := p.Backoff(attempt)
		if re.After > wait {
			wait = re.After
		}
		if elapsed := p.Now().Sub(start); elapsed+wait > p.Budget {
			return res, fmt.Errorf("%w (%s) after %d attempts: %w", ErrBudget, p.Budget, attempt, err)
		}
		if serr := p.Sleep(ctx, wait); serr != nil {
			return res, err
		}
		res.Waited += wait
	}
}

// Backoff returns the wait before retry number attempt (1-based): a random
// time up to Initial·2^(attempt-1), capped at Max, never less than Initial/2.
func (p Policy) Backoff(attempt int) time.Duration {
	p = p.withDefaults()
	ceiling := p.Initial
	for i := 1; i < attempt && ceiling < p.Max; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.Max)
	floor := p.Initial / 2
	if ceiling <= floor {
		return ceiling
	}
	return floor + rand.N(ceiling-floor)
}

func (p Policy) withDefaults() Policy {
	if p.Initial <= 0 {
		p.Initial = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	if p.Budget <= 0 {
		p.Budget = 2 * time.Minute
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// HTTPStatus classifies an HTTP answer: 429, 408 and 5xx (but 501 and 505)
// are safe to retry, honouring Retry-After. It returns err (or an "HTTP
// 4xx" error when err is nil) marked retryable for those, and err as it is
// for any other status, including below 400.
func HTTPStatus(resp *http.Response, err error) error {
	if resp == nil || resp.StatusCode < 400 {
		return err
	}
	if err == nil {
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && resp.StatusCode != http.StatusHTTPVersionNotSupported:
		return After(err, RetryAfter(resp.Header, time.Now()))
	}
	return err
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); 0 if
// absent or unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Network marks err, an HTTP request that got no answer, as safe to retry,
// unless it is one every attempt would repeat: the server's certificate
// not verified (an unknown authority, another host's name, expired), or a
// TLS alert the server sent because it refused the handshake. Those are
// set-up mistakes, returned as they are, so that they are seen at once
// rather than at the end of the budget.
func Network(err error) error {
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		alert   tls.AlertError
	)
	if err == nil || errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) ||
		errors.As(err, &invalid) || errors.As(err, &alert) {
		return err
	}
	return Retryable(err)
}
