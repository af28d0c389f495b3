package pipeline_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/offload-dev/offload/pipeline"
)

// A result's lists are JSON arrays even when it has nothing in them.
func TestResultJSONHasNoNull(t *testing.T) {
	for _, v := range []any{pipeline.Result{}, &pipeline.Result{}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "null") {
			t.Errorf("%T: got %s, want no null", v, b)
		}
		for _, want := range []string{`"changes":[]`, `"mirrors":[]`, `"purges":[]`, `"reasons":{}`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%T: got %s, want it to hold %s", v, b, want)
			}
		}
	}
}
