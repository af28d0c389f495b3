package s3mirror_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/offload-dev/offload/internal/memtest"
	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/s3mirror"
)

// BenchmarkPut mirrors objects of known size from a stream (as the
// pipeline streams a GetObject body) to a bucket in MinIO, whose speed,
// unlike moto's, leaves the client's own cost visible. 40 MiB goes up in
// five parts; its B/op is mostly the two part buffers.
func BenchmarkPut(b *testing.B) {
	m := miniotest.Start(b, miniotest.Options{})
	ctx := context.Background()
	client := m.Client()
	m.CreateBucket(b, "dst")
	c, err := s3mirror.New(s3mirror.Options{Client: client, Bucket: "dst"})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int64{64 << 10, 1 << 20, 6 << 20, 10 << 20, 40 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for i := range b.N {
				obj := mirror.Object{Key: fmt.Sprintf("o%d", i%4), Size: size}
				if err := c.Put(ctx, obj, onlyReader{memtest.Reader(size)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
