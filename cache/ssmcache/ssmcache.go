// Package ssmcache is the SSM Parameter Store source of the cache: single
// parameters (String, StringList as a slice, SecureString decrypted), several
// parameters as a map keyed by last path segment, and a whole path.
//
// Every parameter entry that is due at the same time is fetched in
// GetParameters calls of up to ten names, whichever entries they belong to:
// 25 parameters cost 3 calls, not 25. A name that does not exist fails its
// own entry with cache.ErrNotFound, naming it; the others are unaffected.
package ssmcache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/internal/awserr"
)

// API is the part of the SSM client this package uses; *ssm.Client has it.
type API interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
}

// MaxNames is the most names one GetParameters call takes.
const MaxNames = 10

// Options configure a Client.
type Options struct {
	// Client is the SSM client, an *ssm.Client. Required.
	Client API

	// Concurrency is how many GetParameters calls run at once when more than
	// ten names are due. Default 4; SSM allows 40 TPS per account by default.
	Concurrency int
}

// Client builds cache specs for SSM parameters. All specs from one Client
// share one fetcher, so their due entries are fetched together.
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
		return nil, errors.New("ssmcache: Options.Client is required")
	case opts.Concurrency < 0:
		return nil, fmt.Errorf("ssmcache: Options.Concurrency is %d; want 0 for the default 4, or more", opts.Concurrency)
	case opts.Concurrency == 0:
		opts.Concurrency = 4
	}
	return &Client{f: &fetcher{api: opts.Client, opts: opts}}, nil
}

// Parameter is a parameter as SSM returns it.
type Parameter struct {
	Name    string
	Type    string // String, StringList or SecureString
	Value   string // decrypted, unless the spec said Encrypted
	Version int64
}

// Option changes which value a parameter spec reads.
type Option struct{ apply func(*arg) }

// Encrypted reads a SecureString without decrypting it (the ciphertext).
// By default SecureStrings are decrypted.
func Encrypted() Option { return Option{func(a *arg) { a.encrypted = true }} }

// Version reads a given version of the parameter ("name:3").
func Version(v int64) Option {
	return Option{func(a *arg) { a.selector = ":" + strconv.FormatInt(v, 10) }}
}

// Label reads the version that carries a label ("name:prod").
func Label(l string) Option { return Option{func(a *arg) { a.selector = ":" + l }} }

// Recursive makes a Path spec read the whole tree below the path.
func Recursive() Option { return Option{func(a *arg) { a.recursive = true }} }

type arg struct {
	names     []string // parameter names, with any selector
	multi     bool     // a Map spec: the value is every name's parameter
	selector  string
	encrypted bool
	path      string // a Path spec
	recursive bool
}

func (c *Client) newArg(opts []Option) *arg {
	a := &arg{}
	for _, o := range opts {
		o.apply(a)
	}
	return a
}

func (a *arg) variant() string {
	var v []string
	if a.encrypted {
		v = append(v, "encrypted")
	}
	if a.recursive {
		v = append(v, "recursive")
	}
	return strings.Join(v, ",")
}

// Parameter returns a spec for one parameter with its type and version.
// Its key has the variant "parameter", beside String's and StringList's of
// the same name.
func (c *Client) Parameter(name string, opts ...Option) cache.Spec[Parameter] {
	s := c.parameter(name, opts)
	s.Key = s.Key.WithVariant("parameter")
	return s
}

func (c *Client) parameter(name string, opts []Option) cache.Spec[Parameter] {
	a := c.newArg(opts)
	full := name + a.selector
	a.names = []string{full}
	s := cache.Spec[Parameter]{Key: cache.Key{Source: "ssm", Name: full, Variant: a.variant()}, Name: cache.LastSegment(name), Fetcher: c.f, Arg: a}
	if err := validName(name); err != nil {
		s.Err = err
	}
	return s
}

// String returns a spec for one parameter's value as stored: a String, a
// decrypted SecureString, or a StringList as its comma-separated text.
func (c *Client) String(name string, opts ...Option) cache.Spec[string] {
	return cache.Map(c.parameter(name, opts), func(p Parameter) (string, error) { return p.Value, nil })
}

// StringList returns a spec for a StringList parameter as a slice. Its
// key has the variant "list".
func (c *Client) StringList(name string, opts ...Option) cache.Spec[[]string] {
	s := c.parameter(name, opts)
	s.Key = s.Key.WithVariant("list")
	return cache.Map(s, func(p Parameter) ([]string, error) {
		if p.Value == "" {
			return []string{}, nil
		}
		return strings.Split(p.Value, ","), nil
	})
}

