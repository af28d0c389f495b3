package dynamocache_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/dynamocache"
)

// A value kept as Powertools' DynamoDBProvider keeps parameters: the item
// whose "id" is the name, attribute "value".
func ExampleClient_Value() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := dynamocache.New(dynamocache.Options{Client: dynamodb.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	limit := cache.MustAdd(c, client.Value("parameters", "rate-limit"))

	v, err := limit.Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(limit.Name(), v)
	fmt.Println(limit.Key())
	// Output:
	// rate-limit 100
	// dynamodb:parameters/id="rate-limit" [attr=value]
}

// A JSON value, as Powertools' transform="json".
func ExampleClient_Value_json() {
	type Limits struct {
		RPS   int `json:"rps"`
		Burst int `json:"burst"`
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := dynamocache.New(dynamocache.Options{Client: dynamodb.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	limits := cache.MustAdd(c, cache.JSON[Limits](client.Value("parameters", "limits")))

	l, err := limits.Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.RPS, l.Burst)
	// Output: 40 80
}

// An item decoded into a struct once per fetch.
func ExampleItemAs() {
	type User struct {
		Name  string `dynamodbav:"name"`
		Plan  string `dynamodbav:"plan"`
		Seats int    `dynamodbav:"seats"`
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := dynamocache.New(dynamocache.Options{Client: dynamodb.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	user := cache.MustAdd(c, dynamocache.ItemAs[User](client, "users", dynamocache.StringKey("pk", "user#42")),
		cache.Name("user"))

	u, err := user.Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %+v\n", user.Name(), u)
	// Output: user: {Name:Ada Plan:pro Seats:5}
}

// Entries due together are fetched together, and a missing item is
// reported by table and key.
func ExampleClient_Item() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client, err := dynamocache.New(dynamocache.Options{Client: dynamodb.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ada := cache.MustAdd(c, client.Item("users", dynamocache.StringKey("pk", "user#42")))
	ghost := cache.MustAdd(c, client.Item("users", dynamocache.StringKey("pk", "user#0")))

	err = c.Load(context.Background()) // one call for both
	fmt.Println(errors.Is(err, cache.ErrNotFound))
	fmt.Println(err)
	item, _ := ada.Get(context.Background())
	fmt.Println(item["name"].(*types.AttributeValueMemberS).Value)
	_ = ghost
	// Output:
	// true
	// cache: dynamodb:users/pk="user#0": not found: no item in table users with key pk="user#0"
	// Ada
}
