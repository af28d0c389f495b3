package plan_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/plan"
)

// A plan's lists are JSON arrays even when it has nothing in them: what
// `offload plan` printed as "mirrors": null for a plan without mirrors.
func TestPlanJSONHasNoNull(t *testing.T) {
	cfg := plan.Config{Sites: []plan.Site{{Name: "www", Bucket: "my-site", Targets: []string{"cf"}}},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront"}}}
	tests := []struct {
		name string
		v    any
	}{
		{"a zero plan", plan.Plan{}},
		{"a pointer to a zero plan", &plan.Plan{}},
		{"a test event: nothing to mirror or purge", plan.Make(cfg, []event.Change{{Kind: event.KindTest}}, nil)},
		{"no changes at all", plan.Make(cfg, nil, nil)},
		{"zero stats", plan.Stats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "null") {
				t.Errorf("got %s, want no null", b)
			}
			if _, ok := tt.v.(plan.Stats); ok {
				return
			}
			for _, want := range []string{`"changes":[`, `"mirrors":[`, `"purges":[`, `"commits":[`, `"reasons":{`} {
				if !strings.Contains(string(b), want) {
					t.Errorf("got %s, want it to hold %s", b, want)
				}
			}
		})
	}
}

// The indented form `offload plan` prints is the same JSON.
func TestPlanJSONIndented(t *testing.T) {
	got := string(plan.Make(plan.Config{}, nil, nil).JSON())
	if !strings.Contains(got, `"mirrors": []`) || strings.Contains(got, "null") {
		t.Errorf("got %s, want \"mirrors\": [] and no null", got)
	}
}
