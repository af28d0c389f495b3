package dynamocache_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/dynamocache"
)

// seedExamples creates the examples' tables in moto.
func seedExamples() error {
	db := dynamodb.NewFromConfig(moto.Config())
	ctx := context.Background()
	if err := createTable(db, "parameters", "id", "", ""); err != nil {
		return err
	}
	if err := createTable(db, "users", "pk", "", ""); err != nil {
		return err
	}
	items := map[string][]map[string]types.AttributeValue{
		"parameters": {
			{"id": s("rate-limit"), "value": s("100")},
			{"id": s("limits"), "value": s(`{"rps":40,"burst":80}`)},
		},
		"users": {
			{"pk": s("user#42"), "name": s("Ada"), "plan": s("pro"), "seats": n("5")},
		},
	}
	for table, list := range items {
		for _, it := range list {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
				return err
			}
		}
	}
	return nil
}

// exampleDB is a DynamoDB client for moto. A function builds it with
// dynamodb.NewFromConfig(cfg), where cfg comes from config.LoadDefaultConfig.
func exampleDB() *dynamodb.Client { return dynamodb.NewFromConfig(moto.Config()) }

// A value kept as Powertools' DynamoDBProvider keeps parameters: the item
// whose "id" is the name, attribute "value".
func ExampleClient_Value() {
	client, err := dynamocache.New(dynamocache.Options{Client: exampleDB()})
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
	client, err := dynamocache.New(dynamocache.Options{Client: exampleDB()})
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
	client, err := dynamocache.New(dynamocache.Options{Client: exampleDB()})
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
	client, err := dynamocache.New(dynamocache.Options{Client: exampleDB()})
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
