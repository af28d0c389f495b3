package pipeline

import "encoding/json"

// MarshalJSON writes the result with [] for the lists it has none of, as
// docs/json.md promises.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // without this method
	q := plain(r)
	if q.Changes == nil {
		q.Changes = []ChangeResult{}
	}
	if q.Mirrors == nil {
		q.Mirrors = []MirrorResult{}
	}
	if q.Purges == nil {
		q.Purges = []PurgeResult{}
	}
	return json.Marshal(q)
}
