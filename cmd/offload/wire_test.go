package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A purger's client keeps a connection for each request it had in flight
// to a host, up to the most a target sends at once (the pipeline's 4 calls
// times Fastly's 8): a second wave of as many requests dials nothing.
func TestHTTPClientKeepsConnectionsOfConcurrentRequests(t *testing.T) {
	for _, inFlight := range []int{4, 16, 32} {
		t.Run(fmt.Sprint(inFlight), func(t *testing.T) {
			var dialled atomic.Int64
			var arrived sync.WaitGroup
			gate := make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived.Done()
				<-gate // every request of the wave is in flight at once
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					dialled.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			client := httpClient(time.Minute)
			defer client.CloseIdleConnections()
			for wave := range 2 {
				arrived.Add(inFlight)
				var done sync.WaitGroup
				errs := make(chan error, inFlight)
				for range inFlight {
					done.Go(func() {
						resp, err := client.Get(srv.URL)
						if err != nil {
							errs <- err
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					})
				}
				arrived.Wait()
				for range inFlight {
					gate <- struct{}{}
				}
				done.Wait()
				close(errs)
				for err := range errs {
					t.Fatalf("wave %d: %v", wave, err)
				}
			}
			if got := dialled.Load(); got != int64(inFlight) {
				t.Errorf("connections after two waves of %d requests: got %d, want %d", inFlight, got, inFlight)
			}
		})
	}
}
