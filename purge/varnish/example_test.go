package varnish_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/varnish"
)

func Example() {
	cache := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.RequestURI(), "Host:", r.Host)
		w.Header().Set("X-Varnish", "32770")
	}))
	defer cache.Close()

	c, _ := varnish.New(varnish.Options{Endpoints: []string{cache.URL}, Host: "www.example.com"})
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths("/docs/a%20b.html")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Outcomes[0].OK)
	// Output:
	// PURGE /docs/a%20b.html Host: www.example.com
	// true
}
