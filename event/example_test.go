package event_test

import (
	"fmt"

	"github.com/offload-dev/offload/event"
)

// An S3 event notification, as S3 sends it to Lambda: the key arrives
// URL-encoded ("+" for a space) and comes out decoded.
func ExampleDecode() {
	body := `{"Records": [
	  {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2026-11-20T10:00:00Z",
	   "s3": {"bucket": {"name": "my-site"},
	          "object": {"key": "docs/a+b%2Bc.html", "size": 1024, "eTag": "0123456789abcdef", "sequencer": "0A1B2C3D4E5F678901"}}},
	  {"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "eventTime": "2026-11-20T10:00:01Z",
	   "s3": {"bucket": {"name": "my-site"}, "object": {"key": "old.html", "sequencer": "0A1B2C3D4E5F678902"}}},
	  {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "my-site"}}}
	]}`
	for _, c := range event.Decode([]byte(body)) {
		if c.Kind == event.KindInvalid {
			fmt.Printf("%s: %s\n", c.Kind, c.Err)
			continue
		}
		fmt.Printf("%s s3://%s/%s etag=%q seq=%s\n", c.Kind, c.Bucket, c.Key, c.ETag, c.Sequencer)
	}
	// Output:
	// put s3://my-site/docs/a b+c.html etag="0123456789abcdef" seq=0A1B2C3D4E5F678901
	// remove s3://my-site/old.html etag="" seq=0A1B2C3D4E5F678902
	// invalid: Records[2].s3.object.key is missing
}
