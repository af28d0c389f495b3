package plan

import (
	"cmp"
	"io"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/jsonstream"
	"github.com/offload-dev/offload/ledger"
)

// A Builder gathers the changes of a plan as they are decoded: the
// event.Sink that `offload plan` streams its input into. It keeps each
// change in a few bytes, its strings in blocks of many changes (bucket
// and event names interned), so that a plan of 100,000 changes
// written by WriteJSON holds no Decision per change, only per object. Its
// zero value is ready to use.
type Builder struct {
	// In chunks of builderChunk, never copied as they grow.
	chunks [][]rec
	n      int
	// The changes' strings, one after the other in blocks that are only
	// appended to, never moved: a rec holds no pointer, so the collector
	// has nothing to scan in the recs, and no change is an allocation.
	text  [][]byte
	names []string // bucket, kind and event names, by rec's indexes
	index map[string]uint32
	last  [3]uint32     // the bucket, kind and event name last interned, +1
	objs  []builtObject // by bucket and key; nil until grouped
	// The few changes with a time not in UTC, and, once planned, with a
	// Detail not in details.
	times   map[int32]time.Time
	details map[int32]string
}

const (
	builderChunk = 4096
	textBlock    = 256 << 10
)

// rec is a change as a Builder keeps it, and, once planned, its decision.
type rec struct {
	// Where the key, ETag, version id, sequencer, message id and error
	// are, one after the other, in Builder.text: block, offset, length.
	blk, off, len uint32
	ends          [5]uint32 // where each but the error ends, from off
	sec           int64     // its time, if UTC (as decoded); else in Builder.times
	size          int64
	nsec          int32
	// The bucket, kind and event name, in names.
	bucket, kind, event uint32
	obj, next           int32 // its object and the next change to it (-1: none)

	purge  bool
	reason uint8 // in reasons, less 1
	detail uint8 // in details, less 1; 0: in Builder.details, or none
	sites  int32 // 0: none; i+1: only site i; -1: the object's, in multi
}

// details are the Details that do not depend on the change.
var details = []string{noSite, detailPurgeNewOff, detailSeen, detailLate, detailNewer, detailSameETag}

// builtObject is one object changes name, without the changes the planner
// finds invalid.
type builtObject struct {
	first, last int32 // its changes, linked by rec.next
}

var reasons = []string{ReasonChanged, ReasonNew, ReasonRemoved, ReasonUnchanged, ReasonStale,
	ReasonDuplicate, ReasonFiltered, ReasonTest, ReasonInvalid}

// Add adds a change.
func (b *Builder) Add(c event.Change) {
	if b.n%builderChunk == 0 && b.n/builderChunk == len(b.chunks) {
		b.chunks = append(b.chunks, make([]rec, 0, builderChunk))
	}
	var r rec
	fields := [...]string{c.Key, c.ETag, c.VersionID, c.Sequencer, c.MessageID, c.Err}
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	// A block is never grown by append, which would move it: the strings
	// already cut from it point into it.
	if len(b.text) == 0 || cap(b.text[len(b.text)-1])-len(b.text[len(b.text)-1]) < n {
		b.text = append(b.text, make([]byte, 0, max(textBlock, n)))
	}
	blk := &b.text[len(b.text)-1]
	r.blk, r.off = uint32(len(b.text)-1), uint32(len(*blk))
	for i, f := range fields {
		*blk = append(*blk, f...)
		if i < len(r.ends) {
			r.ends[i] = uint32(len(*blk)) - r.off
		}
	}
	r.len = uint32(len(*blk)) - r.off
	r.size = c.Size
	if c.Time.Location() == time.UTC {
		r.sec, r.nsec = c.Time.Unix(), int32(c.Time.Nanosecond())
	} else {
		if b.times == nil {
			b.times = map[int32]time.Time{}
		}
		b.times[int32(b.n)] = c.Time
	}
	// A batch is mostly of one bucket and one event name: the last one
	// each is compared before the map is hashed.
	r.bucket, r.kind, r.event = b.internAt(0, c.Bucket), b.internAt(1, string(c.Kind)), b.internAt(2, c.EventName)
	last := &b.chunks[b.n/builderChunk]
	*last = append(*last, r)
	b.n++
	b.objs = nil
}

func (b *Builder) internAt(slot int, s string) uint32 {
	if l := b.last[slot]; l > 0 && b.names[l-1] == s {
		return l - 1
	}
	i := b.intern(s)
	b.last[slot] = i + 1
	return i
}

func (b *Builder) intern(s string) uint32 {
	if i, ok := b.index[s]; ok {
		return i
	}
	if b.index == nil {
		b.index = map[string]uint32{}
	}
	i := uint32(len(b.names))
	b.names = append(b.names, s)
	b.index[s] = i
	return i
}