// Map returns a spec for several parameters, fetched together, as a map
// keyed by each name's last path segment, as lambda-cache returns a list of
// parameters. Every name must exist: the missing ones are named in the
// entry's error. Its short name is the last segment of the names' common
// path ("/prod/app/a" and "/prod/app/b" give "app").
func (c *Client) Map(names []string, opts ...Option) cache.Spec[map[string]string] {
	a := c.newArg(opts)
	a.multi = true
	s := cache.Spec[map[string]string]{Fetcher: c.f, Arg: a}
	seen := map[string]string{}
	for _, n := range names {
		if err := validName(n); err != nil {
			s.Err = err
		}
		short := cache.LastSegment(n)
		if prev, dup := seen[short]; dup && prev != n {
			s.Err = fmt.Errorf("%w: %q and %q share the last segment %q", cache.ErrInvalid, prev, n, short)
		}
		seen[short] = n
		a.names = append(a.names, n+a.selector)
	}
	if len(names) == 0 {
		s.Err = fmt.Errorf("%w: no parameter names", cache.ErrInvalid)
	}
	s.Key = cache.Key{Source: "ssm", Name: strings.Join(a.names, ","), Variant: a.variant()}
	s.Name = cache.LastSegment(commonDir(names))
	if s.Name == "" {
		s.Name = "parameters"
	}
	s.Decode = func(r cache.Raw) (map[string]string, error) {
		ps := r.Value.([]Parameter)
		out := make(map[string]string, len(ps))
		for _, p := range ps {
			out[cache.LastSegment(p.Name)] = p.Value
		}
		return out, nil
	}
	return s
}

// Path returns a spec for every parameter under path (GetParametersByPath,
// all pages), keyed by name relative to the path: under "/prod/app",
// "/prod/app/db/url" is "db/url". With Recursive, the whole tree below.
func (c *Client) Path(path string, opts ...Option) cache.Spec[map[string]string] {
	a := c.newArg(opts)
	a.path = path
	s := cache.Spec[map[string]string]{
		Key:     cache.Key{Source: "ssm-path", Name: path, Variant: a.variant()},
		Fetcher: c.f, Arg: a,
	}
	if !strings.HasPrefix(path, "/") {
		s.Err = fmt.Errorf("%w: path %q must start with /", cache.ErrInvalid, path)
	}
	prefix := strings.TrimRight(path, "/") + "/"
	s.Decode = func(r cache.Raw) (map[string]string, error) {
		ps := r.Value.([]Parameter)
		out := make(map[string]string, len(ps))
		for _, p := range ps {
			out[strings.TrimPrefix(p.Name, prefix)] = p.Value
		}
		return out, nil
	}
	return s
}

func validName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty parameter name", cache.ErrInvalid)
	}
	return nil
}

func commonDir(names []string) string {
	if len(names) == 0 {
		return ""
	}
	dir := names[0][:strings.LastIndexByte(names[0], '/')+1]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, dir) {
			dir = strings.TrimSuffix(dir, "/")
			i := strings.LastIndexByte(dir, '/')
			if i < 0 {
				return ""
			}
			dir = dir[:i+1]
		}
	}
	return strings.TrimSuffix(dir, "/")
}

type fetcher struct {
	api  API
	opts Options
}

func (f *fetcher) BatchSize() int { return MaxNames }

// Fetch answers every due request: names from all entries are pooled per
// decryption setting and sent ten at a time; paths are read page by page.
func (f *fetcher) Fetch(ctx context.Context, reqs []*cache.Request) {
	var byName [2][]*cache.Request // [decrypt, encrypted]
	var g errgroup.Group
	g.SetLimit(f.opts.Concurrency)
	for _, r := range reqs {
		a := r.Arg.(*arg)
		switch {
		case a.path != "":
			g.Go(func() error { f.fetchPath(ctx, r, a); return nil })
		case a.encrypted:
			byName[1] = append(byName[1], r)
		default:
			byName[0] = append(byName[0], r)
		}
	}
	var results [2]*nameResults
	for i, rs := range byName {
		if len(rs) == 0 {
			continue
		}
		var names []string
		for _, r := range rs {
			for _, n := range r.Arg.(*arg).names {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
		res := &nameResults{params: map[string]Parameter{}, errs: map[string]error{}}
		results[i] = res
		for chunk := range slices.Chunk(names, MaxNames) {
			g.Go(func() error { f.getParameters(ctx, chunk, i == 0, res); return nil })
		}
	}
	_ = g.Wait() // the calls answer their requests; none returns an error
	for i, rs := range byName {
		for _, r := range rs {
			answer(r, results[i])
		}
	}
}

type nameResults struct {
	mu     sync.Mutex
	params map[string]Parameter // by requested name
	errs   map[string]error     // by requested name: missing, denied, ...
}

func (f *fetcher) getParameters(ctx context.Context, names []string, decrypt bool, res *nameResults) {
	out, err := f.api.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(decrypt)})
	if err != nil {
		// One name the caller may not read, or that SSM rejects, fails the
		// whole call: ask for each name alone to say which one it was. Not
		// for an outage (a 5xx, a throttle, the network), which would
		// only multiply the calls to a service that is already failing.
		if len(names) > 1 && awserr.ItemFault(err) {
			for _, n := range names {
				f.getParameters(ctx, []string{n}, decrypt, res)
			}
			return
		}
		err = fmt.Errorf("ssm GetParameters: %w", awserr.Classify(err))
		res.mu.Lock()
		for _, n := range names {
			res.errs[n] = err
		}
		res.mu.Unlock()
		return
	}
	res.mu.Lock()
	defer res.mu.Unlock()
	for _, n := range out.InvalidParameters {
		res.errs[n] = fmt.Errorf("%w: parameter %q does not exist or has no such version", cache.ErrNotFound, n)
	}
	for _, n := range names {
		if _, failed := res.errs[n]; failed {
			continue
		}
		if p, ok := match(n, out.Parameters); ok {
			res.params[n] = p
		} else {
			res.errs[n] = fmt.Errorf("%w: parameter %q was not in the GetParameters answer", cache.ErrNotFound, n)
		}
	}
}

