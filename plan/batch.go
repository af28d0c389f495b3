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
// changes each is purged for.
type purgeSet struct {
	// The last path encoded: a path is added for each target of a site in
	// turn, so one entry does what a map of every path did, in no memory.
	last          string
	cf, url       string // its CloudFront path and URL path
	haveCF, haveU bool
	targets       map[string]Target
	items         map[string]map[string][]int // target -> item -> changes
	order         []string                    // targets in first-use order
	hint          int                         // objects in the plan, to size the maps
	ints          []int                       // backing array of the items' change lists
}

func newPurgeSet(targets map[string]Target, objects int) *purgeSet {
	return &purgeSet{targets: targets, items: map[string]map[string][]int{}, hint: objects,
		ints: make([]int, 0, max(256, objects))}
}

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
			s.cf, s.haveCF = cloudfront.EncodePath(path), true
		}
		item = s.cf
	} else {
		if !s.haveU {
			s.url, s.haveU = URLPath(path), true
		}
		item = purge.JoinURL(t.BaseURL, s.url)
	}
	m := s.items[target]
	if m == nil {
		m = make(map[string][]int, s.hint)
		s.items[target] = m
		s.order = append(s.order, target)
	}
	switch cs := m[item]; {
	case len(cs) == 0:
		// Most items are purged for one change: cut its list from one
		// shared array (capacity 1, so a second change copies it).
		if len(s.ints) == cap(s.ints) {
			s.ints = make([]int, 0, max(256, s.hint)) // a new chunk; the old one stays with its items
		}
		s.ints = append(s.ints, change)
		n := len(s.ints)
		m[item] = s.ints[n-1 : n : n]
	case cs[len(cs)-1] != change:
		m[item] = append(cs, change)
	}
}

// batches returns every target's items sorted and split to its limits.
func (s *purgeSet) batches() []Batch {
	slices.Sort(s.order)
	var out []Batch
	for _, tn := range s.order {
		t := s.targets[tn]
		m := s.items[tn]
		if t.Provider == "cloudfront" && t.Collapse > 0 {
			m = collapse(m, t.Collapse, t.Limits.Wildcards)
		}
		items := make([]string, 0, len(m))
		for it := range m {
			items = append(items, it)
		}
		slices.Sort(items)
		kind := purge.KindURL
		if t.Provider == "cloudfront" {
			kind = purge.KindPath
		}
		// A provider that takes one item per request (Fastly's URL purge,
		// Varnish) gets them in groups it sends concurrently.
		perCall, perRequest := t.Limits.ItemsPerCall[kind], false
		if perCall == 1 {
			perCall, perRequest = oneByOneGroup, true
		}
		for _, chunk := range split(items, perCall, t.Limits.BodyBytes) {
			b := Batch{Target: tn, Provider: t.Provider, Requests: 1, Of: make([][]int, 0, len(chunk)), Changes: make([]int, 0, len(chunk))}
			if perRequest {
				b.Requests = len(chunk)
			}
			if kind == purge.KindPath {
				b.Paths = chunk
			} else {
				b.URLs = chunk
			}
			for _, it := range chunk {
				b.Changes = append(b.Changes, m[it]...)
				b.Of = append(b.Of, m[it])
			}
			slices.Sort(b.Changes)
			b.Changes = slices.Compact(b.Changes)
			out = append(out, b)
		}
	}
	return out
}

// oneByOneGroup is how many items go in one Purge call to a provider that
// sends each item in a request of its own.
const oneByOneGroup = 500

// split cuts sorted items into runs of at most n items whose JSON array
// ({"objects":[...]}, as Akamai takes it) stays within maxBody bytes.
func split(items []string, n, maxBody int) [][]string {
	var out [][]string
	var cur []string
	size := 0
	const overhead = len(`{"objects":[]}`)
	for _, it := range items {
		sz := quotedLen(it) + 1
		if len(cur) > 0 && ((n > 0 && len(cur) >= n) || (maxBody > 0 && overhead+size+sz > maxBody)) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, it)
		size += sz
	}
	if len(cur) > 0 {
		out = append(out, cur)
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
