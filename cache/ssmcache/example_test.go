package ssmcache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/internal/awstest"
)

// exampleConfig stands in for config.LoadDefaultConfig in the examples: an
// aws.Config pointed at the test moto server, holding the given parameters,
// and a counter of the API calls made through it.
func exampleConfig(params ...string) (aws.Config, *awstest.Counter) {
	moto := awstest.MustSharedMoto()
	if err := moto.Reset(); err != nil {
		log.Fatal(err)
	}
	counter := awstest.NewCounter()
	cfg := moto.Config(counter)
	api := ssm.NewFromConfig(cfg)
	for i := 0; i+1 < len(params); i += 2 {
		_, err := api.PutParameter(context.Background(), &ssm.PutParameterInput{
			Name: aws.String(params[i]), Value: aws.String(params[i+1]), Type: types.ParameterTypeString, Overwrite: aws.Bool(true),
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	counter.Reset()
	return cfg, counter
}

// One parameter, cached for the default 60 seconds.
func Example() {
	cfg, _ := exampleConfig("/production/app/var", "hello")

	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	v := cache.MustAdd(c, params.String("/production/app/var"))

	s, err := v.Get(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Name(), "=", s)
	// Output: var = hello
}

// A max age of five minutes instead of the default.
func Example_maxAge() {
	cfg, calls := exampleConfig("/production/app/var", "hello")
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	v := cache.MustAdd(c, params.String("/production/app/var"), cache.MaxAge(5*time.Minute))

	for range 3 {
		s, _ := v.Get(context.Background())
		fmt.Println(s)
	}
	fmt.Println("GetParameters calls:", calls.Count("GetParameters"))
	// Output:
	// hello
	// hello
	// hello
	// GetParameters calls: 1
}

// An entry found by a short name of its own; the cache key is still the
// full name.
func Example_name() {
	cfg, _ := exampleConfig("/production/app/var", "hello")
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	cache.MustAdd(c, params.String("/production/app/var"), cache.Name("greeting"))

	greeting, err := cache.Lookup[string](c, "greeting")
	if err != nil {
		log.Fatal(err)
	}
	s, _ := greeting.Get(context.Background())
	fmt.Println(s, greeting.Key())
	// Output: hello ssm:/production/app/var
}

// A parameter whose name is known only at request time, with a max age of
// its own: Powertools' get_parameter(name, max_age=300). Repeated names
// share one entry, and due ones are fetched together.
func Example_fetch() {
	cfg, calls := exampleConfig("/tenants/acme/plan", "gold", "/tenants/globex/plan", "silver")
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, tenant := range []string{"acme", "globex", "acme"} {
		plan, err := cache.Fetch(ctx, c, params.String("/tenants/"+tenant+"/plan"), cache.MaxAge(5*time.Minute))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tenant, plan)
	}
	fmt.Println("GetParameters calls:", calls.Count("GetParameters"))
	// Output:
	// acme gold
	// globex silver
	// acme gold
	// GetParameters calls: 2
}

// Several parameters in one GetParameters call, as a map keyed by each
// name's last segment.
func ExampleClient_Map() {
	cfg, calls := exampleConfig("/production/app/db_host", "db.internal", "/production/app/db_user", "app")
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	db := cache.MustAdd(c, params.Map([]string{"/production/app/db_host", "/production/app/db_user"}))

	m, err := db.Get(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(db.Name(), m["db_host"], m["db_user"], "calls:", calls.Count())
	// Output: app db.internal app calls: 1
}

// Stacking: every entry a handler needs is loaded before it runs, in as
// few calls as SSM allows. lambda-cache makes one call per decorator.
func Example_stacking() {
	cfg, calls := exampleConfig("/prod/a", "1", "/prod/b", "2", "/prod/c", "3")
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	a := cache.MustAdd(c, params.String("/prod/a"))
	b := cache.MustAdd(c, params.String("/prod/b"))
	cc := cache.MustAdd(c, params.String("/prod/c"))

	handler := lambdacache.Wrap(c, func(ctx context.Context, _ json.RawMessage) (string, error) {
		av, _ := a.From(ctx)
		bv, _ := b.From(ctx)
		cv, _ := cc.From(ctx)
		return av + bv + cv, nil
	})
	// lambda.Start(handler) in a function; here, three invocations.
	for range 3 {
		out, _ := handler.Invoke(context.Background(), []byte(`{}`))
		fmt.Println(string(out))
	}
	fmt.Println("GetParameters calls:", calls.Count("GetParameters"))
	// Output:
	// "123"
	// "123"
	// "123"
	// GetParameters calls: 1
}

// A fresh value now, whatever its age: lambda-cache's get_entry with
// max_age_in_seconds=0.
func ExampleClient_String_refresh() {
	cfg, _ := exampleConfig("/production/app/var", "old")
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	api := ssm.NewFromConfig(cfg)
	params, err := ssmcache.New(ssmcache.Options{Client: api})
	if err != nil {
		log.Fatal(err)
	}
	v := cache.MustAdd(c, params.String("/production/app/var"), cache.MaxAge(time.Hour))
	ctx := context.Background()

	s, _ := v.Get(ctx)
	fmt.Println(s)
	_, _ = api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/production/app/var"), Value: aws.String("new"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	s, _ = v.Get(ctx)
	fmt.Println(s)
	s, _ = v.Refresh(ctx)
	fmt.Println(s)
	// Output:
	// old
	// old
	// new
}
