package s3mirror

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/retry"
)

// API is the part of the S3 client the mirror uses; *s3.Client satisfies it.
type API interface {
	manager.UploadAPIClient
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Defaults.
const (
	DefaultPartSize     = 8 << 20
	DefaultConcurrency  = 2
	DefaultSinglePutMax = 16 << 20
)

// NoSinglePut, as Options.SinglePutMax, sends every object through the
// multipart uploader.
const NoSinglePut = -1

// Options configure a Client. A zero field means its default; Client and
// Bucket have none.
type Options struct {
	// Client is the S3 client, an *s3.Client (for an S3-compatible store,
	// set its BaseEndpoint and UsePathStyle). Required.
	Client API
	// Bucket is the destination bucket. Required.
	Bucket string
	// Prefix is the directory keys are put under ("mirror/"). Default "":
	// the bucket's root.
	Prefix string
	// PartSize is the size of each part of a multipart upload and of the
	// buffers parts are read into, at least 5 MiB (S3's minimum). Default
	// DefaultPartSize (8 MiB). An object of unknown length can have at
	// most 10,000 parts: 80 GB at 8 MiB.
	PartSize int64
	// Concurrency is how many parts are uploaded at once. Default
	// DefaultConcurrency (2). Memory is bounded by about
	// PartSize × (Concurrency+2): the SDK's uploader reads the first part
	// into a slice of its own and keeps a pool of Concurrency+1 buffers for
	// the rest. Measured (BENCHMARKS.md, measurement 6): a peak about 46 MiB
	// above the process's baseline at the defaults, the same for 100 MiB
	// and 1 GiB objects.
	Concurrency int
	// SinglePutMax is the largest object of known size that goes up in one
	// PutObject, read first into a buffer of its size, rather than through
	// the multipart uploader. Default DefaultSinglePutMax (16 MiB);
	// NoSinglePut for never. A single PUT takes one request instead of at least three, can
	// be retried whatever the body, and holds less memory than the
	// uploader's buffers (see Concurrency) up to that size.
	SinglePutMax int64
	// CacheControl, when set, is stored with every object. Default "".
	CacheControl string
	// Timeout is how long an operation may go without progress: nothing
	// of the body read or sent, and no answer. Past it the operation fails
	// and is not retried, and for one Timeout after it the operations that
	// follow fail without being sent: the store is not answering, and
	// waiting out each one's deadline in turn would hold the pipeline for
	// many. The client's HTTP transport should have connect and TLS
	// timeouts of its own. Default 30s.
	Timeout time.Duration
	// Retry is the retry policy for whole operations (a Put is retried only
	// when its body is an io.Seeker or was read into a buffer: a known size
	// up to SinglePutMax). A zero field takes the retry package's default.
	// The SDK's own retryer still retries single requests.
	Retry retry.Policy
}

// Client mirrors to one bucket and prefix. It is safe for concurrent use.
type Client struct {
	api   API
	up    *manager.Uploader
	opts  Options
	guard *deadline.Guard
}

// ErrConfig is wrapped by New's errors.
var ErrConfig = errors.New("s3mirror: bad configuration")

// New returns a mirror writing through opts.Client, after applying optFns
// to a copy of opts, or an error (wrapping ErrConfig) naming the option
// that cannot work.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Client == nil {
		return nil, fmt.Errorf("%w: Options.Client is required", ErrConfig)
	}
	if opts.Bucket == "" {
		return nil, fmt.Errorf("%w: Options.Bucket is required", ErrConfig)
	}
	if strings.Contains(opts.Prefix, "..") {
		return nil, fmt.Errorf("%w: Options.Prefix %q holds \"..\"", ErrConfig, opts.Prefix)
	}
	opts.Prefix = strings.Trim(opts.Prefix, "/")
	opts.PartSize = cmp.Or(opts.PartSize, DefaultPartSize)
	if opts.PartSize < manager.MinUploadPartSize {
		return nil, fmt.Errorf("%w: Options.PartSize %d is below S3's minimum of %d", ErrConfig, opts.PartSize, manager.MinUploadPartSize)
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("%w: Options.Concurrency %d is negative", ErrConfig, opts.Concurrency)
	}
	opts.Concurrency = cmp.Or(opts.Concurrency, DefaultConcurrency)
	if opts.SinglePutMax < NoSinglePut {
		return nil, fmt.Errorf("%w: Options.SinglePutMax %d: want a size, 0 (the default) or NoSinglePut", ErrConfig, opts.SinglePutMax)
	}
	opts.SinglePutMax = cmp.Or(opts.SinglePutMax, DefaultSinglePutMax)
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("%w: Options.Timeout %s is negative", ErrConfig, opts.Timeout)
	}
	opts.Timeout = cmp.Or(opts.Timeout, 30*time.Second)
	client := opts.Client
	up := manager.NewUploader(partProgress{client}, func(u *manager.Uploader) {
		u.PartSize = opts.PartSize
		u.Concurrency = opts.Concurrency
		u.LeavePartsOnError = false // abort, so no orphaned parts are billed
		u.ClientOptions = append(u.ClientOptions, answerProgress)
	})
	return &Client{api: client, up: up, opts: opts, guard: deadline.New(opts.Timeout, nil)}, nil
}

