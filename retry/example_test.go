package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/offload-dev/offload/retry"
)

// An operation marks what is safe to retry; Do retries exactly that, with
// backoff, waiting at least as long as the server asked.
func ExamplePolicy_Do() {
	p := retry.Policy{
		Initial:     100 * time.Millisecond,
		MaxAttempts: 5,
		// Sleep is set only so that the example does not wait; leave it
		// nil to wait on a timer.
		Sleep: func(ctx context.Context, d time.Duration) error {
			if d >= time.Second {
				fmt.Println("  wait", d, "as asked")
			} else {
				fmt.Println("  wait a backoff of at most", 2*100*time.Millisecond)
			}
			return ctx.Err()
		},
	}
	res, err := p.Do(context.Background(), func(ctx context.Context, attempt int) error {
		switch attempt {
		case 1:
			fmt.Println("attempt 1: throttled, retry after 2s")
			return retry.After(errors.New("HTTP 429"), 2*time.Second)
		case 2:
			fmt.Println("attempt 2: unavailable")
			return retry.Retryable(errors.New("HTTP 503"))
		}
		fmt.Println("attempt 3: done")
		return nil
	})
	fmt.Println(res.Attempts, "attempts,", err)

	// An error not marked retryable ends Do at once.
	res, err = p.Do(context.Background(), func(ctx context.Context, attempt int) error {
		return errors.New("HTTP 400: bad path")
	})
	fmt.Println(res.Attempts, "attempt,", err)
	// Output:
	// attempt 1: throttled, retry after 2s
	//   wait 2s as asked
	// attempt 2: unavailable
	//   wait a backoff of at most 200ms
	// attempt 3: done
	// 3 attempts, <nil>
	// 1 attempt, HTTP 400: bad path
}

// HTTPStatus marks an HTTP answer's error for Do: throttling and server
// errors are retried (after Retry-After, if sent), refusals are not.
func ExampleHTTPStatus() {
	for _, status := range []int{200, 429, 503, 501, 400} {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		if status == 429 {
			resp.Header.Set("Retry-After", "5")
		}
		err := retry.HTTPStatus(resp, nil)
		var re *retry.Error
		switch {
		case err == nil:
			fmt.Println(status, "ok")
		case errors.As(err, &re):
			fmt.Println(status, "retry after", re.After)
		default:
			fmt.Println(status, "final:", err)
		}
	}
	// Output:
	// 200 ok
	// 429 retry after 5s
	// 503 retry after 0s
	// 501 final: HTTP 501
	// 400 final: HTTP 400
}
