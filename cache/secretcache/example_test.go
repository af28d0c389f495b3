package secretcache_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
)

// A secret, as stored, and one field of a JSON secret.
func Example() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	secrets, err := secretcache.New(secretcache.Options{Client: secretsmanager.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	apiKey := cache.MustAdd(c, secrets.String("prod/api-key"))
	password := cache.MustAdd(c, secrets.Field("prod/rds", "password"))

	// Both due at once: one BatchGetSecretValue call.
	if err := c.Load(ctx, apiKey, password); err != nil {
		log.Fatal(err)
	}
	k, _ := apiKey.Get(ctx)
	p, _ := password.Get(ctx)
	fmt.Println(k, p)
	// Output: k-123 p@ss
}
