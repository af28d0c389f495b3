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

func ExampleEncodePath() {
	for _, p := range []string{"docs/a b.html", "/docs/a%20b.html", "/café/", "/img/*", "/a*b"} {
		enc, _ := cloudfront.EncodePath(p)
		fmt.Println(enc)
	}
	// Output:
	// /docs/a%20b.html
	// /docs/a%20b.html
	// /caf%C3%A9/
	// /img/*
	// /a%2Ab
}

func ExampleNew() {
	ctx := context.Background()
	var cfg aws.Config // from config.LoadDefaultConfig(ctx)
	cf, err := cloudfront.New(sdk.NewFromConfig(cfg), cloudfront.Options{DistributionID: "E8F6HK73EP0LT"})
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
