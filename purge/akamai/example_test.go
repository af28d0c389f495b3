package akamai_test

import (
	"context"
	"fmt"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
)

// Invalidate a path and a URL on the production network. The credential
// comes from the default section of ~/.edgerc (Options.EdgeRC and
// Options.Section choose another; Options.Env reads AKAMAI_* variables);
// BaseURL makes path items into URLs.
func Example() {
	c, err := akamai.New(akamai.Options{BaseURL: "https://www.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Purge(context.Background(), purge.Request{Items: []purge.Item{
		{Kind: purge.KindPath, Value: "/docs/index.html"},
		{Kind: purge.KindURL, Value: "https://www.example.com/docs/"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	call := res.Calls[0]
	fmt.Println("requests:", len(res.Calls), "objects:", call.Items, "estimated:", call.Estimated)
	st, _ := c.Status(context.Background(), call.ID)
	fmt.Println("state:", st.State)
	// Output:
	// requests: 1 objects: 2 estimated: 5s
	// state: InProgress
}

func ExampleClient_Limits() {
	c, err := akamai.New(akamai.Options{Config: &edgegrid.Config{
		Host: "akab-xxxx.luna.akamaiapis.net", ClientToken: "ct", ClientSecret: "cs", AccessToken: "at"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	l := c.Limits()
	fmt.Println(l.BodyBytes, l.ItemsPerCall[purge.KindURL], l.ItemsPerCall[purge.KindCPCode], l.ItemsPerCall[purge.KindTag])
	// Output: 50000 10000 300 5000
}
