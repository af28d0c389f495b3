//go:build !offload_lambda

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/eventgen"
)

// `offload plan` on the embedded defaults, in process: one SQS event of
// 10,000 and of 100,000 messages read from a file, the plan written to
// io.Discard. (bench/ measures the built binary's CPU time and peak memory.)
func BenchmarkPlanCommand(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			file := filepath.Join(b.TempDir(), "events.json")
			f, err := os.Create(file)
			if err != nil {
				b.Fatal(err)
			}
			if err := eventgen.WriteSQS(f, n, eventgen.Options{Lean: true}); err != nil {
				b.Fatal(err)
			}
			f.Close()
			st, _ := os.Stat(file)
			b.SetBytes(st.Size())
			b.Chdir(b.TempDir())
			b.ReportAllocs()
			for b.Loop() {
				var errb strings.Builder
				if code := run(context.Background(), []string{"plan", "--events", file}, nil, io.Discard, &errb); code != exitOK {
					b.Fatalf("exit %d: %s", code, errb.String())
				}
			}
		})
	}
}
