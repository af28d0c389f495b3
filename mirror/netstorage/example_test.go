package netstorage_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
)

// Upload an object under /123456/site, then delete it. Host is the storage
// group's connection hostname ("example-nsu.akamaihd.net") and Key the
// upload account's HTTP API key, here both from the environment.
func Example() {
	ctx := context.Background()
	c, err := netstorage.New(netstorage.Options{
		Host:   os.Getenv("NETSTORAGE_HOST"),
		CPCode: "123456", Dir: "/site",
		KeyName: "uploader", Key: os.Getenv("NETSTORAGE_KEY"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := strings.NewReader("<h1>hello</h1>")
	fmt.Println("put:", c.Put(ctx, mirror.Object{Key: "docs/index.html", Size: body.Size()}, body))

	// A key that would leave the directory is refused before any request.
	fmt.Println(c.Put(ctx, mirror.Object{Key: "../escape", Size: 1}, strings.NewReader("x")))
	fmt.Println("delete:", c.Delete(ctx, "docs/index.html"))
	// Output:
	// put: <nil>
	// netstorage: put: key escapes the mirror's directory: "../escape"
	// delete: <nil>
}
