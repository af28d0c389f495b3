package cache

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Func returns a spec for a value that any function loads: data a function
// wants to keep across invocations, as Lambda@Edge functions keep globals.
// The name is the entry's full name and its key within the "func" source.
func Func[T any](name string, load func(ctx context.Context) (T, error)) Spec[T] {
	f := &funcFetcher{load: func(ctx context.Context) (any, error) { return load(ctx) }}
	return Spec[T]{Key: Key{Source: "func", Name: name}, Fetcher: f}
}

type funcFetcher struct {
	load func(context.Context) (any, error)
}

func (f *funcFetcher) Fetch(ctx context.Context, reqs []*Request) {
	for _, r := range reqs {
		v, err := f.load(ctx)
		if err != nil {
			r.Fail(err)
			continue
		}
		r.Succeed(Raw{Value: v})
	}
}

// JSON returns a spec whose value is s's value decoded as JSON into a T.
// The decoding happens once per fetch, not per read. Its key is s's with
// the variant "json".
func JSON[T any, R ~string | ~[]byte](s Spec[R]) Spec[T] {
	s.Key = s.Key.WithVariant("json")
	return Map(s, func(r R) (T, error) {
		var v T
		if err := json.Unmarshal([]byte(r), &v); err != nil {
			return v, fmt.Errorf("%w: JSON into %T: %w", ErrDecode, v, err)
		}
		return v, nil
	})
}

// Base64 returns a spec whose value is s's value decoded from base64 (the
// standard alphabet, padded or not): how binary data is kept in a String
// parameter or a string secret.
func Base64[R ~string | ~[]byte](s Spec[R]) Spec[[]byte] {
	s.Key = s.Key.WithVariant("base64")
	return Map(s, func(r R) ([]byte, error) {
		str := strings.TrimRight(strings.TrimSpace(string(r)), "=")
		b, err := base64.RawStdEncoding.DecodeString(str)
		if err != nil {
			return nil, fmt.Errorf("%w: base64: %w", ErrDecode, err)
		}
		return b, nil
	})
}

// Text returns a spec whose value is s's bytes as a string.
func Text(s Spec[[]byte]) Spec[string] {
	s.Key = s.Key.WithVariant("text")
	return Map(s, func(b []byte) (string, error) { return string(b), nil })
}
