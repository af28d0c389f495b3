package cache_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/offload-dev/offload/cache"
)

// A custom loader: any data a function wants to keep across invocations,
// refreshed after its max age.
func ExampleFunc() {
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	loads := 0
	routes := cache.MustAdd(c, cache.Func("routes", func(ctx context.Context) (map[string]string, error) {
		loads++ // an HTTP call, a database query, a file read...
		return map[string]string{"/old": "/new"}, nil
	}), cache.MaxAge(10*time.Minute))

	for range 3 {
		m, err := routes.Get(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m["/old"])
	}
	fmt.Println("loads:", loads)
	// Output:
	// /new
	// /new
	// /new
	// loads: 1
}

// Each entry is added once: adding the same key again returns the same
// entry. Entries are keyed by source and full name, so "/prod/app/password"
// and "/dev/app/password" are two entries, both named "password" by
// default. A mistake is an error from Add, not a panic at cold start.
func ExampleAdd() {
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	load := func(context.Context) (string, error) { return "s3cr3t", nil }
	prod, err := cache.Add(c, cache.Func("/prod/app/password", load))
	if err != nil {
		log.Fatal(err)
	}
	again, _ := cache.Add(c, cache.Func("/prod/app/password", load))
	fmt.Println(again == prod)

	dev, err := cache.Add(c, cache.Func("/dev/app/password", load))
	fmt.Println(prod.Name(), dev.Name(), err)

	_, err = cache.Add(c, cache.Func("/prod/app/password", func(context.Context) (int, error) { return 0, nil }))
	fmt.Println(err)
	// Output:
	// true
	// password password <nil>
	// cache: invalid entry: func:/prod/app/password is already added as a string entry, not int
}

// A value whose name is known only at request time, as Powertools'
// get_parameter(name): repeated names share one entry, kept in a store
// bounded by Options.MaxFetchEntries and Options.MaxFetchBytes.
func ExampleFetch() {
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	loads := 0
	plan := func(tenant string) cache.Spec[string] {
		return cache.Func("plans/"+tenant, func(context.Context) (string, error) {
			loads++ // a database query, an HTTP call...
			return tenant + ": gold", nil
		})
	}
	for _, tenant := range []string{"acme", "globex", "acme", "acme"} {
		p, err := cache.Fetch(context.Background(), c, plan(tenant), cache.MaxAge(5*time.Minute))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p)
	}
	fmt.Println("loads:", loads)
	// Output:
	// acme: gold
	// globex: gold
	// acme: gold
	// acme: gold
	// loads: 2
}

// The values of every entry for one request: fetched together when any is
// due, the same for the whole request. lambdacache does this for a Lambda
// handler; here, an HTTP handler could.
func ExampleCache_NewContext() {
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	greeting := cache.MustAdd(c, cache.Func("greeting", func(context.Context) (string, error) { return "hello", nil }))
	type Flags struct{ Beta bool }
	flags := cache.MustAdd(c, cache.JSON[Flags](cache.Func("flags", func(context.Context) (string, error) {
		return `{"Beta": true}`, nil
	})))

	ctx, err := c.NewContext(context.Background())
	if err != nil {
		log.Fatal(err) // an entry has no value to give
	}
	g, _ := greeting.From(ctx)
	f, _ := flags.From(ctx)
	fmt.Println(g, f.Beta)
	// Output: hello true
}

// A handler that knows an entry only by its short name.
func ExampleLookup() {
	c, err := cache.New(cache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	value := func(v string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return v, nil }
	}
	cache.MustAdd(c, cache.Func("/prod/app/region", value("eu-west-1")))
	cache.MustAdd(c, cache.Func("/prod/app/password", value("s3cr3t")))
	cache.MustAdd(c, cache.Func("/dev/app/password", value("hunter2")))

	region, err := cache.Lookup[string](c, "region")
	if err != nil {
		log.Fatal(err)
	}
	v, _ := region.Get(context.Background())
	fmt.Println(v)
	_, err = cache.Lookup[int](c, "region")
	fmt.Println(err)
	_, err = cache.Lookup[string](c, "password")
	fmt.Println(err)
	// Output:
	// eu-west-1
	// cache: entry "region" (func:/prod/app/region) holds string, not int
	// cache: short name "password" is ambiguous: func:/prod/app/password and func:/dev/app/password; give one a cache.Name
}

// A bounded store for per-user data, least recently used out first.
func ExampleStore() {
	sessions := cache.NewStore(cache.StoreOptions[string, string]{MaxEntries: 2, TTL: 30 * time.Minute})
	sessions.Set("u1", "alice")
	sessions.Set("u2", "bob")
	sessions.Get("u1")
	sessions.Set("u3", "carol") // u2 was used least recently
	_, ok := sessions.Get("u2")
	fmt.Println(sessions.Len(), ok)
	// Output: 2 false
}
