// Package plan decides, purely, what a batch of changes means: which events
// are duplicates or stale, which puts did not change the object, which CDN
// paths and URLs to purge through which targets, in batches the providers
// accept, which objects to mirror, and what to record in the ledger
// afterwards. It does no I/O and reads no clock: the same changes, ledger
// view and configuration always give the same plan.
package plan

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/purge"
)

// Site is one website served from a bucket (or a prefix of one).
type Site struct {
	Name     string
	Bucket   string
	Prefix   string // only keys under it; stripped before mapping to a path
	Index    string // index document: "docs/index.html" also purges "/docs/"; "" = off
	PurgeNew bool   // purge objects the ledger never saw (the CDN may hold a cached 404)
	Mirrors  []string
	Targets  []string
}

// Target is one purge destination.
type Target struct {
	Name     string
	Provider string // "cloudfront" purges paths; every other provider purges URLs
	BaseURL  string // joined with the path to make a URL, for URL providers
	Limits   purge.Limits
	// Collapse, for CloudFront: when at least this many paths directly under
	// one directory change, purge "/dir/*" instead (one billed path), within
	// the provider's wildcard limit. 0 never collapses.
	Collapse int
}

// Config is what the planner needs of the configuration.
type Config struct {
	Sites   []Site
	Targets []Target
}

// Object names one object.
type Object struct{ Bucket, Key string }

// Decisions and reasons.
const (
	Purge = "purge"
	Skip  = "skip"

	ReasonChanged   = "changed"
	ReasonNew       = "new"
	ReasonRemoved   = "removed"
	ReasonUnchanged = "unchanged"
	ReasonStale     = "stale"
	ReasonDuplicate = "duplicate"
	ReasonFiltered  = "filtered"
	ReasonTest      = "test-event"
	ReasonInvalid   = "invalid"
)

// Decision is what the plan does with one change, and why.
type Decision struct {
	event.Change
	Decision string   `json:"decision"`
	Reason   string   `json:"reason"`
	Detail   string   `json:"detail,omitempty"`
	Sites    []string `json:"sites,omitempty"`
	// Done lists the targets this change was already purged at in an
	// earlier delivery (its ledger.Receipt), which the plan leaves out.
	Done []string `json:"done,omitempty"`
}

// MirrorOp copies or deletes one object at one mirror.
type MirrorOp struct {
	Mirror string `json:"mirror"`
	Op     string `json:"op"` // "upload" or "delete"
	Bucket string `json:"bucket"`
	Key    string `json:"key"`  // the object's key in the bucket
	Path   string `json:"path"` // the key at the mirror: the site's prefix stripped
	Change int    `json:"change"`
}

// Batch is one purge call to one target.
type Batch struct {
	Target   string   `json:"target"`
	Provider string   `json:"provider"`
	Paths    []string `json:"paths,omitempty"` // CloudFront
	URLs     []string `json:"urls,omitempty"`  // everyone else
	Changes  []int    `json:"changes"`         // the decisions it purges for
	Requests int      `json:"requests"`        // provider requests it takes: 1, or one per item for one-by-one providers
	// Of returns the decisions each item is purged for, by item index.
	Of [][]int `json:"-"`
}

// Items returns the batch as purge items.
func (b Batch) Items() []purge.Item {
	if len(b.Paths) > 0 {
		return purge.Paths(b.Paths...)
	}
	return purge.URLs(b.URLs...)
}

// Commit is a ledger record to write once the change it comes from has
// been mirrored and purged.
type Commit struct {
	Record  ledger.Record `json:"record"`
	Changes []int         `json:"changes"` // the decisions that must all succeed first
}

// Plan is the planner's answer.
type Plan struct {
	Changes []Decision `json:"changes"`
	Mirrors []MirrorOp `json:"mirrors"`
	Purges  []Batch    `json:"purges"`
	Commits []Commit   `json:"commits"`
	Stats   Stats      `json:"stats"`
}

// Stats sum a plan up, for logs, metrics and the dashboard.
type Stats struct {
	Changes     int            `json:"changes"`
	Purge       int            `json:"purge"`
	Skip        int            `json:"skip"`
	Reasons     map[string]int `json:"reasons"`
	Requests    map[string]int `json:"requests"`     // purge calls by target
	Items       map[string]int `json:"items"`        // purged paths or URLs by target
	BilledPaths int            `json:"billed_paths"` // CloudFront paths, a wildcard counting one
}

