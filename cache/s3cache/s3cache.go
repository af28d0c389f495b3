// Package s3cache is the S3 source of the cache: an object held in memory,
// or written to a file under /tmp.
//
// Every refresh after the first is a conditional GetObject (If-None-Match on
// the cached ETag), so an object that has not changed costs one request and
// no body: lambda-cache's check_before_download in one call instead of two.
// Files are written to a temporary file beside the target and renamed over
// it, so a reader never sees half a file, and an object larger than the
// space left on the file system fails before its body is read.
package s3cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/internal/awserr"
)

// API is the part of the S3 client this package uses; *s3.Client has it.
type API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options configure a Client.
type Options struct {
	// Client is the S3 client, an *s3.Client. Required.
	Client API

	// MaxBytes is the largest object Bytes holds in memory. Default 64 MiB.
	MaxBytes int64

	// Dir is where File writes when given a relative file name. Default
	// os.TempDir(), which is /tmp in Lambda.
	Dir string

	// FreeSpace reports the bytes free for unprivileged writes in a
	// directory, checked before a file is written. Default: statfs(2).
	// Tests replace it.
	FreeSpace func(dir string) (int64, error)

	// Concurrency is how many objects are fetched at once. Default 4.
	Concurrency int
}

// Client builds cache specs for S3 objects.
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
		return nil, errors.New("s3cache: Options.Client is required")
	case opts.MaxBytes < 0:
		return nil, fmt.Errorf("s3cache: Options.MaxBytes is %d; want 0 for the default 64 MiB, or more", opts.MaxBytes)
	case opts.Concurrency < 0:
		return nil, fmt.Errorf("s3cache: Options.Concurrency is %d; want 0 for the default 4, or more", opts.Concurrency)
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.Dir == "" {
		opts.Dir = os.TempDir()
	}
	if opts.FreeSpace == nil {
		opts.FreeSpace = freeSpace
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	return &Client{f: &fetcher{api: opts.Client, opts: opts}}, nil
}

// Option changes what an object spec reads.
type Option struct{ apply func(*arg) }

// VersionID reads one version of the object.
func VersionID(v string) Option { return Option{func(a *arg) { a.version = v }} }

type arg struct {
	bucket, key string
	version     string
	file        string // File specs: where the object goes
}

// Bytes returns a spec for an object held in memory, from an "s3://bucket/key"
// URI. Objects over Options.MaxBytes fail with cache.ErrTooLarge.
func (c *Client) Bytes(uri string, opts ...Option) cache.Spec[[]byte] {
	a, err := parse(uri)
	for _, o := range opts {
		o.apply(a)
	}
	return cache.Spec[[]byte]{Key: cache.Key{Source: "s3", Name: uri, Variant: a.variant()}, Name: path.Base(a.key), Fetcher: c.f, Arg: a, Err: err}
}

// File returns a spec for an object written to a file; the value is the
// file's path. A relative file goes under Options.Dir; "" means the key's
// last segment there, as lambda-cache does.
func (c *Client) File(uri, file string, opts ...Option) cache.Spec[string] {
	a, err := parse(uri)
	for _, o := range opts {
		o.apply(a)
	}
	if file == "" {
		file = path.Base(a.key)
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(c.f.opts.Dir, file)
	}
	a.file = file
	return cache.Spec[string]{
		Key:     cache.Key{Source: "s3", Name: uri, Variant: strings.TrimPrefix(a.variant()+",file="+file, ",")},
		Name:    path.Base(a.key),
		Fetcher: c.f, Arg: a, Err: err,
	}
}

func (a *arg) variant() string {
	if a.version != "" {
		return "version=" + a.version
	}
	return ""
}

