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
// compact, or indented by two spaces as json.Indent does. It writes each
// change as it goes, instead of building the whole text in memory first.
func (p *Plan) WriteJSON(w io.Writer, indent bool) error {
	o := jsonstream.NewObject(w, indent)
	jsonstream.ListAppend(o, "changes", len(p.Changes), func(b []byte, i int) []byte { return appendDecision(b, &p.Changes[i]) })
	jsonstream.List(o, "mirrors", len(p.Mirrors), func(i int) *MirrorOp { return &p.Mirrors[i] })
	jsonstream.List(o, "purges", len(p.Purges), func(i int) *Batch { return &p.Purges[i] })
	jsonstream.ListAppend(o, "commits", len(p.Commits), func(b []byte, i int) []byte { return appendCommit(b, &p.Commits[i]) })
	o.Value("stats", p.Stats)
	return o.Close()
}

// appendDecision appends d as encoding/json writes it: the two lists of a
// plan as long as its input, by hand (a fifth of the time), kept the same
// as json.Marshal by TestWriteJSONIsMarshal and TestJSONFieldsKnown.
func appendDecision(b []byte, d *Decision) []byte {
	b = jsonstream.Member(append(b, '{'), "bucket", true)
	b = jsonstream.String(b, d.Bucket)
	b = jsonstream.String(jsonstream.Member(b, "key", false), d.Key)
	b = jsonstream.String(jsonstream.Member(b, "kind", false), string(d.Kind))
	b = jsonstream.OptString(b, "etag", d.ETag)
	if d.Size != 0 {
		b = jsonstream.Int(jsonstream.Member(b, "size", false), d.Size)
	}
	b = jsonstream.OptString(b, "version_id", d.VersionID)
	b = jsonstream.OptString(b, "sequencer", d.Sequencer)
	if !d.Time.IsZero() {
		b = jsonstream.Time(jsonstream.Member(b, "time", false), d.Time)
	}
	b = jsonstream.OptString(b, "event", d.EventName)
	b = jsonstream.OptString(b, "message_id", d.MessageID)
	b = jsonstream.Int(jsonstream.Member(b, "record", false), int64(d.Record))
	b = jsonstream.OptString(b, "error", d.Err)
	b = jsonstream.String(jsonstream.Member(b, "decision", false), d.Decision)
	b = jsonstream.String(jsonstream.Member(b, "reason", false), d.Reason)
	b = jsonstream.OptString(b, "detail", d.Detail)
	if len(d.Sites) > 0 {
		b = jsonstream.Strings(jsonstream.Member(b, "sites", false), d.Sites)
	}
	if len(d.Done) > 0 {
		b = jsonstream.Strings(jsonstream.Member(b, "done", false), d.Done)
	}
	return append(b, '}')
}

// appendBatch appends b as encoding/json writes it, each of its URLs
// after base, handing what it has to flush as it goes.
func appendBatch(out []byte, b *Batch, base string, flush func([]byte) []byte) []byte {
	out = jsonstream.BatchMembers(append(out, '{'), b.Target, b.Provider, b.Paths, base, b.URLs, b.Changes, b.Requests, flush)
	return append(out, '}')
}

func appendCommit(b []byte, c *Commit) []byte {
	r := &c.Record
	b = jsonstream.Member(append(b, '{'), "record", true)
	b = jsonstream.Member(append(b, '{'), "bucket", true)
	b = jsonstream.String(b, r.Bucket)
	b = jsonstream.String(jsonstream.Member(b, "key", false), r.Key)
	b = jsonstream.OptString(b, "sequencer", r.Sequencer)
	b = jsonstream.OptString(b, "etag", r.ETag)
	b = jsonstream.OptString(b, "version_id", r.VersionID)
	b = jsonstream.Time(jsonstream.Member(b, "time", false), r.Time)
	if r.Deleted {
		b = append(jsonstream.Member(b, "deleted", false), "true"...)
	}
	b = jsonstream.OptString(b, "purged", r.Purged)
	b = append(b, '}')
	b = jsonstream.Ints(jsonstream.Member(b, "changes", false), c.Changes)
	return append(b, '}')
}
