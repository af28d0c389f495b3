package s3cache_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/s3cache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// An object written to a file under /tmp, downloaded again only when it
// changed: an unchanged object costs one request and no body.
func ExampleClient_File() {
	moto := awstest.MustSharedMoto()
	_ = moto.Reset()
	api := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	_, _ = api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("models")})
	_, _ = api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String("v1/model.bin"), Body: strings.NewReader("weights")})
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	clock := fakeclock.New() // a real function leaves Clock unset
	c, err := cache.New(cache.Options{Clock: clock})
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

	clock.Advance(time.Minute) // expired: a conditional GET finds it unchanged
	_, _ = model.Get(ctx)
	st := model.Stats()
	fmt.Println("fetches:", st.Refreshes, "unchanged:", st.Unchanged)
	// Output:
	// /model.bin weights
	// fetches: 2 unchanged: 1
}
