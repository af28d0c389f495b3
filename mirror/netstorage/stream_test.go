package netstorage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/memtest"
	"github.com/offload-dev/offload/mirror"
)

// A 1 GiB object (OFFLOAD_STREAM_BYTES to change it) streamed to NetStorage,
// with known and unknown length, each in a child process whose peak
// resident memory (client and test server together) must stay far below
// the object's size and not grow with it (compared with a 64 MiB run).
func TestStream1GiB(t *testing.T) {
	if memtest.InChild() {
		t.Skip("the parent of TestStreamChild")
	}
	big := memtest.EnvSize(t, "OFFLOAD_STREAM_BYTES", memtest.GiB)
	bound := int64(64 * memtest.MiB)
	if memtest.Race {
		bound = 128 * memtest.MiB // the race detector's shadow memory
	}
	for _, length := range []string{"known", "unknown"} {
		t.Run(length, func(t *testing.T) {
			r := memtest.Flat(t, "TestStreamChild", 64*memtest.MiB, big, bound, 16*memtest.MiB, "OFFLOAD_STREAM_LENGTH="+length)
			t.Logf("netstorage, %s length: %v", length, r)
		})
	}
}

func TestStreamChild(t *testing.T) {
	if !memtest.InChild() {
		t.Skip("run by TestStream1GiB in a child process")
	}
	n := memtest.Size(t)
	h := sha256.New()
	io.Copy(h, memtest.Reader(n))
	want := hex.EncodeToString(h.Sum(nil))

	s := newServer(t)
	c, _ := newClient(t, s)
	obj := mirror.Object{Key: "big/object.bin", Size: n}
	if os.Getenv("OFFLOAD_STREAM_LENGTH") == "unknown" {
		obj.Size = -1
	}
	start := time.Now()
	// A stream, as from S3: no Seek, no WriterTo.
	if err := c.Put(context.Background(), obj, onlyReader{memtest.Reader(n)}); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	f, ok := s.File("/123456/site/big/object.bin")
	if !ok || f.Size != n || f.SHA256 != want {
		t.Fatalf("server got %+v, want %d bytes with sha256 %s", f, n, want)
	}
	peak, err := memtest.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	memtest.Print(memtest.Report{Bytes: n, PeakRSS: peak, Elapsed: elapsed})
}
