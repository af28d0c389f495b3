package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/offload-dev/offload/pipeline"
)

// BenchmarkInboxAdd stores single-record webhook bodies from 16 concurrent
// senders, as `offload serve` does under a burst: each Add returns once its
// entry is fsynced, in a real bolt file.
func BenchmarkInboxAdd(b *testing.B) {
	db := openDB(b, filepath.Join(b.TempDir(), "state.db"))
	defer db.Close()
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	const senders = 16
	b.SetParallelism((senders + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := in.Add(context.Background(), webhook("site", fmt.Sprintf("bench/%06d.html", i), "e", fmt.Sprintf("%016X", i))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
}
