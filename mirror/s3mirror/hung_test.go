package s3mirror_test

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/internal/memtest"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/s3mirror"
	"github.com/offload-dev/offload/purge/purgetest"
)

// A store that takes the connection and never answers, or never reads the
// upload: the operation fails when it has made no progress for its
// timeout, is not retried, and the next one is not sent until a timeout
// has passed.
func TestHungTimeout(t *testing.T) {
	tests := []struct {
		name  string
		start func() (*loopback.Hang, error)
		op    func(ctx context.Context, c *s3mirror.Client) error
	}{
		{"one PutObject", loopback.NewHang, func(ctx context.Context, c *s3mirror.Client) error {
			return c.Put(ctx, mirror.Object{Key: "a.bin", Size: 1 << 20}, bytes.NewReader(make([]byte, 1<<20)))
		}},
		{"one PutObject, never read", loopback.NewStall, func(ctx context.Context, c *s3mirror.Client) error {
			return c.Put(ctx, mirror.Object{Key: "a.bin", Size: 16 << 20}, bytes.NewReader(make([]byte, 16<<20)))
		}},
		{"multipart", loopback.NewHang, func(ctx context.Context, c *s3mirror.Client) error {
			return c.Put(ctx, mirror.Object{Key: "a.bin", Size: -1}, io.LimitReader(zeros{}, 12<<20))
		}},
		{"delete", loopback.NewHang, func(ctx context.Context, c *s3mirror.Client) error { return c.Delete(ctx, "a.bin") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang, err := tt.start()
			if err != nil {
				t.Fatal(err)
			}
			defer hang.Close()
			api := s3.NewFromConfig(awstest.Config(hang.URL()), func(o *s3.Options) { o.UsePathStyle = true })
			sl := purgetest.NewSleeper()
			c, err := s3mirror.New(s3mirror.Options{Client: api, Bucket: "b", Retry: sl.Policy(), Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{"no answer", "not sent: no answer"} {
				done := make(chan error, 1)
				go func() { done <- tt.op(context.Background(), c) }()
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("attempt %d: got %v, want %q", i+1, err, want)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("attempt %d: no return 20s after its 1s timeout", i+1)
				}
			}
			if got := hang.Accepted(); got > 2 {
				t.Errorf("connections: got %d, want at most 2: the first operation's (the multipart uploader may open two)", got)
			}
			if w := sl.Waits(); len(w) != 0 {
				t.Errorf("retry waits: got %v, want none", w)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A multipart upload that stops, because a request of it hangs or because
// its caller gives up, is aborted: no part is left behind to be billed,
// even though the store is then held as not answering.
func TestMultipartStoppedAborted(t *testing.T) {
	const partSize = 5 << 20
	data, _ := io.ReadAll(memtest.Reader(12<<20 + 123))
	tests := []struct {
		name    string
		fault   func(bucket string) *awstest.Fault
		cancel  bool // the caller's context ends while the second part is read
		wantErr string
	}{
		{"a part hangs", func(b string) *awstest.Fault {
			return &awstest.Fault{Op: "PUT /" + b + "/big.bin", Times: 1, Hang: true}
		}, false, `upload part \d of s3://.*no answer`},
		{"complete hangs", func(b string) *awstest.Fault {
			return &awstest.Fault{Op: "POST /" + b + "/big.bin", Body: "<CompleteMultipartUpload", Times: 1, Hang: true}
		}, false, "complete multipart upload s3://.*no answer"},
		{"the caller gives up", nil, true, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true)
			if tt.fault != nil {
				e.proxy.Inject(*tt.fault(e.bucket))
			}
			c, err := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: e.bucket, PartSize: partSize, SinglePutMax: s3mirror.NoSinglePut,
				// 5s: moto, the healthy store, answers a 5 MiB part well within it even on a loaded machine.
				Retry: purgetest.NewSleeper().Policy(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var body io.Reader = onlyReader{bytes.NewReader(data)}
			if tt.cancel {
				body = &cancelAt{r: body, at: partSize + 1, cancel: cancel}
			}
			done := make(chan error, 1)
			go func() { done <- c.Put(ctx, mirror.Object{Key: "big.bin", Size: int64(len(data))}, body) }()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("Put: no return 60s after its 5s timeout")
			}
			if err == nil || !regexp.MustCompile(tt.wantErr).MatchString(err.Error()) {
				t.Fatalf("Put: got %v, want it to match %q", err, tt.wantErr)
			}
			ups, err := e.s3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(ups.Uploads); n != 0 {
				t.Errorf("multipart uploads left: got %d, want 0 (aborted)", n)
			}
			if got := e.counter.Count("DELETE /" + e.bucket + "/big.bin"); got != 1 {
				t.Errorf("AbortMultipartUpload calls: got %d, want 1", got)
			}
		})
	}
}

// cancelAt reads r and calls cancel once at bytes have been read.
type cancelAt struct {
	r      io.Reader
	at     int64
	read   int64
	cancel context.CancelFunc
}

func (c *cancelAt) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read >= c.at {
		c.cancel()
	}
	return n, err
}
