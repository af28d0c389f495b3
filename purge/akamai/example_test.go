package akamai_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
)

// Invalidate two URLs on the production network. Here the API is a local
// server that checks the EdgeGrid signature as Akamai's does; in use, leave
// Config, APIURL and HTTPClient out and the credential comes from
// ~/.edgerc.
func Example() {
	srv := akamaitest.NewFastPurge(akamaitest.Credentials{ClientToken: "ct", ClientSecret: "cs", AccessToken: "at"})
	defer srv.Close()

	c, err := akamai.New(akamai.Options{
		Config:     &edgegrid.Config{Host: strings.TrimPrefix(srv.URL, "https://"), ClientToken: "ct", ClientSecret: "cs", AccessToken: "at"},
		APIURL:     srv.URL,
		HTTPClient: srv.Client(),
		BaseURL:    "https://www.example.com",
	})
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
