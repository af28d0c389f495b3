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

// itemKind is the kind of item the plan purges t by: paths for CloudFront,
// URLs for every other provider.
func (t *Target) itemKind() purge.Kind {
	if t.Provider == "cloudfront" {
		return purge.KindPath
	}
	return purge.KindURL
}

// FillingBatch returns how many changes to plan together, from least up to
// most, so that a burst of changes of one purge item each (one object, no
// index document) fills every request the plan makes of every target: the
// least multiple of each target's items per request that is at least
// least. A target that takes more than most items a request, or one a
// request, is left out: a batch of most changes never fills the first, and
// always fills the second. If that multiple is above most, it returns
// least. A body limit (Akamai's) can still end a request sooner.
func (c Config) FillingBatch(least, most int) int {
	if least < 1 || most < least {
		return least
	}
	lcm := 1
	for i := range c.Targets {
		n := c.Targets[i].Limits.ItemsPerCall[c.Targets[i].itemKind()]
		if n <= 1 || n > most {
			continue
		}
		lcm = lcm / gcd(lcm, n) * n
		if lcm > most {
			return least
		}
	}
	if b := (least + lcm - 1) / lcm * lcm; b <= most {
		return b
	}
	return least
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
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
		if manyTargets(cfg, c) {
			out[c.Bucket] = append(out[c.Bucket], c.Key)
		}
	}
	return out
}