// Objects returns the objects whose ledger records the planner needs, by
// bucket: the ones changes name, without duplicates, and without those of
// changes the planner will find invalid (no ledger holds a key of 40,000
// bytes; asking DynamoDB for one fails the whole read).
func Objects(changes []event.Change) map[string][]string {
	return objects(len(changes), func(i int) *event.Change { return &changes[i] })
}

func objects(n int, change func(i int) *event.Change) map[string][]string {
	out := map[string][]string{}
	seen := map[Object]bool{}
	for i := range n {
		c := change(i)
		o := Object{c.Bucket, c.Key}
		if seen[o] || check(*c) != "" {
			continue
		}
		seen[o] = true
		out[c.Bucket] = append(out[c.Bucket], c.Key)
	}
	return out
}

// A Builder gathers the changes of a plan as they are decoded, each held
// once, as the Decision it becomes: the event.Sink that `offload plan`
// streams its input into. Its zero value is ready to use.
type Builder struct {
	// In chunks of builderChunk, copied once into the plan, instead of a
	// slice copied each time it grows.
	chunks [][]Decision
	n      int
}

const builderChunk = 4096

// Add adds a change.
func (b *Builder) Add(c event.Change) {
	if b.n%builderChunk == 0 && b.n/builderChunk == len(b.chunks) {
		b.chunks = append(b.chunks, make([]Decision, 0, builderChunk))
	}
	last := &b.chunks[b.n/builderChunk]
	*last = append(*last, Decision{Change: c})
	b.n++
}

// Len returns the number of changes added.
func (b *Builder) Len() int { return b.n }

// Truncate keeps the first n changes.
func (b *Builder) Truncate(n int) {
	for b.n > n {
		b.n--
		c := &b.chunks[b.n/builderChunk]
		*c = (*c)[:len(*c)-1]
	}
}

func (b *Builder) at(i int) *Decision { return &b.chunks[i/builderChunk][i%builderChunk] }

// Objects is Objects of the changes added.
func (b *Builder) Objects() map[string][]string {
	return objects(b.n, func(i int) *event.Change { return &b.at(i).Change })
}

// MultiTarget is MultiTarget of the changes added.
func (b *Builder) MultiTarget(cfg Config) map[string][]string {
	return multiTarget(cfg, b.n, func(i int) *event.Change { return &b.at(i).Change })
}

// Make plans the changes added, as Resume does, and empties the Builder.
func (b *Builder) Make(cfg Config, held map[Object]ledger.Record, receipts map[Object]ledger.Receipt) *Plan {
	ds := make([]Decision, 0, b.n)
	for i := range b.chunks {
		ds = append(ds, b.chunks[i]...)
		b.chunks[i] = nil // free as it goes
	}
	*b = Builder{}
	return decide(cfg, ds, held, receipts)
}

// MultiTarget returns, by bucket, the objects of changes that a site
// purges through more than one target: only a change to one of them can
// succeed at one target and fail at another, so only their receipts
// (ledger.Receipt) are worth reading.
func MultiTarget(cfg Config, changes []event.Change) map[string][]string {
	return multiTarget(cfg, len(changes), func(i int) *event.Change { return &changes[i] })
}

func multiTarget(cfg Config, n int, at func(int) *event.Change) map[string][]string {
	out := map[string][]string{}
	seen := map[Object]bool{}
	for i := range n {
		c := *at(i)
		o := Object{c.Bucket, c.Key}
		if seen[o] || check(c) != "" {
			continue
		}
		seen[o] = true
		var targets []string
		for si := range cfg.Sites {
			if s := &cfg.Sites[si]; serves(s, c) {
				for _, t := range s.Targets {
					if !slices.Contains(targets, t) {
						targets = append(targets, t)
					}
				}
			}
		}
		if len(targets) > 1 {
			out[c.Bucket] = append(out[c.Bucket], c.Key)
		}
	}
	return out
}

