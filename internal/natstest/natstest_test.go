package natstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/internal/natstest"
)

// A stream written before a kill -9 is there after a restart on the same
// store, and a client that stayed connected reconnects by itself.
func TestKillRestartKeepsStream(t *testing.T) {
	s := natstest.Start(t, natstest.Options{})
	nc, err := nats.Connect(s.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t", []byte("before")); err != nil {
		t.Fatal(err)
	}

	s.Kill()
	down, cancelDown := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = js.Publish(down, "t", []byte("during"), jetstream.WithRetryAttempts(0))
	cancelDown()
	if err == nil {
		t.Fatal("publish while the server is down: got no error, want one")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	var ack *jetstream.PubAck
	for ack == nil {
		ack, err = js.Publish(ctx, "t", []byte("after"))
		if err != nil && ctx.Err() != nil {
			t.Fatalf("publish after the restart: %v", err)
		}
	}
	// The publish during the outage failed for its caller, but the client
	// had buffered it and sent it once reconnected: 2 or 3.
	if ack.Sequence < 2 {
		t.Errorf("sequence after the restart: got %d, want 2 or more", ack.Sequence)
	}
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(ctx, 1)
	if err != nil || string(m.Data) != "before" {
		t.Errorf("message 1 after the restart: got %v, %v; want \"before\"", m, err)
	}
}
