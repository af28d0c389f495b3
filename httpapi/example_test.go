package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/pipeline"
)

// A webhook delivery with a valid token is stored in the inbox and answered 202 with its id;
// a worker (pipeline.Worker) applies it afterwards.
func Example() {
	dir, _ := os.MkdirTemp("", "httpapi")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "offload.db"), 0o600, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	inbox, err := pipeline.OpenInbox(db, pipeline.InboxOptions{})
	if err != nil {
		panic(err)
	}
	h := httpapi.New(httpapi.Options{
		Inbox:  inbox,
		Tokens: func(context.Context) ([]string, error) { return []string{"s3cret"}, nil },
	})

	req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(`{"Records":[]}`))
	req.Header.Set("Authorization", "Bearer s3cret") // MinIO's auth_token
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body)
	fmt.Println("depth", inbox.Depth())
	// Output:
	// 202 {"id":1}
	// depth 1
}