// match finds the parameter SSM returned for a requested name, which may
// carry a version or label selector ("name:3", "name:prod"). SSM returns the
// bare name with the selector beside it.
func match(requested string, ps []types.Parameter) (Parameter, bool) {
	base, sel, hasSel := strings.Cut(requested, ":")
	if strings.HasPrefix(requested, "arn:") {
		base, sel, hasSel = requested, "", false
	}
	var best *types.Parameter
	for i := range ps {
		p := &ps[i]
		if aws.ToString(p.Name) != base && aws.ToString(p.ARN) != base {
			continue
		}
		got := aws.ToString(p.Selector)
		switch {
		case hasSel && (got == ":"+sel || (got == "" && strconv.FormatInt(p.Version, 10) == sel)):
			return toParameter(p), true
		case !hasSel && got == "" && (best == nil || p.Version > best.Version):
			// Without a selector SSM returns the latest version; when the
			// same call also asked for an older one by selector, the
			// highest version is the unselected answer.
			best = p
		case hasSel && got == "" && best == nil:
			best = p // a label the answer does not echo
		}
	}
	if best != nil {
		return toParameter(best), true
	}
	return Parameter{}, false
}

func toParameter(p *types.Parameter) Parameter {
	return Parameter{Name: aws.ToString(p.Name), Type: string(p.Type), Value: aws.ToString(p.Value), Version: p.Version}
}

func answer(r *cache.Request, res *nameResults) {
	a := r.Arg.(*arg)
	if !a.multi {
		n := a.names[0]
		if err := res.errs[n]; err != nil {
			r.Fail(err)
			return
		}
		p := res.params[n]
		r.Succeed(cache.Raw{Value: p, Version: strconv.FormatInt(p.Version, 10), Size: int64(len(p.Value))})
		return
	}
	// A Map entry: every name or a list of what is missing.
	ps := make([]Parameter, 0, len(a.names))
	var missing []string
	var other error
	var size int64
	for _, n := range a.names {
		if err := res.errs[n]; err != nil {
			if errors.Is(err, cache.ErrNotFound) {
				missing = append(missing, n)
			} else if other == nil {
				other = err
			}
			continue
		}
		p := res.params[n]
		ps = append(ps, p)
		size += int64(len(p.Value))
	}
	switch {
	case other != nil:
		r.Fail(other)
	case len(missing) > 0:
		r.Fail(fmt.Errorf("%w: parameters %s do not exist", cache.ErrNotFound, strings.Join(quote(missing), ", ")))
	default:
		r.Succeed(cache.Raw{Value: ps, Size: size})
	}
}

func (f *fetcher) fetchPath(ctx context.Context, r *cache.Request, a *arg) {
	var ps []Parameter
	var size int64
	p := ssm.NewGetParametersByPathPaginator(f.api, &ssm.GetParametersByPathInput{
		Path: aws.String(a.path), Recursive: aws.Bool(a.recursive), WithDecryption: aws.Bool(!a.encrypted), MaxResults: aws.Int32(10),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			r.Fail(fmt.Errorf("ssm GetParametersByPath %q: %w", a.path, awserr.Classify(err)))
			return
		}
		for i := range out.Parameters {
			pp := toParameter(&out.Parameters[i])
			ps = append(ps, pp)
			size += int64(len(pp.Value))
		}
	}
	r.Succeed(cache.Raw{Value: ps, Size: size})
}

func quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// Interface guards.
var (
	_ API              = (*ssm.Client)(nil)
	_ cache.Fetcher    = (*fetcher)(nil)
	_ cache.BatchSizer = (*fetcher)(nil)
)
