package s3mirror_test

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/memtest"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/s3mirror"
)

// A large object streamed to moto as a multipart upload, with
// known and unknown length, each in a child process whose peak resident
// memory must stay far below the object's size and not grow with it
// (compared with a 64 MiB run). moto is slow with large bodies (about 25
// MiB/s here) and keeps them in its own process, so the default is 256 MiB;
// OFFLOAD_S3_STREAM_BYTES=1073741824 runs the full 1 GiB.
func TestStream(t *testing.T) {
	if memtest.InChild() {
		t.Skip("the parent of TestStreamChild")
	}
	if testing.Short() {
		t.Skip("streams hundreds of MiB through moto")
	}
	big := memtest.EnvSize(t, "OFFLOAD_S3_STREAM_BYTES", 256*memtest.MiB)
	// Two 8 MiB part buffers, the SDK and the test binary: about 32 MiB
	// measured, where the SDK's uploader, with its first part read through
	// io.ReadAll and a pool of three more, took 56 MiB. The bound leaves 16
	// MiB for the garbage collector's pace.
	bound, growth := int64(48*memtest.MiB), int64(24*memtest.MiB)
	if memtest.Race {
		// The race detector's shadow memory, and its noise: a body held
		// in memory would still grow by the 192 MiB between the runs.
		bound, growth = 320*memtest.MiB, 64*memtest.MiB
	}
	for _, length := range []string{"known", "unknown"} {
		t.Run(length, func(t *testing.T) {
			r := memtest.Flat(t, "TestStreamChild", 64*memtest.MiB, big, bound, growth, "OFFLOAD_STREAM_LENGTH="+length)
			t.Logf("s3mirror to moto, %s length: %v", length, r)
		})
	}
}

func TestStreamChild(t *testing.T) {
	if !memtest.InChild() {
		t.Skip("run by TestStream in a child process")
	}
	n := memtest.Size(t)
	e := newEnv(t, false)
	// No client timeout: moto takes its time over a large multipart upload
	// and its read-back, the more so on a busy machine.
	cfg := awstest.SharedMoto(t).Config()
	cfg.HTTPClient = &http.Client{Transport: awstest.Transport()}
	e.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	c, err := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: e.bucket})
	if err != nil {
		t.Fatal(err)
	}
	obj := mirror.Object{Key: "big.bin", Size: n}
	if os.Getenv("OFFLOAD_STREAM_LENGTH") == "unknown" {
		obj.Size = -1
	}
	start := time.Now()
	if err := c.Put(context.Background(), obj, onlyReader{memtest.Reader(n)}); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	peak, err := memtest.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	// Read it back, streaming, and compare digests.
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	got, want := sha256.New(), sha256.New()
	io.Copy(got, out.Body)
	io.Copy(want, memtest.Reader(n))
	if string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatal("the object read back differs from what was streamed")
	}
	memtest.Print(memtest.Report{Bytes: n, PeakRSS: peak, Elapsed: elapsed})
}
