package akamai_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
	"github.com/offload-dev/offload/retry"
)

// ConfigFunc is asked for the credential on every request: a credential
// changed between two purges is the one the second signs with.
func TestConfigFunc(t *testing.T) {
	f := newServer(t)
	host := strings.TrimPrefix(f.URL, "https://")
	good := &edgegrid.Config{Host: host, ClientToken: clientToken, ClientSecret: clientSecret, AccessToken: accessToken}
	revoked := &edgegrid.Config{Host: host, ClientToken: clientToken, ClientSecret: "cmV2b2tlZC1yZXZva2VkLXJldm9rZWQtcmV2b2tlZA==", AccessToken: accessToken}
	var mu sync.Mutex
	current, calls := good, 0
	c := newClient(t, f, func(o *akamai.Options) {
		o.Config, o.Retry = nil, retry.Policy{MaxAttempts: 1}
		o.ConfigFunc = func(context.Context) (*edgegrid.Config, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return current, nil
		}
	})
	for i, step := range []struct {
		cfg  *edgegrid.Config
		want string
	}{{good, ""}, {revoked, "HTTP 401"}, {good, ""}} {
		mu.Lock()
		current = step.cfg
		mu.Unlock()
		_, err := c.Purge(context.Background(), purge.Request{Items: urls(3)})
		if (step.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), step.want)) {
			t.Errorf("purge %d: got %v, want %q", i, err, step.want)
		}
	}
	if calls != 4 { // one in New, then one per request
		t.Errorf("ConfigFunc calls: got %d, want 4", calls)
	}

	// A credential that cannot sign fails the purge, without its secret.
	mu.Lock()
	current = &edgegrid.Config{Host: host, ClientSecret: clientSecret}
	mu.Unlock()
	_, err := c.Purge(context.Background(), purge.Request{Items: urls(1)})
	if err == nil || !strings.Contains(err.Error(), "needs host, client_token") || strings.Contains(err.Error(), clientSecret) {
		t.Errorf("incomplete credential: got %v, want it refused without the secret", err)
	}
	if _, err := akamai.New(akamai.Options{Config: good, ConfigFunc: func(context.Context) (*edgegrid.Config, error) { return good, nil }}); !errors.Is(err, akamai.ErrConfig) {
		t.Errorf("Config and ConfigFunc: got %v, want ErrConfig", err)
	}
}
