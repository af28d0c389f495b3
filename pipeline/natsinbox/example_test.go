package natsinbox_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/pipeline/natsinbox"
)

func ExampleNew() {
	ctx := context.Background()
	nc, err := nats.Connect(os.Getenv("EXAMPLE_NATS_URL")) // nats://127.0.0.1:4222
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)

	in, err := natsinbox.New(natsinbox.Options{JetStream: js, Stream: "EXAMPLE", Subject: "example.events",
		DeadLetterStream: "EXAMPLE_DEAD", DeadLetterSubject: "example.dead"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := in.Provision(ctx); err != nil { // the streams and the shared consumer
		fmt.Println(err)
		return
	}
	body := []byte(`{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{"key":"index.html"}}}]}`)
	id, _ := in.Add(ctx, body)
	again, _ := in.Add(ctx, body) // a sender's retry: stored once
	st, _ := in.Stats(ctx, 0)
	fmt.Println(id == again, st.Driver, st.Depth, st.Pending)
	// Output:
	// true nats 1 1
}
