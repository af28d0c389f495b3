package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/dryrun"
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
	inbox, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		panic(err)
	}
	defer inbox.Close() // before the database: it moves what its log holds there
	h := httpapi.New(httpapi.Options{
		Inbox:  inbox,
		Tokens: func(context.Context) ([]string, error) { return []string{"s3cret"}, nil },
	})

	event := `{"EventName":"s3:ObjectCreated:Put","Records":[{"eventName":"s3:ObjectCreated:Put",` +
		`"s3":{"bucket":{"name":"my-site"},"object":{"key":"docs%2Fa+b.html","eTag":"e1","sequencer":"17A8F3B5F1C6E0A8"}}}]}`
	req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(event))
	req.Header.Set("Authorization", "Bearer s3cret") // MinIO's auth_token
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body)
	fmt.Println("depth", inbox.Depth())
	// Output:
	// 202 {"id":1}
	// depth 1
}

// A manual purge through a configured target; GET /v1/purges/{id} follows
// it afterwards.
func Example_purge() {
	dir, _ := os.MkdirTemp("", "httpapi")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "offload.db"), 0o600, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	inbox, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		panic(err)
	}
	defer inbox.Close() // before the database: it moves what its log holds there
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dry, err := dryrun.New(dryrun.Options{Name: "dry-run", Logger: quiet})
	if err != nil {
		panic(err)
	}
	p, err := pipeline.New(pipeline.Options{Ledger: ledger.NewMemory(), Purgers: map[string]purge.Purger{"dry-run": dry}})
	if err != nil {
		panic(err)
	}
	h := httpapi.New(httpapi.Options{Inbox: inbox, Pipeline: p}) // no tokens: loopback callers only

	req := httptest.NewRequest(http.MethodPost, "/v1/purges", strings.NewReader(`{"target":"dry-run","urls":["https://www.example.com/docs/"]}`))
	req.RemoteAddr = "127.0.0.1:50000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		State string
		Items int
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	fmt.Println(rec.Code, out.State, out.Items, strings.HasPrefix(rec.Header().Get("Location"), "/v1/purges/"))
	// Output:
	// 200 done 1 true
}
