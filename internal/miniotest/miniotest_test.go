package miniotest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/miniotest"
)

// TestNotificationsReachTheWebhook checks the helper against a real MinIO:
// a put sends a notification, with the bearer token, whose key decodes.
func TestNotificationsReachTheWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []event.Change
	var auth []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		got = append(got, event.Decode(body)...)
		mu.Unlock()
	}))
	defer hook.Close()

	m := miniotest.Start(t, miniotest.Options{Webhooks: []miniotest.Webhook{{ID: "offload", Endpoint: hook.URL + "/v1/events", AuthToken: "s3cret-token"}}})
	m.CreateBucket(t, "site")
	m.Notify(t, "site", "offload")
	m.Put(t, "site", "docs/a b+ü.html", "hello")

	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notification after 10s\n%s", m.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	c := got[0]
	if c.Bucket != "site" || c.Key != "docs/a b+ü.html" || c.Kind != event.KindPut || c.ETag == "" || c.Sequencer == "" {
		t.Errorf("got %+v, want a put of site/docs/a b+ü.html with an ETag and a sequencer", c)
	}
	if auth[0] != "Bearer s3cret-token" {
		t.Errorf("Authorization %q, want %q", auth[0], "Bearer s3cret-token")
	}
}
