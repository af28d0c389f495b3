package pipeline

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/offload-dev/offload/internal/jsonstream"
	"github.com/offload-dev/offload/purge"
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
	return r.writeJSON(w, indent, len(r.Changes), func(i int) *ChangeResult { return &r.Changes[i] })
}

// writeJSON is WriteJSON with the n changes that change returns in place of
// r.Changes.
func (r *Result) writeJSON(w io.Writer, indent bool, n int, change func(i int) *ChangeResult) error {
	o := jsonstream.NewObject(w, indent)
	jsonstream.List(o, "changes", n, change)
	jsonstream.List(o, "mirrors", len(r.Mirrors), func(i int) *MirrorResult { return &r.Mirrors[i] })
	jsonstream.ListStream(o, "purges", len(r.Purges), func(out []byte, i int, flush func([]byte) []byte) []byte {
		return appendPurge(out, &r.Purges[i], flush)
	})
	o.Value("stats", r.Stats)
	o.Value("committed", r.Committed)
	if r.Receipts != 0 { // omitempty
		o.Value("receipts", r.Receipts)
	}
	return o.Close()
}

// appendPurge appends pr as encoding/json writes it, handing what it has
// to flush as it goes: a purge of 100,000 URLs is a list item of megabytes
// (its URLs, its changes and an outcome per URL), which encoding/json
// would build whole in a buffer grown by doubling. Its purge.Result is
// written as that type is with [] for its nil lists (its MarshalJSON), as
// MarshalJSON writes it. TestResultWriteJSONIsMarshal holds the two to
// the same bytes, and TestPurgeJSONFieldsKnown to the same fields.
func appendPurge(out []byte, pr *PurgeResult, flush func([]byte) []byte) []byte {
	b := &pr.Batch
	out = jsonstream.BatchMembers(append(out, '{'), b.Target, b.Provider, b.Paths, "", b.URLs, b.Changes, b.Requests, flush)
	out = jsonstream.String(jsonstream.Member(out, "status", false), pr.Status)
	out = jsonstream.OptString(out, "error", pr.Error)
	if r := pr.Result; r != nil {
		out = jsonstream.String(jsonstream.Member(append(jsonstream.Member(out, "result", false), '{'), "provider", true), r.Provider)
		out = append(jsonstream.Member(out, "calls", false), '[')
		for i := range r.Calls {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendCall(out, &r.Calls[i])
			if jsonstream.Flushing(out) {
				out = flush(out)
			}
		}
		out = append(jsonstream.Member(append(out, ']'), "outcomes", false), '[')
		for i := range r.Outcomes {
			if i > 0 {
				out = append(out, ',')
			}
			oc := &r.Outcomes[i]
			out = jsonstream.Member(append(jsonstream.Member(append(out, '{'), "item", true), '{'), "kind", true)
			out = jsonstream.String(out, string(oc.Item.Kind))
			out = append(jsonstream.String(jsonstream.Member(out, "value", false), oc.Item.Value), '}')
			out = strconv.AppendBool(jsonstream.Member(out, "ok", false), oc.OK)
			out = jsonstream.OptString(out, "id", oc.ID)
			out = append(jsonstream.OptString(out, "error", oc.Err), '}')
			if jsonstream.Flushing(out) {
				out = flush(out)
			}
		}
		out = append(out, ']', '}')
	}
	return append(out, '}')
}

// appendCall appends c as encoding/json writes it.
func appendCall(out []byte, c *purge.Call) []byte {
	out = append(out, '{')
	first := true
	if c.ID != "" {
		out = jsonstream.String(jsonstream.Member(out, "id", true), c.ID)
		first = false
	}
	if c.SupportID != "" {
		out = jsonstream.String(jsonstream.Member(out, "support_id", first), c.SupportID)
		first = false
	}
	out = jsonstream.Int(jsonstream.Member(out, "items", first), int64(c.Items))
	out = jsonstream.OptString(out, "status", c.Status)
	if c.Estimated != 0 {
		out = jsonstream.Int(jsonstream.Member(out, "estimated", false), int64(c.Estimated))
	}
	out = jsonstream.Int(jsonstream.Member(out, "attempts", false), int64(c.Attempts))
	return append(jsonstream.OptString(out, "error", c.Err), '}')
}
