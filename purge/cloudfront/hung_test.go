package cloudfront_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/cloudfront"
	"github.com/offload-dev/offload/purge/purgetest"
)

// A CloudFront endpoint that takes the connection and never answers: the
// invalidation fails at its deadline, is not retried, and the next one is
// not sent until a deadline has passed.
func TestHungTimeout(t *testing.T) {
	hang, err := loopback.NewHang()
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	s := purgetest.NewSleeper()
	c, err := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(awstest.Config(hang.URL())),
		DistributionID: "E8F6HK73EP0LT", Retry: s.Policy(), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		res *purge.Result
		err error
	}
	purgeOnce := func(paths ...string) answer {
		done := make(chan answer, 1)
		go func() {
			res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths(paths...)})
			done <- answer{res, err}
		}()
		select {
		case a := <-done:
			return a
		case <-time.After(20 * time.Second):
			t.Fatalf("Purge: no return 20s after its 500ms deadline")
			return answer{}
		}
	}

	first := purgeOnce("/a.html")
	if first.err == nil || !strings.Contains(first.res.Outcomes[0].Err, "cloudfront: create invalidation for E8F6HK73EP0LT: no answer within 500ms") {
		t.Errorf("first purge: got %v, want no answer within 500ms", first.err)
	}
	if got := first.res.Calls[0].Attempts; got != 1 {
		t.Errorf("attempts: got %d, want 1 (not retried)", got)
	}
	second := purgeOnce("/b.html")
	if second.err == nil || !strings.Contains(second.res.Outcomes[0].Err, "not sent: no answer") {
		t.Errorf("second purge: got %v, want not sent", second.err)
	}
	if got := hang.Accepted(); got != 1 {
		t.Errorf("connections: got %d, want 1", got)
	}
	if w := s.Waits(); len(w) != 0 {
		t.Errorf("retry waits: got %v, want none", w)
	}
}
