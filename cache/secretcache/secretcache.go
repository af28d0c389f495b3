// Package secretcache is the Secrets Manager source of the cache: secrets as
// strings or bytes, as stored, at the current version or a given stage or
// version id, whole or one field of a JSON secret.
//
// Current-version secrets that are due at the same time are fetched with
// BatchGetSecretValue, up to 20 a call; 25 secrets cost 2 calls. A secret
// pinned to a stage or version id, or a lone due secret, is read with
// GetSecretValue. If the function's role may not call BatchGetSecretValue,
// the fetcher falls back to GetSecretValue per secret and stays there.
package secretcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/internal/awserr"
)

// API is the part of the Secrets Manager client this package uses;
// *secretsmanager.Client has it.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	BatchGetSecretValue(ctx context.Context, in *secretsmanager.BatchGetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error)
}

// MaxBatch is the most secret ids one BatchGetSecretValue call takes.
const MaxBatch = 20

// Options configure a Client.
type Options struct {
	// Client is the Secrets Manager client, a *secretsmanager.Client.
	// Required.
	Client API

	// NoBatch reads every secret with GetSecretValue, for roles that are not
	// allowed secretsmanager:BatchGetSecretValue. Default false: batch, and
	// fall back to GetSecretValue for good once the batch call is denied.
	NoBatch bool

	// Concurrency is how many calls run at once. Default 4.
	Concurrency int
}

// Client builds cache specs for secrets. All specs from one Client share one
// fetcher, so their due entries are fetched together.
type Client struct {
	f *fetcher
}

// New returns a Client with opts, and then each optFn applied to a copy of
// opts, validated and the defaults filled in.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	switch {
	case opts.Client == nil:
		return nil, errors.New("secretcache: Options.Client is required")
	case opts.Concurrency < 0:
		return nil, fmt.Errorf("secretcache: Options.Concurrency is %d; want 0 for the default 4, or more", opts.Concurrency)
	case opts.Concurrency == 0:
		opts.Concurrency = 4
	}
	f := &fetcher{api: opts.Client, opts: opts}
	f.noBatch.Store(opts.NoBatch)
	return &Client{f: f}, nil
}

// Secret is a secret's value and identity as Secrets Manager returns it.
// Exactly one of String and Binary is set, as stored.
type Secret struct {
	Name      string
	ARN       string
	VersionID string
	Stages    []string
	String    string
	Binary    []byte
	IsBinary  bool
}

// Option selects which version of a secret a spec reads.
type Option struct{ apply func(*arg) }

// Stage reads the version with a staging label ("AWSPREVIOUS",
// "AWSPENDING"). Default: AWSCURRENT.
func Stage(label string) Option { return Option{func(a *arg) { a.stage = label }} }

// VersionID reads one version by its id.
func VersionID(id string) Option { return Option{func(a *arg) { a.versionID = id }} }

type arg struct {
	id        string
	stage     string
	versionID string
}

func (a *arg) batchable() bool {
	return a.versionID == "" && (a.stage == "" || a.stage == "AWSCURRENT")
}

func (a *arg) variant() string {
	switch {
	case a.versionID != "":
		return "version=" + a.versionID
	case a.stage != "" && a.stage != "AWSCURRENT":
		return "stage=" + a.stage
	}
	return ""
}

// Secret returns a spec for a secret with its identity and version. Its
// key has the variant "secret", beside String's of the same secret.
func (c *Client) Secret(id string, opts ...Option) cache.Spec[Secret] {
	s := c.secret(id, opts)
	s.Key = s.Key.WithVariant("secret")
	return s
}

func (c *Client) secret(id string, opts []Option) cache.Spec[Secret] {
	a := &arg{id: id}
	for _, o := range opts {
		o.apply(a)
	}
	s := cache.Spec[Secret]{Key: cache.Key{Source: "secretsmanager", Name: id, Variant: a.variant()}, Fetcher: c.f, Arg: a}
	if id == "" {
		s.Err = fmt.Errorf("%w: empty secret id", cache.ErrInvalid)
	}
	return s
}