// Len returns the number of changes added.
func (b *Builder) Len() int { return b.n }

// Truncate keeps the first n changes.
func (b *Builder) Truncate(n int) {
	for b.n > n {
		b.n--
		c := &b.chunks[b.n/builderChunk]
		*c = (*c)[:len(*c)-1]
		delete(b.times, int32(b.n))
	}
	b.objs = nil
}

func (b *Builder) at(i int) *rec { return &b.chunks[i/builderChunk][i%builderChunk] }

// textOf returns r's strings, one after the other, as one string: a view of
// bytes written once and never changed.
func (b *Builder) textOf(r *rec) string {
	if r.len == 0 {
		return ""
	}
	return unsafe.String(&b.text[r.blk][r.off], r.len)
}

// change returns change i, its strings cut from the one the Builder keeps.
func (b *Builder) change(i int) event.Change {
	r := b.at(i)
	e := &r.ends
	s := b.textOf(r)
	t, ok := b.times[int32(i)]
	if !ok {
		t = time.Unix(r.sec, int64(r.nsec)).UTC()
	}
	return event.Change{Bucket: b.names[r.bucket], Key: s[:e[0]], Kind: event.Kind(b.names[r.kind]),
		ETag: s[e[0]:e[1]], Size: r.size, VersionID: s[e[1]:e[2]], Sequencer: s[e[2]:e[3]],
		Time: t, EventName: b.names[r.event], MessageID: s[e[3]:e[4]], Record: i, Err: s[e[4]:]}
}

// object returns the bucket and key of change i.
func (b *Builder) object(i int32) (bucket, key string) {
	r := b.at(int(i))
	return b.names[r.bucket], b.textOf(r)[:r.ends[0]]
}

// group links the changes to each object, in record order, leaving out
// the ones the planner finds invalid. The objects are numbered by bucket
// and key, the order the plan lists them in: one sort, no map of every
// object.
func (b *Builder) group() {
	if b.objs != nil {
		return
	}
	// The names ranked once (buckets are few): a comparison is then of
	// two numbers and, within a bucket, of keys.
	order := make([]uint32, len(b.names))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(x, y uint32) int { return strings.Compare(b.names[x], b.names[y]) })
	rank := make([]uint32, len(b.names))
	for i, n := range order {
		rank[n] = uint32(i)
	}
	type named struct {
		key  string
		rank uint32
		i    int32
	}
	valid := make([]named, 0, b.n)
	for i := range b.n {
		r := b.at(i)
		r.obj, r.next = -1, -1
		// What check reads, without the rest of the change.
		t, e := b.textOf(r), &r.ends
		c := event.Change{Bucket: b.names[r.bucket], Key: t[:e[0]], ETag: t[e[0]:e[1]], VersionID: t[e[1]:e[2]], Sequencer: t[e[2]:e[3]]}
		if check(c) != "" {
			continue
		}
		valid = append(valid, named{c.Key, rank[r.bucket], int32(i)})
	}
	// Each object's changes in record order: ties go by index.
	slices.SortFunc(valid, func(x, y named) int {
		if x.rank != y.rank {
			return cmp.Compare(x.rank, y.rank)
		}
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	})
	b.objs = make([]builtObject, 0, len(valid))
	for j, v := range valid {
		if j == 0 || v.rank != valid[j-1].rank || v.key != valid[j-1].key {
			b.objs = append(b.objs, builtObject{first: v.i, last: v.i})
		} else {
			o := &b.objs[len(b.objs)-1]
			b.at(int(o.last)).next = v.i
			o.last = v.i
		}
		b.at(int(v.i)).obj = int32(len(b.objs) - 1)
	}
}

// Objects is Objects of the changes added.
func (b *Builder) Objects() map[string][]string {
	b.group()
	out := map[string][]string{}
	// The objects are by bucket: each run of one bucket (the usual batch,
	// all of it) is counted, then its keys go in a slice of that size.
	for j := 0; j < len(b.objs); {
		bucket := b.at(int(b.objs[j].first)).bucket // interned: one number a name
		end := j + 1
		for end < len(b.objs) && b.at(int(b.objs[end].first)).bucket == bucket {
			end++
		}
		name := b.names[bucket]
		keys := slices.Grow(out[name], end-j)
		for _, o := range b.objs[j:end] {
			_, key := b.object(o.first)
			keys = append(keys, key)
		}
		out[name] = keys
		j = end
	}
	return out
}

