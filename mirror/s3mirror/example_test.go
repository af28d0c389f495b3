package s3mirror_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/s3mirror"
)

// Mirror an object into another bucket, under a prefix.
func Example() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Path-style addressing for the examples' S3-compatible endpoint; on
	// AWS, s3.NewFromConfig(cfg) is enough.
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })

	m, err := s3mirror.New(s3mirror.Options{Client: client, Bucket: "example-mirror", Prefix: "site/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := strings.NewReader("<h1>hello</h1>")
	obj := mirror.Object{Key: "docs/index.html", Size: body.Size(), ContentType: "text/html"}
	if err := m.Put(ctx, obj, body); err != nil {
		fmt.Println(err)
		return
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("example-mirror"), Key: aws.String("site/docs/index.html")})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	fmt.Println(string(b), aws.ToString(out.ContentType))
	fmt.Println(m.Delete(ctx, "docs/index.html"))
	// Output:
	// <h1>hello</h1> text/html
	// <nil>
}