// String returns a spec for a string secret. A binary secret fails with
// cache.ErrDecode: read it with Binary.
func (c *Client) String(id string, opts ...Option) cache.Spec[string] {
	return cache.Map(c.secret(id, opts), func(s Secret) (string, error) {
		if s.IsBinary {
			return "", fmt.Errorf("%w: secret %q is binary; read it with Binary", cache.ErrDecode, s.Name)
		}
		return s.String, nil
	})
}

// Binary returns a spec for a secret's bytes: a binary secret as stored, a
// string secret as its UTF-8 bytes. Its key has the variant "binary".
func (c *Client) Binary(id string, opts ...Option) cache.Spec[[]byte] {
	s := c.secret(id, opts)
	s.Key = s.Key.WithVariant("binary")
	return cache.Map(s, func(s Secret) ([]byte, error) {
		if s.IsBinary {
			return s.Binary, nil
		}
		return []byte(s.String), nil
	})
}

// Field returns a spec for one field of a JSON object secret, such as
// "password" of an RDS credential: a string field as it is, any other value
// as its JSON text. Its short name is the field's name.
func (c *Client) Field(id, field string, opts ...Option) cache.Spec[string] {
	sec := c.secret(id, opts)
	// The decoded value differs per field, so the field is part of the key.
	sec.Key = sec.Key.WithVariant("field=" + field)
	s := cache.Map(sec, func(s Secret) (string, error) {
		src := s.String
		if s.IsBinary {
			src = string(s.Binary)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(src), &obj); err != nil {
			return "", fmt.Errorf("%w: secret %q is not a JSON object: %w", cache.ErrDecode, s.Name, err)
		}
		raw, ok := obj[field]
		if !ok {
			return "", fmt.Errorf("%w: secret %q has no field %q", cache.ErrNotFound, s.Name, field)
		}
		var str string
		if json.Unmarshal(raw, &str) == nil {
			return str, nil
		}
		return string(raw), nil
	})
	s.Name = field
	return s
}

type fetcher struct {
	api     API
	opts    Options
	noBatch atomic.Bool // set for good once BatchGetSecretValue is denied
}

func (f *fetcher) BatchSize() int {
	if f.noBatch.Load() {
		return 1
	}
	return MaxBatch
}

func (f *fetcher) Fetch(ctx context.Context, reqs []*cache.Request) {
	// Requests for the same secret and version share one read.
	groups := map[arg][]*cache.Request{}
	var reads []arg
	for _, r := range reqs {
		a := *r.Arg.(*arg)
		if _, ok := groups[a]; !ok {
			reads = append(reads, a)
		}
		groups[a] = append(groups[a], r)
	}
	var ids, single []arg
	for _, a := range reads {
		if a.batchable() && !f.noBatch.Load() {
			ids = append(ids, a)
		} else {
			single = append(single, a)
		}
	}
	if len(ids) == 1 {
		single, ids = append(single, ids...), nil
	}
	var mu sync.Mutex
	got := map[arg]Secret{}
	failed := map[arg]error{}
	record := func(a arg, sec Secret, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed[a] = err
		} else {
			got[a] = sec
		}
	}
	var g errgroup.Group
	g.SetLimit(f.opts.Concurrency)
	for chunk := range slices.Chunk(ids, MaxBatch) {
		g.Go(func() error {
			names := make([]string, len(chunk))
			for i, a := range chunk {
				names[i] = a.id
			}
			secs, errs, denied := f.batchGet(ctx, names)
			if denied != nil {
				// The role may read secrets but not batch them: read each.
				f.noBatch.Store(true)
				for _, a := range chunk {
					sec, err := f.get(ctx, &a)
					record(a, sec, err)
				}
				return nil
			}
			for _, a := range chunk {
				sec, ok := secs[a.id]
				err := errs[a.id]
				if err == nil && !ok {
					err = fmt.Errorf("%w: secret %q was not in the BatchGetSecretValue answer", cache.ErrNotFound, a.id)
				}
				record(a, sec, err)
			}
			return nil
		})
	}
	for _, a := range single {
		g.Go(func() error {
			sec, err := f.get(ctx, &a)
			record(a, sec, err)
			return nil
		})
	}
	_ = g.Wait() // the calls record their errors; none returns one
	for a, rs := range groups {
		for _, r := range rs {
			if err := failed[a]; err != nil {
				r.Fail(err)
			} else {
				r.Succeed(raw(got[a]))
			}
		}
	}
}

