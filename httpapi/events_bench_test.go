package httpapi_test

import (
	"bytes"
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

// BenchmarkPostEvents is what `offload serve` does with a burst of webhook
// deliveries: 16 senders on kept-alive connections post single-record
// MinIO events to the real handler over loopback HTTP; each is decoded,
// checked and fsynced to a bolt inbox before its 202. "log" is the inbox
// as serve runs it (appended to a log, copied into bolt in the
// background), "bolt" commits each group to the bolt file.
func BenchmarkPostEvents(b *testing.B) {
	for _, logged := range []bool{false, true} {
		name := "bolt"
		if logged {
			name = "log"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			db, err := bbolt.Open(filepath.Join(dir, "state.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			opts := pipeline.InboxOptions{DB: db}
			if logged {
				opts.Log = filepath.Join(dir, "state.db.inbox-log")
			}
			in, err := pipeline.NewInbox(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			srv := httptest.NewServer(httpapi.New(httpapi.Options{Inbox: in}))
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
