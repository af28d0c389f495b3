package ssmcache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/lambdacache"
	"github.com/offload-dev/offload/cache/ssmcache"
)

// One parameter, cached for the default 60 seconds.
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
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	v := cache.MustAdd(c, params.String("/production/app/var"))

	s, err := v.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Name(), "=", s)
	// Output: var = hello
}

// A max age of five minutes instead of the default: one fetch, then reads
// from memory.
func Example_maxAge() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
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
		s, _ := v.Get(ctx)
		fmt.Println(s)
	}
	st := v.Stats()
	fmt.Println("fetched", st.Refreshes, "hits", st.Hits)
	// Output:
	// hello
	// hello
	// hello
	// fetched 1 hits 2
}

// An entry found by a short name of its own; the cache key is still the
// full name.
func Example_name() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
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
	s, _ := greeting.Get(ctx)
	fmt.Println(s, greeting.Key())
	// Output: hello ssm:/production/app/var
}

// A parameter whose name is known only at request time, with a max age of
// its own: Powertools' get_parameter(name, max_age=300). Repeated names
// share one entry, and due ones are fetched together.
func Example_fetch() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	for _, tenant := range []string{"acme", "globex", "acme"} {
		plan, err := cache.Fetch(ctx, c, params.String("/tenants/"+tenant+"/plan"), cache.MaxAge(5*time.Minute))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tenant, plan)
	}
	for _, st := range c.Stats() { // most recently used first
		fmt.Println(st.Key, "fetched", st.Refreshes, "hits", st.Hits)
	}
	// Output:
	// acme gold
	// globex silver
	// acme gold
	// ssm:/tenants/acme/plan fetched 1 hits 1
	// ssm:/tenants/globex/plan fetched 1 hits 0
}

// Several parameters in one GetParameters call, as a map keyed by each
// name's last segment.
func ExampleClient_Map() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	params, err := ssmcache.New(ssmcache.Options{Client: ssm.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	db := cache.MustAdd(c, params.Map([]string{"/production/app/db_host", "/production/app/db_user"}))

	m, err := db.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(db.Name(), m["db_host"], m["db_user"])
	// Output: app db.internal app
}

// Stacking: every entry a handler needs is loaded before it runs, in as
// few calls as SSM allows (here one GetParameters call for the three).
// lambda-cache makes one call per decorator.
func Example_stacking() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
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
		out, _ := handler.Invoke(ctx, []byte(`{}`))
		fmt.Println(string(out))
	}
	for _, st := range c.Stats() {
		fmt.Println(st.Key, "fetched", st.Refreshes)
	}
	// Output:
	// "123"
	// "123"
	// "123"
	// ssm:/prod/a fetched 1
	// ssm:/prod/b fetched 1
	// ssm:/prod/c fetched 1
}

// A fresh value now, whatever its age: lambda-cache's get_entry with
// max_age_in_seconds=0.
func ExampleClient_String_refresh() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	api := ssm.NewFromConfig(cfg)
	params, err := ssmcache.New(ssmcache.Options{Client: api})
	if err != nil {
		log.Fatal(err)
	}
	motd := cache.MustAdd(c, params.String("/production/app/motd"), cache.MaxAge(time.Hour))
	put := func(v string) {
		_, err := api.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String("/production/app/motd"), Value: aws.String(v), Type: types.ParameterTypeString, Overwrite: aws.Bool(true),
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	put("old")
	s, _ := motd.Get(ctx)
	fmt.Println(s)
	put("new")
	s, _ = motd.Get(ctx) // cached for an hour
	fmt.Println(s)
	s, _ = motd.Refresh(ctx)
	fmt.Println(s)
	// Output:
	// old
	// old
	// new
}