// MultiTarget is MultiTarget of the changes added.
func (b *Builder) MultiTarget(cfg Config) map[string][]string {
	b.group()
	out := map[string][]string{}
	for _, o := range b.objs {
		if c := b.change(int(o.first)); manyTargets(cfg, c) {
			out[c.Bucket] = append(out[c.Bucket], c.Key)
		}
	}
	return out
}

// Make plans the changes added, as Resume does, and empties the Builder.
func (b *Builder) Make(cfg Config, held map[Object]ledger.Record, receipts map[Object]ledger.Receipt) *Plan {
	ds := make([]Decision, b.n)
	for i := range ds {
		ds[i].Change = b.change(i)
	}
	*b = Builder{}
	return decide(cfg, ds, held, receipts)
}

// WriteJSON plans the changes added, as Make does, writes the plan to w as
// Plan.WriteJSON does, and empties the Builder: Compact, then its
// WriteJSON. It holds a Decision only for the changes to one object at a
// time.
func (b *Builder) WriteJSON(w io.Writer, cfg Config, held map[Object]ledger.Record, receipts map[Object]ledger.Receipt, indent bool) error {
	return b.Compact(cfg, held, receipts).WriteJSON(w, indent)
}

// A Compact is the plan Make would make of a Builder's changes, kept as
// the Builder keeps them: each change's decision in the few bytes of the
// change, a Decision made only when asked for. The mirrors, the commits'
// references and, once asked for, the batches are the rest of it. It is
// what `offload plan` writes and `offload apply` applies without a
// Decision for each of 100,000 changes in memory. Its methods are not
// safe for concurrent use.
type Compact struct {
	b        Builder
	names    [][]string // each site's name, as a list of one (siteNames)
	objSites []int32    // by object: 0, no site; i+1, only site i; -1, several, in multi
	multi    map[int32][]string
	done     map[int32][]string // by change, the few with targets already purged
	pl       *planner
	cfg      Config
	purges   []Batch
	batched  bool // purges made, with Batch.Of and URLs joined to their base
}

// Compact plans the changes added, as Make does, into a Compact, and
// empties the Builder.
func (b *Builder) Compact(cfg Config, held map[Object]ledger.Record, receipts map[Object]ledger.Receipt) *Compact {
	b.group()
	c := &Compact{names: siteNames(cfg), objSites: make([]int32, len(b.objs)),
		multi: map[int32][]string{}, done: map[int32][]string{}, cfg: cfg}
	// Which sites serve each object: a change to an object no site serves
	// is filtered.
	objSites, multi, names := c.objSites, c.multi, c.names
	plannable := 0 // objects with a put, copy or remove
	for k, o := range b.objs {
		bucket, key := b.object(o.first)
		ch := event.Change{Bucket: bucket, Key: key} // what serves reads
		for si := range cfg.Sites {
			if !serves(&cfg.Sites[si], ch) {
				continue
			}
			switch objSites[k] {
			case 0:
				objSites[k] = int32(si + 1)
			default:
				if objSites[k] > 0 {
					multi[int32(k)] = names[objSites[k]-1]
					objSites[k] = -1
				}
				multi[int32(k)] = append(multi[int32(k)], cfg.Sites[si].Name)
			}
		}
	}
	planned := make([]bool, len(b.objs))
	var d Decision
	for i := range b.n {
		r := b.at(i)
		// A put, copy or remove that group found valid, of an object a
		// site serves: planned below, with its object's other changes.
		if r.obj >= 0 && objSites[r.obj] != 0 && !skippedKind(event.Kind(b.names[r.kind])) {
			if !planned[r.obj] {
				planned[r.obj] = true
				plannable++
			}
			continue
		}
		d = Decision{Change: b.change(i)}
		switch {
		case skipped(&d):
		case objSites[r.obj] == 0:
			d.Decision, d.Reason, d.Detail = Skip, ReasonFiltered, noSite
		default:
			if !planned[r.obj] {
				planned[r.obj] = true
				plannable++
			}
			continue
		}
		b.decided(r, &d)
	}

	c.pl = newPlanner(cfg, held, receipts, plannable, b.n)
	var local []Decision
	// By bucket and key, as group numbered the objects.
	for k := range int32(len(b.objs)) {
		if !planned[k] {
			continue
		}
		local = local[:0]
		sites := multi[k]
		if objSites[k] > 0 {
			sites = names[objSites[k]-1]
		}
		for i := b.objs[k].first; i >= 0; i = b.at(int(i)).next {
			if ch := b.change(int(i)); !skippedKind(ch.Kind) {
				local = append(local, Decision{Change: ch, Sites: sites})
			}
		}
		c.pl.object(local)
		for j := range local {
			d := &local[j]
			r := b.at(d.Record)
			b.decided(r, d)
			r.sites = objSites[k]
			if len(d.Done) > 0 {
				c.done[int32(d.Record)] = d.Done
			}
		}
	}
	// What the ledger held is read only while planning: the commits keep
	// copies of the records they need (planner.odd).
	c.pl.held, c.pl.receipts = nil, nil
	c.b = *b
	*b = Builder{}
	return c
}

