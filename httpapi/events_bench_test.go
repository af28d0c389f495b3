package httpapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/pipeline"
)

// batchInbox adds as the bolt inbox did before group commit:
// one bbolt.DB.Batch per Add (bbolt gathers concurrent calls for up to its
// MaxBatchDelay, 10ms, then commits them with two fsyncs).
type batchInbox struct {
	*pipeline.Inbox
	db *bbolt.DB
}

func (b batchInbox) Add(ctx context.Context, body []byte) (uint64, error) {
	var id uint64
	err := b.db.Batch(func(tx *bbolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte("inbox-before"))
		if err != nil {
			return err
		}
		if id, err = bk.NextSequence(); err != nil {
			return err
		}
		return bk.Put(binary.BigEndian.AppendUint64(nil, id), body)
	})
	return id, err
}

// BenchmarkPostEvents is what `offload serve` does with a burst of webhook
// deliveries: 16 senders on kept-alive connections post single-record
// MinIO events to the real handler over loopback HTTP; each is decoded,
// checked and fsynced to a bolt inbox before its 202. "batch" stores each
// with bbolt.DB.Batch, as serve did before; "group" is the inbox as serve
// runs it now, which commits the deliveries that arrive while a commit is
// on disk together at once, in one write and fdatasync to its log. Compare
// events/s.
func BenchmarkPostEvents(b *testing.B) {
	for _, mode := range []string{"batch", "group"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			db, err := bbolt.Open(filepath.Join(dir, "state.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
			if err != nil {
				b.Fatal(err)
			}
			var q httpapi.Inbox = in
			if mode == "batch" {
				q = batchInbox{Inbox: in, db: db}
			}
			srv := httptest.NewServer(httpapi.New(httpapi.Options{Inbox: q}))
			defer srv.Close()
			const senders = 16
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
			defer client.CloseIdleConnections()
			b.SetParallelism((senders + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					body := minioEvent(fmt.Sprintf("bench%%2F%06d.html", i), "12")
					resp, err := client.Post(srv.URL+"/v1/events", "application/json", bytes.NewReader([]byte(body)))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body) // so that the connection is kept
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("POST /v1/events: %s, want 202", resp.Status)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
