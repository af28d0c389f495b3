package netstorage_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
)

// KeyFunc is asked for the key on every request: a key changed between
// two uploads is the one the second signs with.
func TestKeyFunc(t *testing.T) {
	s := newServer(t)
	var mu sync.Mutex
	current, calls := key, 0
	c, _ := newClient(t, s, func(o *netstorage.Options) {
		o.Key, o.KeyFunc = "", func(context.Context) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return current, nil
		}
		o.Retry.MaxAttempts = 1
	})
	for i, step := range []struct {
		key, want string
	}{{key, ""}, {"NSKEY-revoked", "HTTP 403"}, {key, ""}} {
		mu.Lock()
		current = step.key
		mu.Unlock()
		err := c.Put(context.Background(), mirror.Object{Key: "a.txt", Size: 2}, bytes.NewReader([]byte("hi")))
		if (step.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), step.want)) {
			t.Errorf("upload %d: got %v, want %q", i, err, step.want)
		}
		if err != nil && strings.Contains(err.Error(), step.key) {
			t.Errorf("upload %d: the error quotes the key: %v", i, err)
		}
	}
	if calls != 3 {
		t.Errorf("KeyFunc calls: got %d, want 3", calls)
	}
}
