package plan

import (
	"encoding/json"
	"io"

	"github.com/offload-dev/offload/internal/jsonstream"
)

// Every list in a plan's JSON is an array and every count an object, never
// null, even when a plan built by hand leaves them nil: consumers range over
// them without a check (docs/json.md).

// MarshalJSON writes the plan with [] for the lists it has none of.
func (p Plan) MarshalJSON() ([]byte, error) {
	type plain Plan // without this method
	q := plain(p)
	if q.Changes == nil {
		q.Changes = []Decision{}
	}
	if q.Mirrors == nil {
		q.Mirrors = []MirrorOp{}
	}
	if q.Purges == nil {
		q.Purges = []Batch{}
	}
	if q.Commits == nil {
		q.Commits = []Commit{}
	}
	return json.Marshal(q)
}

// MarshalJSON writes the stats with {} for the counts it has none of.
func (s Stats) MarshalJSON() ([]byte, error) {
	type plain Stats
	q := plain(s)
	if q.Reasons == nil {
		q.Reasons = map[string]int{}
	}
	if q.Requests == nil {
		q.Requests = map[string]int{}
	}
	if q.Items == nil {
		q.Items = map[string]int{}
	}
	return json.Marshal(q)
}

// WriteJSON writes the plan to w as MarshalJSON does, then a newline:
// compact, or indented by two spaces. It writes each change as it goes,
// instead of building the whole text in memory first.
func (p *Plan) WriteJSON(w io.Writer, indent bool) error {
	o := jsonstream.NewObject(w, indent)
	jsonstream.List(o, "changes", len(p.Changes), func(i int) *Decision { return &p.Changes[i] })
	jsonstream.List(o, "mirrors", len(p.Mirrors), func(i int) *MirrorOp { return &p.Mirrors[i] })
	jsonstream.List(o, "purges", len(p.Purges), func(i int) *Batch { return &p.Purges[i] })
	jsonstream.List(o, "commits", len(p.Commits), func(i int) *Commit { return &p.Commits[i] })
	o.Value("stats", p.Stats)
	return o.Close()
}
