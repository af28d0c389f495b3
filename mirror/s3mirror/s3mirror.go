package s3mirror

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/retry"
)

// API is the part of the S3 client the mirror uses; *s3.Client satisfies it.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Defaults.
const (
	DefaultPartSize     = 8 << 20
	DefaultConcurrency  = 2
	DefaultSinglePutMax = 16 << 20
)

// S3's limits on a multipart upload: every part but the last at least 5
// MiB, at most 10,000 parts.
const (
	minPartSize = 5 << 20
	maxParts    = 10000
)

// NoSinglePut, as Options.SinglePutMax, sends every object of known size
// larger than one part as a multipart upload.
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
	// DefaultPartSize (8 MiB). An object of known size that would need more
	// than 10,000 parts gets larger ones; an object of unknown length can
	// have at most 10,000 parts: 80 GB at 8 MiB.
	PartSize int64
	// Concurrency is how many parts of a multipart upload are in memory at
	// once, each being read or sent: at most Concurrency are sent at once,
	// fewer while the next is being read. Default DefaultConcurrency (2).
	// Those part buffers, made as they are first needed, are all a Put
	// holds of the body: 16 MiB at the defaults, whatever the object's size.
	Concurrency int
	// SinglePutMax is the largest object of known size that goes up in one
	// PutObject, read first into a buffer of its size, rather than in
	// parts. Default DefaultSinglePutMax (16 MiB); NoSinglePut for never
	// (an object that fits in one part still goes up in one PutObject). A
	// single PUT takes one request instead of at least three, and holds
	// less memory than the part buffers (see Concurrency) up to that size.
	SinglePutMax int64
	// CacheControl, when set, is stored with every object. Default "".
	CacheControl string
	// Timeout is how long each request (PutObject, CreateMultipartUpload,
	// each UploadPart, CompleteMultipartUpload, DeleteObject) may go
	// without progress: nothing of its body sent, and no answer or nothing
	// of the answer read (S3 sends spaces while it completes a large
	// multipart upload). Past it the request fails and is not retried, and
	// for one Timeout after it the operations that follow fail without
	// being sent: the store is not answering, and waiting out each one's
	// deadline in turn would hold the pipeline for many. The upload it
	// belonged to is still aborted, within a Timeout of its own, since its
	// parts would be billed. The client's HTTP transport should have
	// connect and TLS timeouts of its own. Default 30s.
	Timeout time.Duration
	// Retry is the retry policy for each request. Every body is read into
	// a buffer first (the whole object, or one part), so every request can
	// be sent again, whatever the body passed to Put. A zero field takes the
	// retry package's default. The SDK's own retryer still retries single
	// requests.
	Retry retry.Policy
}

// Client mirrors to one bucket and prefix. It is safe for concurrent use.
type Client struct {
	api   API
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
	if opts.PartSize < minPartSize {
		return nil, fmt.Errorf("%w: Options.PartSize %d is below S3's minimum of %d", ErrConfig, opts.PartSize, minPartSize)
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
	return &Client{api: opts.Client, opts: opts, guard: deadline.New(opts.Timeout, nil)}, nil
}

// key is the object key of a mirror key: "prefix/key", never with a
// leading "/" (mirror.Join returns one under a directory).
func (c *Client) key(key string) (string, error) {
	k, err := mirror.Join(c.opts.Prefix, key)
	return strings.TrimPrefix(k, "/"), err
}

// Put streams body to the bucket under obj.Key. A body whose length
// differs from a known obj.Size is refused, and nothing of it is kept.
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
		buf := make([]byte, obj.Size)
		if err := c.read(body, buf, obj.Size, obj.Size, key); err != nil {
			return err
		}
		return c.putOnce(ctx, in, buf)
	}
	return c.putParts(ctx, in, obj.Size, body)
}

