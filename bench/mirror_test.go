package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/memtest"
	"github.com/offload-dev/offload/internal/miniotest"
)

// Measurement 6 at 1 MiB and one round, in this process: MinIO, the
// NetStorage fake, both mirrors, and the check of every copy.
func TestMirrorSmoke(t *testing.T) {
	m := miniotest.Start(t, miniotest.Options{})
	e, err := newMirrorEnv(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	size := int64(memtest.MiB)
	res, err := mirrorAll(options{Progress: io.Discard}, e, []int64{size}, 1, mirrorOnce)
	if err != nil {
		t.Fatal(err)
	}
	for _, dest := range mirrorDests {
		runs := res.Runs[runKey(size, dest)]
		if len(runs) != 1 {
			t.Fatalf("%s: got %d runs, want 1", dest, len(runs))
		}
		if r := runs[0]; r.Size != size || r.ElapsedNs <= 0 || r.PeakRSS <= 0 || r.RSSBefore <= 0 {
			t.Errorf("%s: got %+v", dest, r)
		}
	}
	if got := e.ns.Log(); len(got) != 1 || got[0] != "PUT upload 200" {
		t.Errorf("netstorage requests: got %q, want one upload", got)
	}

	var b strings.Builder
	err = writeReport(&b, report{Machine: machine(), Start: time.Now(), Sections: map[int]section{6: res}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"## 6. Mirror streaming", "| 1 MiB | NetStorage | 1 |", "| 1 MiB | S3 (MinIO) | 1 |"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}

func TestGenSeeker(t *testing.T) {
	const size = 3*memtest.MiB + 17
	want, _ := io.ReadAll(memtest.Reader(size))
	g := &genSeeker{size: size}
	first, _ := io.ReadAll(g)
	if string(first) != string(want) {
		t.Fatal("first read differs from memtest.Reader")
	}
	if n, _ := g.Seek(0, io.SeekCurrent); n != size {
		t.Fatalf("position after reading: got %d, want %d", n, size)
	}
	if _, err := g.Seek(memtest.MiB+5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(g)
	if string(rest) != string(want[memtest.MiB+5:]) {
		t.Fatal("read after a seek differs")
	}
}