// parse reads an "s3://bucket/key" URI. The key may hold any character S3
// allows; percent-escapes are decoded.
func parse(uri string) (*arg, error) {
	a := &arg{}
	bad := func(why string) (*arg, error) {
		return a, fmt.Errorf("%w: malformed S3 URI %q: %s; want s3://bucket/key", cache.ErrInvalid, uri, why)
	}
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return bad("it does not start with s3://")
	}
	bucket, key, ok := strings.Cut(rest, "/")
	if !ok || key == "" {
		return bad("no object key")
	}
	if bucket == "" {
		return bad("no bucket")
	}
	if k, err := url.PathUnescape(key); err == nil {
		key = k
	}
	a.bucket, a.key = bucket, key
	return a, nil
}

type fetcher struct {
	api  API
	opts Options
}

func (f *fetcher) Fetch(ctx context.Context, reqs []*cache.Request) {
	var g errgroup.Group
	g.SetLimit(f.opts.Concurrency)
	for _, r := range reqs {
		g.Go(func() error { f.fetch(ctx, r); return nil })
	}
	_ = g.Wait() // each fetch answers its request; none returns an error
}

func (f *fetcher) fetch(ctx context.Context, r *cache.Request) {
	a := r.Arg.(*arg)
	in := &s3.GetObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(a.key)}
	if a.version != "" {
		in.VersionId = aws.String(a.version)
	}
	// Ask for the body only if it changed, and only if what we hold is
	// still there: a file someone removed must be fetched again.
	if r.Prev != nil && r.Prev.Version != "" && (a.file == "" || exists(a.file)) {
		in.IfNoneMatch = aws.String(r.Prev.Version)
	}
	out, err := f.api.GetObject(ctx, in)
	if err != nil {
		var hs interface{ HTTPStatusCode() int }
		if in.IfNoneMatch != nil && errors.As(err, &hs) && hs.HTTPStatusCode() == 304 {
			r.Unchanged()
			return
		}
		r.Fail(fmt.Errorf("s3 GetObject s3://%s/%s: %w", a.bucket, a.key, awserr.Classify(err)))
		return
	}
	defer out.Body.Close()
	etag := aws.ToString(out.ETag)
	size := aws.ToInt64(out.ContentLength)
	if a.file == "" {
		b, err := f.readAll(out.Body, size)
		if err != nil {
			r.Fail(fmt.Errorf("s3 GetObject s3://%s/%s: %w", a.bucket, a.key, err))
			return
		}
		r.Succeed(cache.Raw{Value: b, Version: etag, Size: int64(len(b))})
		return
	}
	n, err := f.writeFile(a.file, out.Body, size)
	if err != nil {
		r.Fail(fmt.Errorf("s3 GetObject s3://%s/%s to %s: %w", a.bucket, a.key, a.file, err))
		return
	}
	r.Succeed(cache.Raw{Value: a.file, Version: etag, Size: n})
}

func (f *fetcher) readAll(body io.Reader, size int64) ([]byte, error) {
	if size > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w: object is %d bytes, over the %d held in memory (Options.MaxBytes)", cache.ErrTooLarge, size, f.opts.MaxBytes)
	}
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead) // one allocation when the length is known
	}
	if _, err := buf.ReadFrom(io.LimitReader(body, f.opts.MaxBytes+1)); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(buf.Len()) > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w: object is over the %d bytes held in memory (Options.MaxBytes)", cache.ErrTooLarge, f.opts.MaxBytes)
	}
	return buf.Bytes(), nil
}

// writeFile streams body to a temporary file beside file and renames it
// into place: readers see the old file or the new one, never a part.
func (f *fetcher) writeFile(file string, body io.Reader, size int64) (int64, error) {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if size > 0 {
		free, err := f.opts.FreeSpace(dir)
		if err == nil && size > free {
			return 0, fmt.Errorf("%w: object is %d bytes, %s has %d free", cache.ErrTooLarge, size, dir, free)
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".*.part")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("got %d bytes, want %d", n, size)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

func exists(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}

func freeSpace(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Interface guards.
var (
	_ API           = (*s3.Client)(nil)
	_ cache.Fetcher = (*fetcher)(nil)
)