// read fills buf from body. When the body's size is known (size >= 0)
// and buf ends at offset end, it also checks that the body ends there.
func (c *Client) read(body io.Reader, buf []byte, size, end int64, key string) error {
	if _, err := io.ReadFull(body, buf); err != nil {
		return fmt.Errorf("s3mirror: put s3://%s/%s: read body of %d bytes: %w", c.opts.Bucket, key, size, err)
	}
	if size >= 0 && end == size {
		var one [1]byte
		if n, _ := io.ReadFull(body, one[:]); n > 0 {
			return fmt.Errorf("s3mirror: put s3://%s/%s: the body is longer than its size, %d bytes", c.opts.Bucket, key, size)
		}
	}
	return nil
}

// putOnce sends buf in one PutObject. The SDK's uploader would read a
// stream through io.ReadAll, into chunks and then a copy; a buffer of the
// body's size is what a single PUT needs.
func (c *Client) putOnce(ctx context.Context, in *s3.PutObjectInput, buf []byte) error {
	key := aws.ToString(in.Key)
	in.ContentLength = aws.Int64(int64(len(buf)))
	_, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.idle(ctx, "put", key, func(ctx context.Context) error {
			in := *in
			in.Body = sending(ctx, buf)
			_, err := c.api.PutObject(ctx, &in, answerProgress)
			return err
		})
	})
	return err
}

// putParts reads body a part at a time into buffers of its own, at most
// Concurrency of them, and sends the parts as a multipart upload, up to
// Concurrency at once, each retried on its own. A body that fits in one
// part goes up in one PutObject instead. The SDK's uploader would read the
// first part with io.ReadAll, into chunks and then a slice of its own, and
// keep a pool of buffers besides; these buffers are all a Put holds.
//
// A failed upload is aborted, so no orphaned parts are billed.
func (c *Client) putParts(ctx context.Context, in *s3.PutObjectInput, size int64, body io.Reader) error {
	key := aws.ToString(in.Key)
	partSize := c.opts.PartSize
	if size > partSize*maxParts {
		partSize = (size + maxParts - 1) / maxParts
	}
	// next reads the next part into buf, returning the part and whether it
	// was the last: a known size tells where the body ends, an unknown one
	// ends with a short read.
	var read int64
	next := func(buf []byte) ([]byte, bool, error) {
		if size >= 0 {
			buf = buf[:min(partSize, size-read)]
			if err := c.read(body, buf, size, read+int64(len(buf)), key); err != nil {
				return nil, false, err
			}
			read += int64(len(buf))
			return buf, read == size, nil
		}
		n, err := io.ReadFull(body, buf[:partSize])
		read += int64(n)
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return buf[:n], true, nil
		case err != nil:
			return nil, false, fmt.Errorf("s3mirror: put s3://%s/%s: read body after %d bytes: %w", c.opts.Bucket, key, read, err)
		}
		return buf, false, nil
	}

	first, last, err := next(make([]byte, partSize))
	if err != nil {
		return err
	}
	if last {
		return c.putOnce(ctx, in, first)
	}

	create := &s3.CreateMultipartUploadInput{Bucket: in.Bucket, Key: in.Key, ContentType: in.ContentType,
		CacheControl: in.CacheControl, Metadata: in.Metadata, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}
	var id string
	_, err = c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.idle(ctx, "create multipart upload", key, func(ctx context.Context) error {
			out, err := c.api.CreateMultipartUpload(ctx, create, answerProgress)
			if err == nil {
				id = aws.ToString(out.UploadId)
			}
			return err
		})
	})
	if err != nil {
		return err
	}

	var (
		mu    sync.Mutex
		parts []types.CompletedPart
	)
	err = func() error {
		g, gctx := errgroup.WithContext(ctx)
		// Each part in flight holds a buffer until it is sent, and the
		// next part is read into a free one, or a new one while there are
		// fewer than Concurrency: that bounds both the memory and the parts
		// in flight.
		free := make(chan []byte, c.opts.Concurrency)
		made := 1
		stopped := func() error {
			err := g.Wait()
			if err == nil {
				err = fmt.Errorf("s3mirror: put s3://%s/%s: %w", c.opts.Bucket, key, ctx.Err())
			}
			return err
		}
		part := first
		for num := int32(1); ; num++ {
			p := part
			g.Go(func() error {
				defer func() { free <- p[:cap(p)] }()
				done, err := c.uploadPart(gctx, create, id, num, p)
				mu.Lock()
				parts = append(parts, done)
				mu.Unlock()
				return err
			})
			if last {
				return g.Wait()
			}
			var buf []byte
			select {
			case buf = <-free:
			default:
				if made < c.opts.Concurrency {
					buf, made = make([]byte, partSize), made+1
					break
				}
				select {
				case buf = <-free:
				case <-gctx.Done():
					return stopped()
				}
			}
			if gctx.Err() != nil {
				return stopped()
			}
			var err error
			if part, last, err = next(buf); err != nil {
				g.Wait()
				return err
			}
			if len(part) == 0 { // an unknown length that ended on a part boundary
				return g.Wait()
			}
			if num == maxParts {
				g.Wait()
				return fmt.Errorf("s3mirror: put s3://%s/%s: the body is longer than %d parts of %d bytes", c.opts.Bucket, key, maxParts, partSize)
			}
		}
	}()
	if err == nil {
		err = c.complete(ctx, create, id, parts)
	}
	if err != nil {
		c.abort(ctx, create, id)
	}
	return err
}

