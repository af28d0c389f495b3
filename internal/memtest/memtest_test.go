package memtest

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
	"testing/iotest"
)

func TestReader(t *testing.T) {
	const size = 3*blockSize + 12345
	a, _ := io.ReadAll(Reader(size))
	// Read in odd sizes: the same bytes.
	b, _ := io.ReadAll(iotest.OneByteReader(io.LimitReader(Reader(size), 100)))
	if len(a) != size {
		t.Fatalf("got %d bytes, want %d", len(a), size)
	}
	if !bytes.Equal(a[:100], b) {
		t.Error("reads of different sizes differ")
	}
	var buf bytes.Buffer
	io.CopyBuffer(&buf, Reader(size), make([]byte, 7777))
	if sha256.Sum256(buf.Bytes()) != sha256.Sum256(a) {
		t.Error("a second reader gives other bytes")
	}
	if bytes.Equal(a[:blockSize], a[blockSize:2*blockSize]) {
		t.Error("two blocks are equal, want each stamped")
	}
	if p, err := PeakRSS(); err != nil || p <= 0 {
		t.Errorf("PeakRSS: got %d, %v", p, err)
	}
}
