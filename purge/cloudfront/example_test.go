package cloudfront_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/cloudfront"
)

// The invalidation paths of objects by their keys, as stored: a literal
// "%" or "*" in a key is encoded, never read as an escape or a wildcard.
func ExampleEncodePath() {
	for _, key := range []string{"docs/a b.html", "docs/a%20b.html", "café/", "img/a*b.png", "what?.html"} {
		fmt.Println(cloudfront.EncodePath(key))
	}
	// Output:
	// /docs/a%20b.html
	// /docs/a%2520b.html
	// /caf%C3%A9/
	// /img/a%2Ab.png
	// /what%3F.html
}

func ExampleNew() {
	ctx := context.Background()
	var cfg aws.Config // from config.LoadDefaultConfig(ctx)
	cf, err := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(cfg), DistributionID: "E8F6HK73EP0LT"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := cf.Purge(ctx, purge.Request{Items: purge.Paths("/", "/index.html", "/img/*")})
	if err != nil {
		log.Fatal(err) // res.Outcomes say which paths failed and why
	}
	for _, id := range res.IDs() {
		if _, err := cf.Wait(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
}
