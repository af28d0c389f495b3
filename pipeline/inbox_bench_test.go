package pipeline_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/pipeline"
)

// BenchmarkInboxAdd stores single-record webhook bodies from 16 concurrent
// senders, as `offload serve` does under a burst: each Add returns once its
// entry is on disk. "group" is Add, which commits the Adds that arrive
// while a commit is on disk together at once, each commit one write and
// one fdatasync to the inbox's log; "batch" is how the inbox added before:
// one bbolt.DB.Batch call per entry (bbolt gathers calls for up to its
// MaxBatchDelay, 10ms; each commit two fdatasyncs). Compare adds/s.
func BenchmarkInboxAdd(b *testing.B) {
	b.Run("batch", benchmarkBatchAdd)
	b.Run("group", benchmarkInboxAdd)
}

func benchmarkBatchAdd(b *testing.B) {
	db := openDB(b, filepath.Join(b.TempDir(), "state.db"))
	defer db.Close()
	const senders = 16
	b.SetParallelism((senders + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := webhook("site", fmt.Sprintf("bench/%06d.html", i), "e", fmt.Sprintf("%016X", i))
			err := db.Batch(func(tx *bbolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists([]byte(pipeline.InboxBucket))
				if err != nil {
					return err
				}
				id, err := bk.NextSequence()
				if err != nil {
					return err
				}
				return bk.Put(binary.BigEndian.AppendUint64(nil, id), body)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
}

func benchmarkInboxAdd(b *testing.B) {
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