// manyTargets reports whether the sites that serve c's object purge it
// through more than one target.
func manyTargets(cfg Config, c event.Change) bool {
	var first string
	some := false
	for si := range cfg.Sites {
		if s := &cfg.Sites[si]; serves(s, c) {
			for _, t := range s.Targets {
				if !some {
					first, some = t, true
				} else if t != first {
					return true
				}
			}
		}
	}
	return false
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
	// The changes to plan, grouped by object: sorted, not a map of them.
	grouped := make([]int, 0, len(ds))
	// The common case, one site per change, shares one read-only slice of
	// its name (capacity 1, so an append copies) instead of a new one.
	names := siteNames(cfg)
	for i := range ds {
		d := &ds[i]
		d.Record = i
		if skipped(d) {
			continue
		}
		for si := range cfg.Sites {
			if !serves(&cfg.Sites[si], d.Change) {
				continue
			}
			if d.Sites == nil {
				d.Sites = names[si]
			} else {
				d.Sites = append(d.Sites, cfg.Sites[si].Name)
			}
		}
		if d.Sites == nil {
			d.Decision, d.Reason, d.Detail = Skip, ReasonFiltered, noSite
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

	pl := newPlanner(cfg, held, receipts, len(objects), len(ds))
	var local []Decision
	for _, idx := range objects {
		local = local[:0]
		for _, i := range idx {
			local = append(local, ds[i])
		}
		pl.object(local)
		for j, i := range idx {
			ds[i] = local[j]
		}
	}
	p.Mirrors, p.Purges = pl.mirrors, pl.purges.batches(true, true)
	p.Commits = make([]Commit, len(pl.commits))
	for k := range p.Commits {
		p.Commits[k] = pl.commit(k, func(i int) event.Change { return ds[i].Change })
	}
	p.Stats = stats(p)
	return p
}

// Details that do not depend on the change.
const (
	noSite            = "no site serves this bucket and key"
	detailPurgeNewOff = "purge_new is off for every site of this object"
	detailSeen        = "the same event was already seen"
	detailLate        = "arrived late, but after the object was last purged"
	detailNewer       = "a newer change to this object was already applied"
	detailSameETag    = "same ETag as the last change applied"
)

// siteNames returns each site's name as a list of one: the Sites of a
// change only one site serves, shared (capacity 1, so an append copies).
func siteNames(cfg Config) [][]string {
	names := make([][]string, len(cfg.Sites))
	for i, s := range cfg.Sites {
		names[i] = []string{s.Name}
	}
	return names
}

// skippedKind reports whether changes of kind k are skipped, whatever
// they change.
func skippedKind(k event.Kind) bool {
	return k == event.KindTest || k == event.KindInvalid || k == event.KindOther
}

// skipped decides d if it is not a put, copy or remove that can be
// planned, and reports whether it did.
func skipped(d *Decision) bool {
	switch d.Kind {
	case event.KindTest:
		d.Decision, d.Reason = Skip, ReasonTest
	case event.KindInvalid:
		d.Decision, d.Reason, d.Detail = Skip, ReasonInvalid, d.Err
	case event.KindOther:
		d.Decision, d.Reason, d.Detail = Skip, ReasonFiltered, "offload does not act on "+d.EventName
	default:
		why := check(d.Change)
		if why == "" {
			return false
		}
		d.Decision, d.Reason, d.Detail = Skip, ReasonInvalid, why
	}
	return true
}

// planner decides the changes to one object at a time, and gathers the
// mirrors, purges and commits they make.
type planner struct {
	sites    []Site
	held     map[Object]ledger.Record
	receipts map[Object]ledger.Receipt
	purges   *purgeSet
	mirrors  []MirrorOp
	commits  []commitRef
	odd      map[int32]oddCommit // by commit
	// Every change is purged for at most one object, so the commits'
	// change lists are cut, per object, from one array.
	purging []int
	idx     []int
}

func newPlanner(cfg Config, held map[Object]ledger.Record, receipts map[Object]ledger.Receipt, objects, changes int) *planner {
	targets := map[string]Target{}
	for _, t := range cfg.Targets {
		targets[t.Name] = t
	}
	return &planner{sites: cfg.Sites, held: held, receipts: receipts, purges: newPurgeSet(targets, objects),
		commits: make([]commitRef, 0, objects), odd: map[int32]oddCommit{}, purging: make([]int, 0, changes)}
}

// object decides ds, the changes to one object that a site serves, in
// record order, each with its Record and Sites.
func (pl *planner) object(ds []Decision) {
	o := Object{ds[0].Bucket, ds[0].Key}
	h, seen := pl.held[o]
	pl.idx = pl.idx[:0]
	for i := range ds {
		pl.idx = append(pl.idx, i)
	}
	last, late := decideObject(ds, pl.idx, h, seen)
	start := len(pl.purging)
	rc := pl.receipts[o]
	for _, i := range late {
		if pl.purgeObject(&ds[i], rc) {
			pl.purging = append(pl.purging, ds[i].Record)
		}
	}
	if last >= 0 && pl.purgeObject(&ds[last], rc) {
		pl.purging = append(pl.purging, ds[last].Record)
	}
	if c, odd, ok := commitFor(ds, h, last, late, len(pl.purging) > start); ok {
		if odd != nil {
			pl.odd[int32(len(pl.commits))] = *odd
		}
		c.start = int32(start)
		pl.commits = append(pl.commits, c)
	}
}

// purgeObject adds the mirrors and purges of d, for every site of its
// object, and reports whether it is purged. The targets rc says the
// change was already purged at are left out, and listed in Done.
func (pl *planner) purgeObject(d *Decision, rc ledger.Receipt) bool {
	if d.Decision != Purge && d.Reason != ReasonNew {
		return false
	}
	var done []string
	if rc.Change != "" && rc.Change == ChangeID(d.Change) {
		done = rc.Targets
	}
	purged := false
	for si := range pl.sites {
		s := &pl.sites[si]
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
			pl.mirrors = append(pl.mirrors, MirrorOp{Mirror: m, Op: op, Bucket: d.Bucket, Key: d.Key, Path: key, Change: d.Record})
		}
		paths, n := objectPaths(key, s.Index)
		for _, tn := range s.Targets {
			if slices.Contains(done, tn) {
				if !slices.Contains(d.Done, tn) {
					d.Done = append(d.Done, tn)
				}
				continue
			}
			for _, path := range paths[:n] {
				pl.purges.add(tn, path, d.Record)
			}
		}
	}
	slices.Sort(d.Done)
	if purged {
		d.Decision = Purge
	} else {
		d.Decision, d.Detail = Skip, detailPurgeNewOff
	}
	return purged
}

// commitRef is a commit as the planner keeps it until the plan is made
// or written: which change it records, not a copy of its fields. Its
// Changes run in planner.purging from its start to the next one's.
type commitRef struct {
	change int32 // the change recorded (its Record); -1: in planner.odd
	start  int32
	own    bool // the CDN is fresh up to the change's own sequencer
}

// oddCommit is a commit whose record is not its change's with that
// change's sequencer as Purged.
type oddCommit struct {
	change int32 // -1: the ledger's record, recorded again
	purged string
	held   ledger.Record
}

// commitFor returns what to record for an object once its purges are
// done (purging: it has some): its newest change, with the sequencer the
// CDN is now fresh up to.
func commitFor(ds []Decision, h ledger.Record, last int, late []int, purging bool) (commitRef, *oddCommit, bool) {
	switch {
	case last >= 0:
		ref := commitRef{change: int32(ds[last].Record)}
		if purging || ds[last].Reason == ReasonNew {
			ref.own = true // fresh now, or new and left alone by choice
			return ref, nil, true
		}
		// Unchanged: the CDN is as fresh as it was.
		return ref, &oddCommit{change: ref.change, purged: purgedUpTo(h)}, true
	case len(late) > 0 && purging:
		r := h
		r.Purged = h.Sequencer
		return commitRef{change: -1}, &oddCommit{change: -1, held: r}, true
	}
	return commitRef{}, nil, false
}

// commit returns commit k, reading the change it records with change.
func (pl *planner) commit(k int, change func(int) event.Change) Commit {
	ref := &pl.commits[k]
	end := int32(len(pl.purging))
	if k+1 < len(pl.commits) {
		end = pl.commits[k+1].start
	}
	c := Commit{Changes: []int{}}
	if end > ref.start {
		c.Changes = pl.purging[ref.start:end:end]
	}
	odd := pl.odd[int32(k)]
	if !ref.own && odd.change < 0 {
		c.Record = odd.held
		return c
	}
	d := change(int(odd.change))
	purged := odd.purged
	if ref.own {
		d = change(int(ref.change))
		purged = d.Sequencer
	}
	c.Record = ledger.Record{Bucket: d.Bucket, Key: d.Key, Sequencer: d.Sequencer, ETag: d.ETag,
		VersionID: d.VersionID, Time: d.Time, Deleted: d.Kind == event.KindRemove, Purged: purged}
	return c
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
				d.Reason, d.Detail = ReasonDuplicate, detailSeen
			case slices.ContainsFunc(late, func(j int) bool { return sameChange(r, recordOf(ds[j].Change)) }):
				d.Reason, d.Detail = ReasonDuplicate, detailSeen
			case seen && len(accepted) == 0 && arrivedLate(d.Change, h):
				d.Decision, d.Reason, d.Detail = Purge, ReasonChanged, detailLate
				late = append(late, i)
			default:
				d.Reason, d.Detail = ReasonStale, detailNewer
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
		ds[i].Detail = fmt.Sprintf("superseded by a later change in this batch (record %d)", ds[last].Record)
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
		d.Decision, d.Reason, d.Detail = Skip, ReasonUnchanged, detailSameETag
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
	s := newStats()
	for i := range p.Changes {
		s.count(p.Changes[i].Decision, p.Changes[i].Reason)
	}
	s.batches(p.Purges)
	return s
}

func newStats() Stats {
	return Stats{Reasons: map[string]int{}, Requests: map[string]int{}, Items: map[string]int{}}
}

// count counts one decision.
func (s *Stats) count(decision, reason string) {
	s.Changes++
	if decision == Purge {
		s.Purge++
	} else {
		s.Skip++
	}
	s.Reasons[reason]++
}

func (s *Stats) batches(bs []Batch) {
	for _, b := range bs {
		s.Requests[b.Target] += b.Requests
		s.Items[b.Target] += len(b.Paths) + len(b.URLs)
		s.BilledPaths += len(b.Paths)
	}
}

// JSON returns the plan as indented JSON, as `offload plan --pretty` prints it.
func (p *Plan) JSON() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return b
}

var _ event.Sink = (*Builder)(nil)