func raw(s Secret) cache.Raw {
	size := int64(len(s.String) + len(s.Binary))
	return cache.Raw{Value: s, Version: s.VersionID, Size: size}
}

// batchGet reads up to 20 current secrets. It returns them by requested id,
// the per-secret errors, and a non-nil denied when the call itself was
// refused for lack of permission.
func (f *fetcher) batchGet(ctx context.Context, ids []string) (map[string]Secret, map[string]error, error) {
	got := map[string]Secret{}
	errs := map[string]error{}
	in := &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids}
	for {
		out, err := f.api.BatchGetSecretValue(ctx, in)
		if err != nil {
			err = awserr.Classify(err)
			if errors.Is(err, cache.ErrAccessDenied) {
				return nil, nil, err
			}
			err = fmt.Errorf("secretsmanager BatchGetSecretValue: %w", err)
			for _, id := range ids {
				if _, done := got[id]; !done {
					errs[id] = err
				}
			}
			return got, errs, nil
		}
		for _, v := range out.SecretValues {
			sec := fromBatch(v)
			for _, id := range ids {
				if id == sec.Name || id == sec.ARN {
					got[id] = sec
				}
			}
		}
		for _, e := range out.Errors {
			id := aws.ToString(e.SecretId)
			errs[id] = secretError(id, aws.ToString(e.ErrorCode), aws.ToString(e.Message))
		}
		if aws.ToString(out.NextToken) == "" {
			return got, errs, nil
		}
		in.NextToken = out.NextToken
	}
}

func (f *fetcher) get(ctx context.Context, a *arg) (Secret, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(a.id)}
	if a.stage != "" {
		in.VersionStage = aws.String(a.stage)
	}
	if a.versionID != "" {
		in.VersionId = aws.String(a.versionID)
	}
	out, err := f.api.GetSecretValue(ctx, in)
	if err != nil {
		return Secret{}, fmt.Errorf("secretsmanager GetSecretValue: %w", awserr.Classify(err))
	}
	return Secret{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.ARN), VersionID: aws.ToString(out.VersionId),
		Stages: out.VersionStages, String: aws.ToString(out.SecretString), Binary: out.SecretBinary,
		IsBinary: out.SecretString == nil && out.SecretBinary != nil,
	}, nil
}

func fromBatch(v types.SecretValueEntry) Secret {
	return Secret{
		Name: aws.ToString(v.Name), ARN: aws.ToString(v.ARN), VersionID: aws.ToString(v.VersionId),
		Stages: v.VersionStages, String: aws.ToString(v.SecretString), Binary: v.SecretBinary,
		IsBinary: v.SecretString == nil && v.SecretBinary != nil,
	}
}

// secretError turns a per-secret error of BatchGetSecretValue into one that
// errors.Is can classify, with the service's code and message.
func secretError(id, code, msg string) error {
	err := fmt.Errorf("secretsmanager BatchGetSecretValue: %s: %s", code, msg)
	switch {
	case strings.Contains(code, "NotFound"):
		return fmt.Errorf("%w: secret %q: %w", cache.ErrNotFound, id, err)
	case strings.Contains(code, "AccessDenied"), code == "DecryptionFailure":
		return fmt.Errorf("%w: secret %q: %w", cache.ErrAccessDenied, id, err)
	}
	return fmt.Errorf("secret %q: %w", id, err)
}

// Interface guards.
var (
	_ API              = (*secretsmanager.Client)(nil)
	_ cache.Fetcher    = (*fetcher)(nil)
	_ cache.BatchSizer = (*fetcher)(nil)
)
