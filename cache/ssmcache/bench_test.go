package ssmcache_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/internal/awstest"
)

// The API calls it takes to refresh 25 parameters that are due together
// (target: 3), against moto through the real SDK client. lambda-cache
// stacked 25 times makes 25.
func BenchmarkRefresh25Parameters(b *testing.B) {
	moto := awstest.SharedMoto(b)
	if err := moto.Reset(); err != nil {
		b.Fatal(err)
	}
	counter := awstest.NewCounter()
	api := ssm.NewFromConfig(moto.Config(counter))
	c, err := cache.New(cache.Options{})
	if err != nil {
		b.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: api})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 25 {
		name := fmt.Sprintf("/bench/app/p%02d", i)
		if _, err := api.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: types.ParameterTypeSecureString}); err != nil {
			b.Fatal(err)
		}
		cache.MustAdd(c, params.String(name))
	}
	counter.Reset()
	for b.Loop() {
		if err := c.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(counter.Count())/float64(b.N), "calls/op")
}
