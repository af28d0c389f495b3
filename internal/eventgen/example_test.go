package eventgen_test

import (
	"fmt"
	"os"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/eventgen"
)

// Three messages, the third a redelivery of the second, in the lean form.
func ExampleWriteSQS() {
	o := eventgen.Options{Redeliver: 3, Lean: true}
	eventgen.WriteSQS(os.Stdout, 1, o)
	for _, c := range event.Decode(eventgen.SQS(3, o)) {
		fmt.Println(c.MessageID, c.Kind, c.Key, c.Sequencer)
	}
	// Output:
	// {"Records":[{"messageId":"m-000000","body":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventTime\":\"2026-11-20T10:00:00.000Z\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"my-site\"},\"object\":{\"key\":\"assets/dir00/file+000000.js\",\"size\":1024,\"eTag\":\"00000000000000000000000000000000\",\"sequencer\":\"0065A1000000000000\"}}}]}","eventSource":"aws:sqs"}]}
	// m-000000 put assets/dir00/file 000000.js 0065A1000000000000
	// m-000001 put assets/dir01/file 000001.js 0065A1000000000001
	// m-000002 put assets/dir01/file 000001.js 0065A1000000000001
}
