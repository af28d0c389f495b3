package s3cache_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/s3cache"
)

// An object written to a file under /tmp, downloaded again only when it
// changed: an unchanged object costs one request and no body.
func ExampleClient_File() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// Path-style addressing for the examples' S3-compatible endpoint; on
	// AWS, s3.NewFromConfig(cfg) is enough.
	api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	objects, err := s3cache.New(s3cache.Options{Client: api, Dir: dir}) // default Dir: /tmp
	if err != nil {
		log.Fatal(err)
	}
	model := cache.MustAdd(c, objects.File("s3://models/v1/model.bin", "model.bin"), cache.MaxAge(time.Minute))

	path, err := model.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Println(strings.TrimPrefix(path, dir), string(b))

	// Fetched again now, as when the minute is up: a conditional GET finds
	// it unchanged.
	if _, err := model.Refresh(ctx); err != nil {
		log.Fatal(err)
	}
	st := model.Stats()
	fmt.Println("fetches:", st.Refreshes, "unchanged:", st.Unchanged)
	// Output:
	// /model.bin weights
	// fetches: 2 unchanged: 1
}
