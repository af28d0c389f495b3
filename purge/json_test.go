package purge_test

import (
	"encoding/json"
	"testing"

	"github.com/offload-dev/offload/purge"
)

// A result's lists are JSON arrays even when the provider sent no call.
func TestResultJSONHasNoNull(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"zero", purge.Result{}, `{"provider":"","calls":[],"outcomes":[]}`},
		{"pointer, no calls", &purge.Result{Provider: "varnish", Outcomes: []purge.Outcome{{Item: purge.URLs("u")[0], OK: true}}},
			`{"provider":"varnish","calls":[],"outcomes":[{"item":{"kind":"url","value":"u"},"ok":true}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}