// Len returns the number of changes: the Plan's len(Changes).
func (c *Compact) Len() int { return c.b.n }

// Decision returns the decision on change i, as Make's Plan has it in
// Changes[i]: made anew at each call.
func (c *Compact) Decision(i int) Decision {
	b := &c.b
	r := b.at(i)
	d := Decision{Change: b.change(i), Decision: Skip, Done: c.done[int32(i)]}
	if r.detail > 0 {
		d.Detail = details[r.detail-1]
	} else {
		d.Detail = b.details[int32(i)]
	}
	if r.purge {
		d.Decision = Purge
	}
	if r.reason > 0 {
		d.Reason = reasons[r.reason-1]
	}
	switch {
	case r.sites > 0:
		d.Sites = c.names[r.sites-1]
	case r.sites < 0:
		d.Sites = c.multi[r.obj]
	}
	return d
}

// Mirrors returns the mirror operations: the Plan's Mirrors.
func (c *Compact) Mirrors() []MirrorOp { return c.pl.mirrors }

// Purges returns the purge calls, as the Plan's Purges: made at the first
// call.
func (c *Compact) Purges() []Batch {
	if !c.batched {
		c.purges, c.batched = c.pl.purges.batches(true, true), true
		c.pl.purges = nil
	}
	return c.purges
}

// Commits returns the number of ledger records to write: the Plan's
// len(Commits).
func (c *Compact) Commits() int { return len(c.pl.commits) }

// Commit returns commit k, as the Plan has it in Commits[k]: made anew at
// each call, its Changes shared with the Compact.
func (c *Compact) Commit(k int) Commit { return c.pl.commit(k, c.b.change) }

// Stats returns the plan's stats, as the Plan's Stats. It makes the
// batches, as Purges does.
func (c *Compact) Stats() Stats {
	st := newStats()
	for i := range c.b.n {
		r := c.b.at(i)
		d := Skip
		if r.purge {
			d = Purge
		}
		reason := ""
		if r.reason > 0 {
			reason = reasons[r.reason-1]
		}
		st.count(d, reason)
	}
	st.batches(c.Purges())
	return st
}

// WriteJSON writes the plan to w as Plan.WriteJSON writes Make's plan of
// the same changes.
func (c *Compact) WriteJSON(w io.Writer, indent bool) error {
	st := newStats()
	o := jsonstream.NewObject(w, indent)
	jsonstream.ListAppend(o, "changes", c.b.n, func(out []byte, i int) []byte {
		d := c.Decision(i)
		st.count(d.Decision, d.Reason)
		return appendDecision(out, &d)
	})
	jsonstream.List(o, "mirrors", len(c.pl.mirrors), func(i int) *MirrorOp { return &c.pl.mirrors[i] })
	// Only now, with the changes written: the batches and the purge set
	// they come from are the largest part of the plan after the changes.
	// Made here, not by Purges, they leave out Batch.Of, and their URLs
	// are joined to their target's base URL as they are written.
	purges := c.purges
	bases := map[string]string{}
	if !c.batched {
		purges = c.pl.purges.batches(false, false)
		c.pl.purges = nil
		for _, t := range c.cfg.Targets {
			if t.Provider != "cloudfront" {
				bases[t.Name] = strings.TrimRight(t.BaseURL, "/")
			}
		}
	}
	jsonstream.ListStream(o, "purges", len(purges), func(out []byte, i int, flush func([]byte) []byte) []byte {
		return appendBatch(out, &purges[i], bases[purges[i].Target], flush)
	})
	jsonstream.ListAppend(o, "commits", len(c.pl.commits), func(out []byte, i int) []byte {
		cm := c.Commit(i)
		return appendCommit(out, &cm)
	})
	st.batches(purges)
	o.Value("stats", st)
	return o.Close()
}

// decided keeps d's decision in r.
func (b *Builder) decided(r *rec, d *Decision) {
	r.purge = d.Decision == Purge
	r.reason = uint8(slices.Index(reasons, d.Reason) + 1)
	r.detail = uint8(slices.Index(details, d.Detail) + 1)
	if r.detail == 0 && d.Detail != "" {
		if b.details == nil {
			b.details = map[int32]string{}
		}
		b.details[int32(d.Record)] = d.Detail
	}
}

var _ event.Sink = (*Builder)(nil)
