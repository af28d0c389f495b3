package plan_test

import (
	"encoding/json"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/eventgen"
	"github.com/offload-dev/offload/plan"
)

// A Builder fed changes one at a time, some of them dropped again, plans
// what Make plans for the changes it kept.
func TestBuilderIsMake(t *testing.T) {
	changes := event.Decode(eventgen.SQS(9000, eventgen.Options{Redeliver: 20, Index: 25, Lean: true}))
	tests := []struct {
		name     string
		add      int // changes added
		truncate int // then kept
	}{
		{"none", 0, 0},
		{"fewer than a chunk", 100, 100},
		{"over two chunks", 9000, 9000},
		{"truncated across a chunk's end", 9000, 4000},
		{"truncated to a chunk's end", 8192, 4096},
		{"truncated to nothing", 5000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b plan.Builder
			for _, c := range changes[:tt.add] {
				b.Add(c)
			}
			b.Truncate(tt.truncate)
			if b.Len() != tt.truncate {
				t.Fatalf("Len: got %d, want %d", b.Len(), tt.truncate)
			}
			keep := changes[:tt.truncate]
			if got, want := len(b.Objects()["my-site"]), len(plan.Objects(keep)["my-site"]); got != want {
				t.Errorf("Objects: got %d keys, want %d", got, want)
			}
			got, _ := json.Marshal(b.Make(benchConfig, nil, nil))
			want, _ := json.Marshal(plan.Make(benchConfig, keep, nil))
			if string(got) != string(want) {
				t.Errorf("got a plan of %d bytes, want the %d of Make's", len(got), len(want))
			}
			if b.Len() != 0 {
				t.Errorf("after Make: got Len %d, want 0", b.Len())
			}
		})
	}
}
