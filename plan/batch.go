package plan

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/cloudfront"
)

// purgeSet gathers, per target, the encoded paths or URLs to purge and the
// changes each is purged for: a list of both, sorted only when the batches
// are cut, instead of a map of every item.
type purgeSet struct {
	// The last path encoded: a path is added for each target of a site in
	// turn, so one entry does what a map of every path did, in no memory.
	last          string
	cf, url       string // its CloudFront path and URL path
	haveCF, haveU bool
	targets       map[string]Target
	entries       map[string][]purgeEntry // by target, in the order added
	order         []string                // targets in first-use order
	hint          int                     // objects in the plan, to size the lists
}

// purgeEntry is one item to purge for one change. A URL is kept without
// its target's base URL, the same for all of a target's items.
type purgeEntry struct {
	item      string
	change, n int32 // n: its place in the order added
}

func newPurgeSet(targets map[string]Target, objects int) *purgeSet {
	return &purgeSet{targets: targets, entries: map[string][]purgeEntry{}, hint: objects}
}

// add adds, for change, target's item for path: an object's path without
// its leading "/", as objectPaths gives it.
func (s *purgeSet) add(target, path string, change int) {
	t, ok := s.targets[target]
	if !ok {
		return // config validation rejects unknown targets; nothing to send here
	}
	if path != s.last || !(s.haveCF || s.haveU) {
		s.last, s.haveCF, s.haveU = path, false, false
	}
	var item string
	if t.Provider == "cloudfront" {
		if !s.haveCF {
			s.cf, s.haveCF = cloudfront.EncodePath("/"+path), true
		}
		item = s.cf
	} else {
		if !s.haveU {
			s.url, s.haveU = slashURLPath(path), true
		}
		item = s.url
	}
	es, ok := s.entries[target]
	if !ok {
		es = make([]purgeEntry, 0, s.hint+s.hint/4) // room for index documents' second path
		s.order = append(s.order, target)
	}
	s.entries[target] = append(es, purgeEntry{item, int32(change), int32(len(es))})
}

// batches returns every target's items sorted and split to its limits,
// with the changes each item is purged for (Batch.Of) if of. URLs are
// joined to their target's base URL if join; if not, the batches hold
// them as they are kept, and writeBatch joins them.
func (s *purgeSet) batches(of, join bool) []Batch {
	slices.Sort(s.order)
	var out []Batch
	for _, tn := range s.order {
		t := s.targets[tn]
		es := s.entries[tn]
		delete(s.entries, tn) // free as it goes
		if t.Provider == "cloudfront" && t.Collapse > 0 {
			es = collapseEntries(es, t.Collapse, t.Limits.Wildcards)
		}
		// By item, each item's changes in the order added, without a
		// change added twice in a row (two sites of one object).
		slices.SortFunc(es, func(a, b purgeEntry) int { return cmp.Or(strings.Compare(a.item, b.item), cmp.Compare(a.n, b.n)) })
		items := make([]string, 0, len(es))
		starts := make([]int32, 0, len(es)+1) // item i's changes are es[starts[i]:starts[i+1]]
		kept := es[:0]
		for i, e := range es {
			switch {
			case i == 0 || e.item != es[i-1].item:
				items = append(items, e.item)
				starts = append(starts, int32(len(kept)))
			case e.change == kept[len(kept)-1].change:
				continue
			}
			kept = append(kept, e)
		}
		starts = append(starts, int32(len(kept)))
		kind := t.itemKind()
		base := strings.TrimRight(t.BaseURL, "/")
		itemLen := func(it string) int { return quotedLen(base) - 2 + quotedLen(it) }
		if kind == purge.KindPath {
			base = ""
		}
		if join || base == "" {
			for i, it := range items {
				items[i] = base + it
			}
			itemLen = quotedLen
		}
		// A provider that takes one item per request (Fastly's URL purge,
		// Varnish) gets them in groups it sends concurrently.
		perCall, perRequest := t.Limits.ItemsPerCall[kind], false
		if perCall == 1 {
			perCall, perRequest = oneByOneGroup, true
		}
		first := 0 // the chunk's first item
		for _, chunk := range split(items, perCall, t.Limits.BodyBytes, itemLen) {
			b := Batch{Target: tn, Provider: t.Provider, Requests: 1}
			if perRequest {
				b.Requests = len(chunk)
			}
			if kind == purge.KindPath {
				b.Paths = chunk
			} else {
				b.URLs = chunk
			}
			cs := kept[starts[first]:starts[first+len(chunk)]]
			b.Changes = make([]int, 0, len(cs))
			for _, e := range cs {
				b.Changes = append(b.Changes, int(e.change))
			}
			if of {
				b.Of = make([][]int, len(chunk))
				for j := range chunk {
					from, to := starts[first+j]-starts[first], starts[first+j+1]-starts[first]
					b.Of[j] = b.Changes[from:to:to]
				}
				b.Changes = slices.Clone(b.Changes)
			}
			slices.Sort(b.Changes)
			b.Changes = slices.Compact(b.Changes)
			out = append(out, b)
			first += len(chunk)
		}
	}
	return out
}