// MaxKeyBytes is the longest key S3 gives an object, in bytes of UTF-8.
const MaxKeyBytes = 1024

// maxFieldBytes bounds an ETag or version id, which S3 keeps under 100
// bytes: a crafted one must not make a record the ledger refuses.
const maxFieldBytes = 1024

// Make plans a batch of changes against the ledger's records of their
// objects (held; missing objects were never seen) and the configuration.
func Make(cfg Config, changes []event.Change, held map[Object]ledger.Record) *Plan {
	return Resume(cfg, changes, held, nil)
}

// Resume is Make for changes that may have been delivered before, with the
// ledger's receipts of their objects (ledger.Receipt): a change that was
// purged at some targets and failed at others is not purged again at the
// ones it succeeded at. Its decision lists them in Done; it is purged, and
// committed, as any other.
func Resume(cfg Config, changes []event.Change, held map[Object]ledger.Record, receipts map[Object]ledger.Receipt) *Plan {
	ds := make([]Decision, len(changes))
	for i, c := range changes {
		ds[i].Change = c
	}
	return decide(cfg, ds, held, receipts)
}

// decide plans ds, decisions holding only their changes so far.
func decide(cfg Config, ds []Decision, held map[Object]ledger.Record, receipts map[Object]ledger.Receipt) *Plan {
	p := &Plan{Changes: ds}
	targets := map[string]Target{}
	for _, t := range cfg.Targets {
		targets[t.Name] = t
	}
	// The changes to plan, grouped by object: sorted, not a map of them.
	grouped := make([]int, 0, len(ds))
	// The common case, one site per change, shares one read-only slice of
	// its name (capacity 1, so an append copies) instead of a new one.
	names := make([][]string, len(cfg.Sites))
	for i, s := range cfg.Sites {
		names[i] = []string{s.Name}
	}
	for i := range ds {
		d := &ds[i]
		c := d.Change
		d.Record = i
		switch c.Kind {
		case event.KindTest:
			d.Decision, d.Reason = Skip, ReasonTest
			continue
		case event.KindInvalid:
			d.Decision, d.Reason, d.Detail = Skip, ReasonInvalid, c.Err
			continue
		case event.KindOther:
			d.Decision, d.Reason, d.Detail = Skip, ReasonFiltered, "offload does not act on "+c.EventName
			continue
		}
		if why := check(c); why != "" {
			d.Decision, d.Reason, d.Detail = Skip, ReasonInvalid, why
			continue
		}
		for si := range cfg.Sites {
			if !serves(&cfg.Sites[si], c) {
				continue
			}
			if d.Sites == nil {
				d.Sites = names[si]
			} else {
				d.Sites = append(d.Sites, cfg.Sites[si].Name)
			}
		}
		if d.Sites == nil {
			d.Decision, d.Reason, d.Detail = Skip, ReasonFiltered, "no site serves this bucket and key"
			continue
		}
		grouped = append(grouped, i)
	}
	// By object, and in record order within one.
	sameObject := func(a, b int) int {
		return cmp.Or(strings.Compare(ds[a].Bucket, ds[b].Bucket), strings.Compare(ds[a].Key, ds[b].Key))
	}
	slices.SortStableFunc(grouped, sameObject)
	var objects [][]int
	for start := 0; start < len(grouped); {
		end := start + 1
		for end < len(grouped) && sameObject(grouped[start], grouped[end]) == 0 {
			end++
		}
		objects = append(objects, grouped[start:end:end])
		start = end
	}

	purges := newPurgeSet(targets, len(objects))
	p.Commits = make([]Commit, 0, len(objects))
	// Every change is purged for at most one object, so the commits'
	// change lists fit in one array of len(changes), cut per object.
	purgingAll := make([]int, 0, len(ds))
	for _, idx := range objects {
		first := &ds[idx[0]]
		o := Object{first.Bucket, first.Key}
		h, seen := held[o]
		last, late := decideObject(p.Changes, idx, h, seen)
		start := len(purgingAll)
		rc := receipts[o]
		for _, i := range late {
			if p.purgeObject(cfg.Sites, purges, i, rc) {
				purgingAll = append(purgingAll, i)
			}
		}
		if last >= 0 && p.purgeObject(cfg.Sites, purges, last, rc) {
			purgingAll = append(purgingAll, last)
		}
		var purging []int
		if len(purgingAll) > start {
			purging = purgingAll[start:len(purgingAll):len(purgingAll)]
		}
		if c, ok := commitFor(p.Changes, h, last, late, purging); ok {
			p.Commits = append(p.Commits, c)
		}
	}
	p.Purges = purges.batches()
	p.Stats = stats(p)
	return p
}