// key is the object key of a mirror key: "prefix/key", never with a
// leading "/" (mirror.Join returns one under a directory).
func (c *Client) key(key string) (string, error) {
	k, err := mirror.Join(c.opts.Prefix, key)
	return strings.TrimPrefix(k, "/"), err
}

// Put streams body to the bucket under obj.Key.
func (c *Client) Put(ctx context.Context, obj mirror.Object, body io.Reader) error {
	key, err := c.key(obj.Key)
	if err != nil {
		return fmt.Errorf("s3mirror: put: %w", err)
	}
	if err := c.guard.Held(); err != nil { // before reading anything
		return fmt.Errorf("s3mirror: put s3://%s/%s: %w", c.opts.Bucket, key, err)
	}
	if body == nil {
		body = http.NoBody
	}
	seeker, canRetry := body.(io.Seeker)
	var start int64
	if canRetry {
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			canRetry = false
		}
	}
	policy := c.opts.Retry
	if !canRetry {
		policy.MaxAttempts = 1
	}
	in := &s3.PutObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(key)}
	if obj.ContentType != "" {
		in.ContentType = aws.String(obj.ContentType)
	}
	if c.opts.CacheControl != "" {
		in.CacheControl = aws.String(c.opts.CacheControl)
	}
	if !obj.ModTime.IsZero() {
		in.Metadata = map[string]string{"mtime": obj.ModTime.UTC().Format(time.RFC3339)}
	}
	if obj.Size >= 0 && obj.Size <= c.opts.SinglePutMax {
		return c.putOnce(ctx, in, obj.Size, body)
	}
	if obj.Size >= 0 && obj.Size < c.opts.PartSize {
		in.ContentLength = aws.Int64(obj.Size)
	}
	_, err = policy.Do(ctx, func(ctx context.Context, attempt int) error {
		if attempt > 1 {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return fmt.Errorf("s3mirror: put s3://%s/%s: rewind body: %w", c.opts.Bucket, key, err)
			}
		}
		return c.idle(ctx, "put", key, func(ctx context.Context) error {
			// The uploader reads body through a wrapper that hides Seek and
			// ReaderAt, so it streams part by part instead of treating the
			// body as a file it may read anywhere.
			in := *in
			in.Body = streamOnly{deadline.Reader(body, deadline.Progress(ctx))}
			_, err := c.up.Upload(ctx, &in)
			return err
		})
	})
	return err
}