// collapseEntries is collapse of a target's entries.
func collapseEntries(es []purgeEntry, minPaths, maxWild int) []purgeEntry {
	m := map[string][]int{}
	for _, e := range es {
		if cs := m[e.item]; len(cs) == 0 || cs[len(cs)-1] != int(e.change) {
			m[e.item] = append(cs, int(e.change))
		}
	}
	m = collapse(m, minPaths, maxWild)
	out := es[:0]
	for it, cs := range m {
		for _, c := range cs {
			out = append(out, purgeEntry{it, int32(c), int32(len(out))})
		}
	}
	return out
}

// oneByOneGroup is how many items go in one Purge call to a provider that
// sends each item in a request of its own.
const oneByOneGroup = 500

// split cuts sorted items into runs of at most n items whose JSON array
// ({"objects":[...]}, as Akamai takes it) stays within maxBody bytes, an
// item taking size(item) bytes quoted.
func split(items []string, n, maxBody int, size func(string) int) [][]string {
	var out [][]string
	start, body := 0, 0
	const overhead = len(`{"objects":[]}`)
	for i, it := range items {
		sz := size(it) + 1
		if i > start && ((n > 0 && i-start >= n) || (maxBody > 0 && overhead+body+sz > maxBody)) {
			out = append(out, items[start:i:i]) // cut from items, not copied
			start, body = i, 0
		}
		body += sz
	}
	if len(items) > start {
		out = append(out, items[start:len(items):len(items)])
	}
	return out
}

// quotedLen is len(strconv.Quote(s)) for the ASCII without control
// characters that encoded paths and URLs are, without building it.
func quotedLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			n++
		} else if c < 0x20 || c >= 0x7f {
			return len(strconv.Quote(s))
		}
	}
	return n
}

// collapse replaces the paths directly under a directory with "dir/*" where
// at least min of them changed, biggest directories first, using at most
// maxWild wildcards (15 if unset: CloudFront's limit in progress). Paths a
// chosen wildcard covers, in subdirectories too, fold into it.
func collapse(m map[string][]int, minPaths, maxWild int) map[string][]int {
	if maxWild <= 0 {
		maxWild = 15
	}
	count := map[string]int{}
	for p := range m {
		count[dir(p)]++
	}
	var dirs []string
	for d, n := range count {
		if n >= minPaths {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return m
	}
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Or(count[b]-count[a], strings.Compare(a, b)) })
	// A directory inside one already chosen adds nothing.
	var chosen []string
	for _, d := range dirs {
		if len(chosen) == maxWild {
			break
		}
		if !slices.ContainsFunc(chosen, func(c string) bool { return strings.HasPrefix(d, c) }) {
			chosen = append(chosen, d)
		}
	}
	out := map[string][]int{}
	for p, cs := range m {
		key := p
		for _, c := range chosen {
			if strings.HasPrefix(p, c) {
				key = c + "*"
				break
			}
		}
		out[key] = append(out[key], cs...)
	}
	for k, cs := range out {
		slices.Sort(cs)
		out[k] = slices.Compact(cs)
	}
	return out
}

// dir returns a path's directory with its trailing "/": "/a/b.html" gives
// "/a/", "/a/" gives "/a/".
func dir(p string) string {
	return p[:strings.LastIndexByte(p, '/')+1]
}