// purgeObject adds the mirrors and purges of decision i, for every site of
// its object, and reports whether it is purged. The targets rc says the
// change was already purged at are left out, and listed in Done.
func (p *Plan) purgeObject(sites []Site, purges *purgeSet, i int, rc ledger.Receipt) bool {
	d := &p.Changes[i]
	if d.Decision != Purge && d.Reason != ReasonNew {
		return false
	}
	var done []string
	if rc.Change != "" && rc.Change == ChangeID(d.Change) {
		done = rc.Targets
	}
	purged := false
	for si := range sites {
		s := &sites[si]
		if !serves(s, d.Change) {
			continue
		}
		if d.Reason == ReasonNew && !s.PurgeNew {
			continue
		}
		purged = true
		key := strings.TrimPrefix(d.Key, s.Prefix)
		for _, m := range s.Mirrors {
			op := "upload"
			if d.Kind == event.KindRemove {
				op = "delete"
			}
			p.Mirrors = append(p.Mirrors, MirrorOp{Mirror: m, Op: op, Bucket: d.Bucket, Key: d.Key, Path: key, Change: i})
		}
		paths := objectPaths(key, s.Index)
		for _, tn := range s.Targets {
			if slices.Contains(done, tn) {
				if !slices.Contains(d.Done, tn) {
					d.Done = append(d.Done, tn)
				}
				continue
			}
			for _, path := range paths {
				purges.add(tn, path, i)
			}
		}
	}
	slices.Sort(d.Done)
	if purged {
		d.Decision = Purge
	} else {
		d.Decision, d.Detail = Skip, "purge_new is off for every site of this object"
	}
	return purged
}

// commitFor returns what to record for an object once its purges are
// done: its newest change, with the sequencer the CDN is now fresh up to.
func commitFor(ds []Decision, h ledger.Record, last int, late, purging []int) (Commit, bool) {
	var r ledger.Record
	switch {
	case last >= 0:
		d := ds[last].Change
		r = ledger.Record{Bucket: d.Bucket, Key: d.Key, Sequencer: d.Sequencer, ETag: d.ETag,
			VersionID: d.VersionID, Time: d.Time, Deleted: d.Kind == event.KindRemove}
		switch {
		case len(purging) > 0 || ds[last].Reason == ReasonNew:
			r.Purged = d.Sequencer // fresh now, or new and left alone by choice
		default:
			r.Purged = purgedUpTo(h) // unchanged: the CDN is as fresh as it was
		}
	case len(late) > 0 && len(purging) > 0:
		r = h
		r.Purged = h.Sequencer
	default:
		return Commit{}, false
	}
	c := Commit{Record: r, Changes: purging}
	if c.Changes == nil {
		c.Changes = []int{}
	}
	return c, true
}

func purgedUpTo(h ledger.Record) string {
	if h.Purged != "" {
		return h.Purged
	}
	return h.Sequencer
}

// serves reports whether site s serves the object of change c.
func serves(s *Site, c event.Change) bool {
	return (s.Bucket == c.Bucket || s.Bucket == "*") && strings.HasPrefix(c.Key, s.Prefix) && c.Key != s.Prefix
}

