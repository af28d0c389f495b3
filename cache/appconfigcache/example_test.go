package appconfigcache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/appconfigcache"
)

// A JSON configuration, decoded into a struct once per change and served
// from memory for five minutes.
func ExampleClient_Config() {
	type Settings struct {
		Greeting string `json:"greeting"`
		MaxItems int    `json:"maxItems"`
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := appconfigcache.New(appconfigcache.Options{Client: appconfigdata.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	settings := cache.MustAdd(c, cache.JSON[Settings](client.Config("shop", "prod", "settings")), cache.MaxAge(5*time.Minute))

	s, err := settings.Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(settings.Name(), s.Greeting, s.MaxItems)
	// Output: settings hello 25
}

// Feature flags from a feature-flag configuration profile.
func ExampleClient_FeatureFlags() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := appconfigcache.New(appconfigcache.Options{Client: appconfigdata.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	flags := cache.MustAdd(c, client.FeatureFlags("shop", "prod", "flags"))

	f, err := flags.Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("checkout_v2:", f.Enabled("checkout_v2"), f["checkout_v2"].Attributes["rollout"])
	fmt.Println("dark_mode:", f.Enabled("dark_mode"))
	// Output:
	// checkout_v2: true 10
	// dark_mode: false
}

// The configuration with its content type and version label.
func ExampleClient_Document() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := appconfigcache.New(appconfigcache.Options{Client: appconfigdata.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	doc := cache.MustAdd(c, client.Document("shop", "prod", "settings"))

	d, err := doc.Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.ContentType, d.VersionLabel, len(d.Data), "bytes")
	// Output: application/json v1 34 bytes
}

// An application that does not exist fails with cache.ErrNotFound, naming
// the entry.
func ExampleClient_Config_notFound() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := appconfigcache.New(appconfigcache.Options{Client: appconfigdata.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	settings := cache.MustAdd(c, client.Config("no-such-app", "prod", "settings"))

	_, err = settings.Get(context.Background())
	fmt.Println(errors.Is(err, cache.ErrNotFound))
	fmt.Println(settings.Key())
	// Output:
	// true
	// appconfig:no-such-app/prod/settings
}
