package fastly_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/fastly"
	"github.com/offload-dev/offload/retry"
)

// TokenFunc is asked for the token on every request: a token changed
// between two purges is the one the second sends.
func TestTokenFunc(t *testing.T) {
	f := newFake(t, nil)
	var mu sync.Mutex
	token, calls := f.token, 0
	c, err := fastly.New(fastly.Options{APIURL: f.URL, Retry: retry.Policy{MaxAttempts: 1}, TokenFunc: func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return token, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		token, want string
	}{{f.token, ""}, {"revoked-token", "401"}, {f.token, ""}} {
		mu.Lock()
		token = step.token
		mu.Unlock()
		_, err := c.Purge(context.Background(), purge.Request{Items: purge.URLs("https://www.example.com/a.html", "https://www.example.com/b.html")})
		if (step.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), step.want)) {
			t.Errorf("purge %d: got %v, want %q", i, err, step.want)
		}
		if err != nil && strings.Contains(err.Error(), step.token) {
			t.Errorf("purge %d: the error quotes the token: %v", i, err)
		}
	}
	if calls != 6 {
		t.Errorf("TokenFunc calls: got %d, want 6 (one per request)", calls)
	}
}
