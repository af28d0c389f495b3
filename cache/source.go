package cache

import (
	"context"
	"errors"
	"fmt"
	"path"
	"reflect"
	"strings"
)

// Key identifies a cached value by its source and full name, and by whatever
// else changes the value (decryption, a version stage, a file path). Two
// entries with different keys never share or overwrite a value, even when
// their short names are the same.
type Key struct {
	Source  string // "ssm", "secretsmanager", "s3", "appconfig", "dynamodb", "func", ...
	Name    string // the full name: parameter name, secret id, s3://bucket/key, ...
	Variant string // what else selects the value: "decrypt", "stage=AWSPREVIOUS", ...
}

// String formats the key as source:name, with the variant in brackets.
func (k Key) String() string {
	if k.Variant == "" {
		return k.Source + ":" + k.Name
	}
	return k.Source + ":" + k.Name + " [" + k.Variant + "]"
}

// Raw is a value as a source fetched it, before it is decoded into an
// entry's type.
type Raw struct {
	Value   any    // string, []byte, []string, map[string]string, or the source's own type
	Version string // what a conditional fetch compares: an ETag, a version id
	Size    int64  // bytes, where known
}

// Request is one entry's part of a fetch. The fetcher answers every request
// it is given with exactly one of Succeed, Unchanged or Fail.
type Request struct {
	Key  Key
	Arg  any  // the source's own description of what to fetch (Spec.Arg)
	Prev *Raw // the value fetched last time, for conditional fetches; nil if none

	raw      Raw
	err      error
	state    uint8
	answered bool
}

const (
	stateOK uint8 = iota
	stateUnchanged
	stateFailed
)

// Succeed records the value fetched for the request.
func (r *Request) Succeed(raw Raw) { r.raw, r.state, r.err, r.answered = raw, stateOK, nil, true }

// Unchanged records that the value has not changed since Prev (a 304, say);
// the cached value is kept and its max age starts again.
func (r *Request) Unchanged() { r.state, r.err, r.answered = stateUnchanged, nil, true }

// Fail records why the request could not be fetched. Classify the error with
// the sentinel errors of this package (ErrNotFound, ErrThrottled, ...) where
// one applies.
func (r *Request) Fail(err error) {
	if err == nil {
		err = errors.New("fetch failed")
	}
	r.err, r.state, r.answered = err, stateFailed, true
}

// Answered reports whether the fetcher has answered the request.
func (r *Request) Answered() bool { return r.answered }

// A Fetcher fetches values for one source. Fetch receives every request for
// the source that is due at the same time, so a source with a batch API (SSM
// GetParameters, Secrets Manager BatchGetSecretValue, DynamoDB BatchGetItem)
// answers many entries in few calls; it splits the requests into calls of the
// API's size itself. Fetch must answer every request, honour ctx, and be safe
// for concurrent use. Fetchers are compared by identity to group requests,
// so use a pointer type.
type Fetcher interface {
	Fetch(ctx context.Context, reqs []*Request)
}

// BatchSizer is implemented by a fetcher whose API takes several names per
// call. The cache uses it to fill a call it is making anyway with other
// entries of the same source that are due soon.
type BatchSizer interface {
	BatchSize() int
}

// Spec describes an entry: where its value comes from and how it becomes a T.
// Source packages build specs (ssmcache.Client.String, s3cache.Client.File, ...);
// Func builds one for any loader function.
//
// The key identifies the value as the entry holds it: two specs with the
// same key are one entry. A spec that turns the same source value into
// another value of the same type says so in Key.Variant, as JSON, Base64
// and Text do.
type Spec[T any] struct {
	Key     Key
	Name    string // the short name Lookup finds it by; default: the last segment of Key.Name
	Fetcher Fetcher
	Arg     any                  // handed to the fetcher in Request.Arg
	Decode  func(Raw) (T, error) // raw value to T; nil means Raw.Value is a T
	Err     error                // a spec that could not be built (a malformed S3 URI, say)
}

// check reports what makes s unusable.
func (s Spec[T]) check() error {
	switch {
	case s.Err != nil:
		return &Error{Key: s.Key, Err: s.Err}
	case s.Key.Source == "" || s.Key.Name == "":
		return errInvalid("%s: a key needs a source and a name", s.Key)
	case s.Fetcher == nil:
		return errInvalid("%s: no fetcher", s.Key)
	case !reflect.TypeOf(s.Fetcher).Comparable():
		return errInvalid("%s: fetcher %T is not comparable; use a pointer", s.Key, s.Fetcher)
	}
	return nil
}

func (s Spec[T]) defaultName() string {
	if s.Name != "" {
		return s.Name
	}
	return LastSegment(s.Key.Name)
}

// WithVariant returns k with v added to its Variant, comma-separated: what
// a spec derived from another sets, so that both can be cached side by side.
func (k Key) WithVariant(v string) Key {
	if k.Variant == "" {
		k.Variant = v
	} else if v != "" {
		k.Variant += "," + v
	}
	return k
}

// Map returns a spec whose value is f applied to s's value, once per fetch.
// It keeps s's key: when both s and the result, or two results of Map over
// s, are used in one cache, give the result a key of its own with
// Key.WithVariant.
func Map[T, U any](s Spec[T], f func(T) (U, error)) Spec[U] {
	dec := s.Decode
	return Spec[U]{
		Key: s.Key, Name: s.Name, Fetcher: s.Fetcher, Arg: s.Arg, Err: s.Err,
		Decode: func(r Raw) (U, error) {
			var zero U
			t, err := decodeAs(dec, r)
			if err != nil {
				return zero, err
			}
			return f(t)
		},
	}
}

func decodeAs[T any](dec func(Raw) (T, error), r Raw) (T, error) {
	if dec != nil {
		return dec(r)
	}
	v, ok := r.Value.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: the source gave %T, want %T", ErrDecode, r.Value, zero)
	}
	return v, nil
}

// LastSegment returns the last path segment of a name: "/production/app/var"
// gives "var". It is the default short name of an entry, as in lambda-cache.
func LastSegment(name string) string {
	name = strings.TrimRight(name, "/")
	if i := strings.LastIndexAny(name, "/"); i >= 0 {
		return name[i+1:]
	}
	if name == "" {
		return ""
	}
	return path.Base(name)
}