// decideObject decides every change to one object. Changes are taken in
// order (see order); of those newer than the ledger the last decides, and
// the ones it supersedes are skipped. A change not newer than the ledger
// is a duplicate or stale, unless it is a real change that happened after
// the object was last purged (the ledger moved on by an unchanged put,
// say): then it arrived late and is purged. It returns the deciding change
// (-1 if none) and the late ones.
func decideObject(ds []Decision, idx []int, h ledger.Record, seen bool) (int, []int) {
	order(ds, idx)
	accepted := make([]int, 0, 4) // does not escape: on the stack unless it grows
	var late []int
	prev, havePrev := h, seen
	for _, i := range idx {
		d := &ds[i]
		r := recordOf(d.Change)
		if havePrev && !ledger.Newer(r, prev) {
			d.Decision = Skip
			switch {
			case sameChange(r, prev):
				d.Reason, d.Detail = ReasonDuplicate, "the same event was already seen"
			case slices.ContainsFunc(late, func(j int) bool { return sameChange(r, recordOf(ds[j].Change)) }):
				d.Reason, d.Detail = ReasonDuplicate, "the same event was already seen"
			case seen && len(accepted) == 0 && arrivedLate(d.Change, h):
				d.Decision, d.Reason, d.Detail = Purge, ReasonChanged, "arrived late, but after the object was last purged"
				late = append(late, i)
			default:
				d.Reason, d.Detail = ReasonStale, "a newer change to this object was already applied"
			}
			continue
		}
		accepted = append(accepted, i)
		prev, havePrev = r, true
	}
	if len(accepted) == 0 {
		return -1, late
	}
	last := accepted[len(accepted)-1]
	for _, i := range accepted[:len(accepted)-1] {
		ds[i].Decision, ds[i].Reason = Skip, ReasonStale
		ds[i].Detail = fmt.Sprintf("superseded by a later change in this batch (record %d)", last)
	}
	d := &ds[last]
	d.Decision = Purge
	switch {
	case d.Kind == event.KindRemove:
		d.Reason = ReasonRemoved
	case d.Kind == event.KindCopy:
		// A copy onto itself keeps the ETag and changes metadata
		// (Cache-Control, Content-Type): never skipped as unchanged.
		d.Reason = ReasonChanged
	case !seen:
		d.Reason = ReasonNew
		d.Decision = Skip // Make turns it into a purge for sites with purge_new
	case !h.Deleted && h.ETag != "" && allPutsOf(ds, accepted, h.ETag) && len(late) == 0:
		d.Decision, d.Reason, d.Detail = Skip, ReasonUnchanged, "same ETag as the last change applied"
	default:
		d.Reason = ReasonChanged
	}
	return last, late
}

// order sorts the changes to one object into the order they are applied
// in: a total order, so the plan does not depend on the order they came
// in. Changes with a sequencer keep its order (by time, then by content,
// where two have the same sequencer). One without a sequencer goes just
// before the first change with a sequencer whose time is later than its
// own, or at the end; those without are in time order among themselves,
// by content at equal times. Comparing pairs (a sequencer where both have
// one, else the time) would not be a total order: with a = (01, 3s),
// b = (none, 2s), c = (02, 1s), a < c < b < a.
func order(ds []Decision, idx []int) {
	if len(idx) < 2 {
		return
	}
	byTime := func(a, b int) int {
		return cmp.Or(ds[a].Time.Compare(ds[b].Time), compareContent(ds[a].Change, ds[b].Change), cmp.Compare(a, b))
	}
	bySeq := func(a, b int) int {
		return cmp.Or(ledger.CompareSequencer(ds[a].Sequencer, ds[b].Sequencer), byTime(a, b))
	}
	n := 0 // without a sequencer
	for _, i := range idx {
		if ds[i].Sequencer == "" {
			n++
		}
	}
	switch n {
	case 0:
		slices.SortFunc(idx, bySeq)
		return
	case len(idx):
		slices.SortFunc(idx, byTime)
		return
	}
	withSeq, without := make([]int, 0, len(idx)-n), make([]int, 0, n)
	for _, i := range idx {
		if ds[i].Sequencer != "" {
			withSeq = append(withSeq, i)
		} else {
			without = append(without, i)
		}
	}
	slices.SortFunc(withSeq, bySeq)
	slices.SortFunc(without, byTime)
	out := idx[:0]
	j := 0
	for _, i := range withSeq {
		for j < len(without) && ds[without[j]].Time.Before(ds[i].Time) {
			out = append(out, without[j])
			j++
		}
		out = append(out, i)
	}
	out = append(out, without[j:]...)
}

