package purge_test

import (
	"fmt"

	"github.com/offload-dev/offload/purge"
)

func ExampleJoinURL() {
	fmt.Println(purge.JoinURL("https://www.example.com/", "/docs/a%20b.html"))
	fmt.Println(purge.JoinURL("https://www.example.com/site", "docs/"))
	fmt.Println(purge.JoinURL("https://www.example.com", "/a//b.html"))
	// Output:
	// https://www.example.com/docs/a%20b.html
	// https://www.example.com/site/docs/
	// https://www.example.com/a//b.html
}
