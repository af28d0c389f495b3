package secretcache_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/internal/awstest"
)

// exampleConfig stands in for config.LoadDefaultConfig: an aws.Config
// pointed at the test moto server, holding the given string secrets.
func exampleConfig(secrets ...string) aws.Config {
	moto := awstest.MustSharedMoto()
	if err := moto.Reset(); err != nil {
		log.Fatal(err)
	}
	cfg := moto.Config()
	api := secretsmanager.NewFromConfig(cfg)
	for i := 0; i+1 < len(secrets); i += 2 {
		if _, err := api.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String(secrets[i]), SecretString: aws.String(secrets[i+1]),
		}); err != nil {
			log.Fatal(err)
		}
	}
	return cfg
}

// A secret, as stored, and one field of a JSON secret.
func Example() {
	cfg := exampleConfig(
		"prod/api-key", "k-123",
		"prod/rds", `{"username":"app","password":"p@ss"}`,
	)
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
	if err := c.Load(context.Background(), apiKey, password); err != nil {
		log.Fatal(err)
	}
	k, _ := apiKey.Get(context.Background())
	p, _ := password.Get(context.Background())
	fmt.Println(k, p)
	// Output: k-123 p@ss
}
