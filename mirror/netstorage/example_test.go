package netstorage_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
)

// Upload an object under /123456/site, then delete it. Here NetStorage is a
// local server that checks signatures as NetStorage does; in use, leave
// APIURL out and set Host to the storage group's connection hostname.
func Example() {
	srv := akamaitest.NewNetStorage("123456", "uploader", "the-upload-key")
	defer srv.Close()

	c, err := netstorage.New(netstorage.Options{
		Host: "example-nsu.akamaihd.net", APIURL: srv.URL,
		CPCode: "123456", Dir: "/site", KeyName: "uploader", Key: "the-upload-key",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := strings.NewReader("<h1>hello</h1>")
	if err := c.Put(context.Background(), mirror.Object{Key: "docs/index.html", Size: body.Size()}, body); err != nil {
		fmt.Println(err)
		return
	}
	f, _ := srv.File("/123456/site/docs/index.html")
	fmt.Println("uploaded", f.Size, "bytes")

	err = c.Put(context.Background(), mirror.Object{Key: "../escape", Size: 1}, strings.NewReader("x"))
	fmt.Println(err)
	fmt.Println(c.Delete(context.Background(), "docs/index.html"))
	// Output:
	// uploaded 14 bytes
	// netstorage: put: key escapes the mirror's directory: "../escape"
	// <nil>
}
