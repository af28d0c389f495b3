package pipeline

import (
	"encoding/json"
	"io"

	"github.com/offload-dev/offload/internal/jsonstream"
)

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

// WriteJSON writes the result to w as MarshalJSON does, then a newline:
// compact, or indented by two spaces. It writes each change as it goes,
// instead of building the whole text in memory first.
func (r *Result) WriteJSON(w io.Writer, indent bool) error {
	o := jsonstream.NewObject(w, indent)
	jsonstream.List(o, "changes", len(r.Changes), func(i int) *ChangeResult { return &r.Changes[i] })
	jsonstream.List(o, "mirrors", len(r.Mirrors), func(i int) *MirrorResult { return &r.Mirrors[i] })
	jsonstream.List(o, "purges", len(r.Purges), func(i int) *PurgeResult { return &r.Purges[i] })
	o.Value("stats", r.Stats)
	o.Value("committed", r.Committed)
	if r.Receipts != 0 { // omitempty
		o.Value("receipts", r.Receipts)
	}
	return o.Close()
}
