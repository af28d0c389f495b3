package cache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/offload-dev/offload/cache"
)

// A custom loader: any data a function wants to keep across invocations,
// refreshed after its max age.
func ExampleFunc() {
	c := cache.New(cache.Options{})
	loads := 0
	routes := cache.Add(c, cache.Func("routes", func(ctx context.Context) (map[string]string, error) {
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

// The handler wrapper: entries are loaded, batched, before the handler runs
// and reach it through its context.
func ExampleWrap() {
	c := cache.New(cache.Options{})
	type Flags struct{ Beta bool }
	flags := cache.Add(c, cache.JSON[Flags](cache.Func("flags", func(context.Context) (string, error) {
		return `{"Beta": true}`, nil
	})))

	type Request struct{ User string }
	handler := cache.Wrap(c, func(ctx context.Context, req Request) (string, error) {
		f, _ := flags.From(ctx)
		return fmt.Sprintf("%s beta=%v", req.User, f.Beta), nil
	}, flags)

	// lambda.Start(handler) in a function; here, one invocation by hand.
	out, err := handler.Invoke(context.Background(), []byte(`{"User":"ana"}`))
	if err != nil {
		log.Fatal(err)
	}
	var s string
	_ = json.Unmarshal(out, &s)
	fmt.Println(s)
	// Output: ana beta=true
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