// uploadPart sends one part, retried on its own from its buffer.
func (c *Client) uploadPart(ctx context.Context, up *s3.CreateMultipartUploadInput, id string, num int32, part []byte) (types.CompletedPart, error) {
	var done types.CompletedPart
	_, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.idle(ctx, fmt.Sprintf("upload part %d of", num), aws.ToString(up.Key), func(ctx context.Context) error {
			out, err := c.api.UploadPart(ctx, &s3.UploadPartInput{Bucket: up.Bucket, Key: up.Key, UploadId: aws.String(id),
				PartNumber: aws.Int32(num), Body: sending(ctx, part), ContentLength: aws.Int64(int64(len(part))),
				ChecksumAlgorithm: up.ChecksumAlgorithm}, answerProgress)
			if err == nil {
				done = types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}
			}
			return err
		})
	})
	return done, err
}

// complete assembles the parts into the object.
func (c *Client) complete(ctx context.Context, up *s3.CreateMultipartUploadInput, id string, parts []types.CompletedPart) error {
	// Parts finish in any order; S3 wants them in order.
	slices.SortFunc(parts, func(a, b types.CompletedPart) int {
		return cmp.Compare(aws.ToInt32(a.PartNumber), aws.ToInt32(b.PartNumber))
	})
	_, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.idle(ctx, "complete multipart upload", aws.ToString(up.Key), func(ctx context.Context) error {
			_, err := c.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: up.Bucket, Key: up.Key,
				UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}, answerProgress)
			return err
		})
	})
	return err
}

// abort drops the parts of a failed upload, even when ctx has ended or the
// store was not answering: a part left behind is billed until the bucket's
// lifecycle rules remove it.
func (c *Client) abort(ctx context.Context, up *s3.CreateMultipartUploadInput, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	// Best effort: the upload's own error is what the caller needs.
	_, _ = c.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: up.Bucket, Key: up.Key, UploadId: aws.String(id)})
}

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

// idle sends one request that may take as long as it makes progress (see
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

// sending is a request body read from buf, each read of which, as the
// request is sent, is progress of the request ctx belongs to. It stays
// seekable, so the SDK can send it again.
func sending(ctx context.Context, buf []byte) io.ReadSeeker {
	return deadline.ReadSeeker(bytes.NewReader(buf), deadline.Progress(ctx))
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
	return retry.Network(err) // no answer: the network
}

var _ mirror.Mirror = (*Client)(nil)
