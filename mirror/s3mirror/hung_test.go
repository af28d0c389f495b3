package s3mirror_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/loopback"
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
