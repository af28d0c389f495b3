package netstorage_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
	"github.com/offload-dev/offload/purge/purgetest"
)

// A store that takes the connection and never answers, or never even reads
// the upload: the request fails when it has made no progress for its
// timeout, is not retried, and the next one is not sent until a timeout
// has passed.
func TestHungTimeout(t *testing.T) {
	tests := []struct {
		name  string
		start func() (*loopback.Hang, error)
		size  int
	}{
		{"no answer", loopback.NewHang, 1 << 20},
		{"the upload never read", loopback.NewStall, 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang, err := tt.start()
			if err != nil {
				t.Fatal(err)
			}
			defer hang.Close()
			sl := purgetest.NewSleeper()
			c, err := netstorage.New(netstorage.Options{Host: "example-nsu.akamaihd.net", APIURL: hang.URL(), CPCode: cpcode,
				KeyName: keyName, Key: key, Retry: sl.Policy(), Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ops := []struct {
				name, want string
				do         func(ctx context.Context) error
			}{
				{"put", "no answer", func(ctx context.Context) error {
					return c.Put(ctx, mirror.Object{Key: "a.bin", Size: int64(tt.size)}, bytes.NewReader(make([]byte, tt.size)))
				}},
				{"delete", "not sent: no answer", func(ctx context.Context) error { return c.Delete(ctx, "b.bin") }},
			}
			for _, op := range ops {
				done := make(chan error, 1)
				go func() { done <- op.do(context.Background()) }()
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), op.want) {
						t.Errorf("%s: got %v, want %q", op.name, err, op.want)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("%s: no return 20s after its 1s timeout", op.name)
				}
			}
			if got := hang.Accepted(); got != 1 {
				t.Errorf("connections: got %d, want 1", got)
			}
			if w := sl.Waits(); len(w) != 0 {
				t.Errorf("retry waits: got %v, want none", w)
			}
		})
	}
}
