package plan

import "encoding/json"

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