// compareContent orders two changes by what they say, so that changes
// alike in sequencer and time are ordered whatever their position; only
// copies of one event are left to it.
func compareContent(a, b event.Change) int {
	return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.ETag, b.ETag),
		strings.Compare(a.VersionID, b.VersionID), cmp.Compare(a.Size, b.Size),
		strings.Compare(a.EventName, b.EventName), strings.Compare(a.MessageID, b.MessageID))
}

// Check returns why a put, copy or remove can be neither planned nor
// recorded, or "": what S3 never sends, so only a crafted event (a
// webhook) carries it. A sequencer that is not hex, or longer than any S3
// gives, would compare above every real change to its key and pin it. The
// planner makes such a change invalid; the webhook refuses it at the door.
func Check(c event.Change) string {
	switch c.Kind {
	case event.KindPut, event.KindCopy, event.KindRemove:
		return check(c)
	}
	return ""
}

func check(c event.Change) string {
	why := func(err error) string { return strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": ") }
	if len(c.Key) > MaxKeyBytes {
		return fmt.Sprintf("key of %d bytes: S3 keys are at most %d bytes of UTF-8", len(c.Key), MaxKeyBytes)
	}
	if err := ledger.CheckKey(c.Bucket, c.Key); err != nil {
		return why(err)
	}
	if err := ledger.CheckSequencer(c.Sequencer); err != nil {
		return why(err)
	}
	for _, f := range [...]struct{ name, v string }{{"ETag", c.ETag}, {"version id", c.VersionID}} {
		if len(f.v) > maxFieldBytes || !utf8.ValidString(f.v) {
			return fmt.Sprintf("%s of %d bytes that S3 would not send", f.name, len(f.v))
		}
	}
	return ""
}

// ChangeID names a change for its receipt (ledger.Receipt): its sequencer,
// padded so that two spellings of one are one, or its time where it has
// none, with its kind and ETag. Two deliveries of one change have the same.
func ChangeID(c event.Change) string {
	id := "time:" + c.Time.UTC().Format(time.RFC3339Nano)
	if c.Sequencer != "" {
		id = "seq:" + ledger.PadSequencer(c.Sequencer)
	}
	return id + " " + string(c.Kind) + " " + c.ETag
}

// arrivedLate reports whether c, older than the ledger's record h, changed
// the object after its last purge: the CDN may not reflect it.
func arrivedLate(c event.Change, h ledger.Record) bool {
	if c.Sequencer == "" || ledger.CompareSequencer(c.Sequencer, purgedUpTo(h)) <= 0 {
		return false
	}
	switch c.Kind {
	case event.KindCopy, event.KindRemove:
		return true
	case event.KindPut:
		return c.ETag != h.ETag || h.Deleted
	}
	return false
}

// allPutsOf reports whether every accepted change is a put of the given
// ETag: if any in between differed, the CDN may have fetched it.
func allPutsOf(ds []Decision, idx []int, etag string) bool {
	for _, i := range idx {
		if ds[i].Kind != event.KindPut || ds[i].ETag != etag {
			return false
		}
	}
	return true
}

func recordOf(c event.Change) ledger.Record {
	return ledger.Record{Bucket: c.Bucket, Key: c.Key, Sequencer: c.Sequencer, ETag: c.ETag, Time: c.Time}
}

func sameChange(a, b ledger.Record) bool {
	if a.Sequencer != "" && b.Sequencer != "" {
		return ledger.CompareSequencer(a.Sequencer, b.Sequencer) == 0
	}
	return a.Time.Equal(b.Time)
}

func stats(p *Plan) Stats {
	s := Stats{Changes: len(p.Changes), Reasons: map[string]int{}, Requests: map[string]int{}, Items: map[string]int{}}
	for _, d := range p.Changes {
		if d.Decision == Purge {
			s.Purge++
		} else {
			s.Skip++
		}
		s.Reasons[d.Reason]++
	}
	for _, b := range p.Purges {
		s.Requests[b.Target] += b.Requests
		s.Items[b.Target] += len(b.Paths) + len(b.URLs)
		s.BilledPaths += len(b.Paths)
	}
	return s
}

// JSON returns the plan as indented JSON, as `offload plan --pretty` prints it.
func (p *Plan) JSON() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return b
}

var _ event.Sink = (*Builder)(nil)
