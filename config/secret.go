package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/cache/ssmcache"
)

// Secret is a reference to a secret value, never the value itself:
//
//	env:NAME                      an environment variable
//	file:PATH                     a file's contents, trailing newline trimmed
//	ssm:/name                     an SSM parameter, decrypted
//	secretsmanager:name           a Secrets Manager secret
//	secretsmanager:name#key       one field of a JSON secret
type Secret string

type ref struct {
	scheme, name, key string
}

// parse reads the reference. Its errors never quote s: a value written
// where a reference belongs is the secret itself.
func (s Secret) parse() (ref, error) {
	scheme, rest, ok := strings.Cut(string(s), ":")
	if !ok || rest == "" {
		return ref{}, errNotReference
	}
	switch scheme {
	case "env", "file":
		return ref{scheme: scheme, name: rest}, nil
	case "ssm":
		if !strings.HasPrefix(rest, "/") {
			return ref{}, errors.New("an ssm: reference names a parameter, which starts with /: write ssm:/name")
		}
		return ref{scheme: scheme, name: rest}, nil
	case "secretsmanager":
		name, key, _ := strings.Cut(rest, "#")
		if name == "" {
			return ref{}, errors.New("a secretsmanager: reference needs a secret name: write secretsmanager:name or secretsmanager:name#key")
		}
		return ref{scheme: scheme, name: name, key: key}, nil
	}
	return ref{}, errNotReference
}

var errNotReference = errors.New("a secret is a reference, not the value: write env:NAME, file:PATH, ssm:/name or secretsmanager:name#key")

// Resolver reads secret values, caching the ones that live in AWS (and
// files) for the cache's max age, so a rotated secret is picked up.
type Resolver struct {
	c      *cache.Cache
	awsCfg func(context.Context) (aws.Config, error)

	mu       sync.Mutex
	entries  map[Secret]*cache.Entry[string]
	ssm      *ssmcache.Client
	sm       *secretcache.Client
	redactor Redactor
}

// Redactor is told each secret value a Resolver reads, so that it can keep
// the value out of what leaves the process: API answers, printed errors,
// logs. Add is called on every read and must be cheap for a value it
// knows.
type Redactor interface {
	Add(secret string)
}

// SetRedactor has r tell x every value it resolves from now on. Set it
// before the first Resolve.
func (r *Resolver) SetRedactor(x Redactor) {
	r.mu.Lock()
	r.redactor = x
	r.mu.Unlock()
}

// told passes a resolved value to the redactor, and returns it.
func (r *Resolver) told(v string) string {
	r.mu.Lock()
	x := r.redactor
	r.mu.Unlock()
	if x != nil {
		x.Add(v)
	}
	return v
}

// NewResolver returns a Resolver that keeps values in c and makes AWS
// clients from awsCfg the first time a reference needs one.
func NewResolver(c *cache.Cache, awsCfg func(context.Context) (aws.Config, error)) *Resolver {
	return &Resolver{c: c, awsCfg: awsCfg, entries: map[Secret]*cache.Entry[string]{}}
}

// Resolve returns the secret's value. Errors name the reference, never the
// value.
func (r *Resolver) Resolve(ctx context.Context, s Secret) (string, error) {
	ref, err := s.parse()
	if err != nil {
		return "", err
	}
	if ref.scheme == "env" {
		v, ok := os.LookupEnv(ref.name)
		if !ok || v == "" {
			return "", fmt.Errorf("secret %s: the environment variable %s is not set", s, ref.name)
		}
		return r.told(v), nil
	}
	e, err := r.entry(ctx, s, ref)
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", s, err)
	}
	v, err := e.Get(ctx)
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", s, err)
	}
	return r.told(v), nil
}

// Func returns a function that resolves s when called: what providers take
// for a credential that may rotate.
func (r *Resolver) Func(s Secret) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) { return r.Resolve(ctx, s) }
}

func (r *Resolver) entry(ctx context.Context, s Secret, ref ref) (*cache.Entry[string], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[s]; ok {
		return e, nil
	}
	var spec cache.Spec[string]
	switch ref.scheme {
	case "file":
		path := ref.name
		spec = cache.Func("file:"+path, func(context.Context) (string, error) {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", err
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		})
	case "ssm", "secretsmanager":
		if r.awsCfg == nil {
			return nil, errors.New("no AWS configuration to read it with")
		}
		if r.ssm == nil {
			cfg, err := r.awsCfg(ctx)
			if err != nil {
				return nil, fmt.Errorf("load AWS configuration: %w", err)
			}
			if r.ssm, err = ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)}); err != nil {
				return nil, err
			}
			if r.sm, err = secretcache.New(secretcache.Options{Client: secretsmanager.NewFromConfig(cfg)}); err != nil {
				return nil, err
			}
		}
		switch {
		case ref.scheme == "ssm":
			spec = r.ssm.String(ref.name)
		case ref.key != "":
			spec = r.sm.Field(ref.name, ref.key)
		default:
			spec = r.sm.String(ref.name)
		}
	}
	e, err := cache.Add(r.c, spec)
	if err != nil {
		return nil, err
	}
	r.entries[s] = e
	return e, nil
}
