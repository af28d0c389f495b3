package secretcache_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/internal/awstest"
)

// The API calls it takes to refresh 25 secrets that are due together
// (target: 2), against moto through the real SDK client.
func BenchmarkRefresh25Secrets(b *testing.B) {
	moto := awstest.SharedMoto(b)
	if err := moto.Reset(); err != nil {
		b.Fatal(err)
	}
	counter := awstest.NewCounter()
	api := secretsmanager.NewFromConfig(moto.Config(counter))
	c, err := cache.New(cache.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sm, err := secretcache.New(secretcache.Options{Client: api})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 25 {
		name := fmt.Sprintf("bench/s%02d", i)
		if _, err := api.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}); err != nil {
			b.Fatal(err)
		}
		cache.MustAdd(c, sm.String(name))
	}
	counter.Reset()
	for b.Loop() {
		if err := c.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(counter.Count())/float64(b.N), "calls/op")
}