// idle runs one operation that may take as long as it makes progress (see
// Options.Timeout), and classifies its error.
func (c *Client) idle(ctx context.Context, op, key string, fn func(ctx context.Context) error) error {
	rctx, _, cancel, err := c.guard.StartIdle(ctx)
	if err != nil {
		return fmt.Errorf("s3mirror: %s s3://%s/%s: %w", op, c.opts.Bucket, key, err)
	}
	defer cancel()
	err = fn(rctx)
	if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
		return fmt.Errorf("s3mirror: %s s3://%s/%s: %w", op, c.opts.Bucket, key, err)
	}
	return classify(ctx, err, op, c.opts.Bucket, key)
}

// partProgress reports the reading of each part's body, and its answer,
// as progress of the Put it belongs to.
type partProgress struct{ API }

func (p partProgress) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	progress := deadline.Progress(ctx)
	if rs, ok := in.Body.(io.ReadSeeker); ok {
		in2 := *in
		in2.Body = deadline.ReadSeeker(rs, progress)
		in = &in2
	}
	out, err := p.API.UploadPart(ctx, in, optFns...)
	progress()
	return out, err
}

// putOnce reads a body of the given size into one buffer of that size and
// sends it in one PutObject. The SDK's uploader would read it through
// io.ReadAll, into chunks and then a copy (about three times the size,
// freshly allocated each time), and send it in parts from 8 MiB; the buffer
// also makes every attempt retryable, whatever the body.
func (c *Client) putOnce(ctx context.Context, in *s3.PutObjectInput, size int64, body io.Reader) error {
	key := aws.ToString(in.Key)
	buf := make([]byte, size)
	if _, err := io.ReadFull(body, buf); err != nil {
		return fmt.Errorf("s3mirror: put s3://%s/%s: read body of %d bytes: %w", c.opts.Bucket, key, size, err)
	}
	var one [1]byte
	if n, _ := io.ReadFull(body, one[:]); n > 0 {
		return fmt.Errorf("s3mirror: put s3://%s/%s: the body is longer than its size, %d bytes", c.opts.Bucket, key, size)
	}
	in.ContentLength = aws.Int64(size)
	_, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.idle(ctx, "put", key, func(ctx context.Context) error {
			in := *in
			in.Body = deadline.ReadSeeker(bytes.NewReader(buf), deadline.Progress(ctx))
			_, err := c.api.PutObject(ctx, &in, answerProgress)
			return err
		})
	})
	return err
}

// answerProgress counts an answer's arrival, and each read of its body, as
// progress: S3 sends spaces while it completes a large multipart upload.
func answerProgress(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("OffloadAnswerProgress",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if r, ok := out.RawResponse.(*smithyhttp.Response); ok && r.Response != nil {
					progress := deadline.Progress(ctx)
					progress()
					r.Body = struct {
						io.Reader
						io.Closer
					}{deadline.Reader(r.Body, progress), r.Body}
				}
				return out, md, err
			}), middleware.After)
	})
}

type streamOnly struct{ r io.Reader }

func (s streamOnly) Read(p []byte) (int, error) { return s.r.Read(p) }

// Delete removes key; S3 answers success for a key already absent.
func (c *Client) Delete(ctx context.Context, key string) error {
	k, err := c.key(key)
	if err != nil {
		return fmt.Errorf("s3mirror: delete: %w", err)
	}
	_, err = c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.idle(ctx, "delete", k, func(ctx context.Context) error {
			_, err := c.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.opts.Bucket), Key: aws.String(k)}, answerProgress)
			return err
		})
	})
	return err
}

// classify names the operation and marks what may pass on a retry:
// throttling, 5xx, and transport failures.
func classify(ctx context.Context, err error, op, bucket, key string) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("s3mirror: %s s3://%s/%s: %w", op, bucket, key, err)
	if ctx.Err() != nil {
		return err
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		st := re.HTTPStatusCode()
		if st == http.StatusTooManyRequests || st >= 500 && st != http.StatusNotImplemented {
			return retry.Retryable(err)
		}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed":
				return retry.Retryable(err)
			}
		}
		return err
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return err
	}
	return retry.Retryable(err) // no answer: the network
}

var _ mirror.Mirror = (*Client)(nil)
