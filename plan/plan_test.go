package plan_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func put(key, etag, seq string) event.Change {
	return event.Change{Bucket: "my-site", Key: key, Kind: event.KindPut, ETag: etag, Sequencer: seq, Time: t0}
}

func cp(key, etag, seq string) event.Change {
	c := put(key, etag, seq)
	c.Kind = event.KindCopy
	return c
}

func rm(key, seq string) event.Change {
	return event.Change{Bucket: "my-site", Key: key, Kind: event.KindRemove, Sequencer: seq, Time: t0}
}

var cfg = plan.Config{
	Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Mirrors: []string{"ns"}, Targets: []string{"cf", "ak"}}},
	Targets: []plan.Target{
		{Name: "cf", Provider: "cloudfront", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 3000}, Wildcards: 15}},
		{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com", Limits: purge.Limits{BodyBytes: 50000}},
	},
}

type want struct {
	decision, reason string
}

func decisions(p *plan.Plan) []want {
	out := make([]want, len(p.Changes))
	for i, d := range p.Changes {
		out[i] = want{d.Decision, d.Reason}
	}
	return out
}

func paths(p *plan.Plan, target string) []string {
	var out []string
	for _, b := range p.Purges {
		if b.Target == target {
			out = append(out, b.Paths...)
			out = append(out, b.URLs...)
		}
	}
	return out
}

func TestPathsAndURLs(t *testing.T) {
	tests := []struct {
		key    string
		cf, ak []string
	}{
		{"docs/a b.html", []string{"/docs/a%20b.html"}, []string{"https://www.example.com/docs/a%20b.html"}},
		{"docs/a+b.html", []string{"/docs/a+b.html"}, []string{"https://www.example.com/docs/a+b.html"}},
		{"docs/ü.html", []string{"/docs/%C3%BC.html"}, []string{"https://www.example.com/docs/%C3%BC.html"}},
		{"docs/100%.html", []string{"/docs/100%25.html"}, []string{"https://www.example.com/docs/100%25.html"}},
		{"~user/x.html", []string{"/%7Euser/x.html"}, []string{"https://www.example.com/~user/x.html"}},
		{"img/star*.png", []string{"/img/star%2A.png"}, []string{"https://www.example.com/img/star%2A.png"}},
		// "?" would start a query string: a key's own is encoded.
		{"a#b?c.html", []string{"/a%23b%3Fc.html"}, []string{"https://www.example.com/a%23b%3Fc.html"}},
		// A key that looks encoded is a literal: its "%" is encoded.
		{"%41.html", []string{"/%2541.html"}, []string{"https://www.example.com/%2541.html"}},
		{"a%2Fb.html", []string{"/a%252Fb.html"}, []string{"https://www.example.com/a%252Fb.html"}},
		{"日本/é.html", []string{"/%E6%97%A5%E6%9C%AC/%C3%A9.html"}, []string{"https://www.example.com/%E6%97%A5%E6%9C%AC/%C3%A9.html"}},
		{`q"uote.html`, []string{"/q%22uote.html"}, []string{"https://www.example.com/q%22uote.html"}},
		// A key may hold "//": the URL keeps it.
		{"a//b.html", []string{"/a//b.html"}, []string{"https://www.example.com/a//b.html"}},
		{"index.html", []string{"/", "/index.html"}, []string{"https://www.example.com/", "https://www.example.com/index.html"}},
		{"docs/index.html", []string{"/docs/", "/docs/index.html"}, []string{"https://www.example.com/docs/", "https://www.example.com/docs/index.html"}},
		{"docs/myindex.html", []string{"/docs/myindex.html"}, []string{"https://www.example.com/docs/myindex.html"}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			p := plan.Make(cfg, []event.Change{put(tt.key, "e1", "01")}, nil)
			if got := decisions(p); got[0] != (want{plan.Purge, plan.ReasonNew}) {
				t.Fatalf("decision: got %v", got)
			}
			if got := paths(p, "cf"); !slices.Equal(got, tt.cf) {
				t.Errorf("cloudfront: got %q, want %q", got, tt.cf)
			}
			if got := paths(p, "ak"); !slices.Equal(got, tt.ak) {
				t.Errorf("akamai: got %q, want %q", got, tt.ak)
			}
		})
	}
}

func TestDecisions(t *testing.T) {
	held := map[plan.Object]ledger.Record{
		{Bucket: "my-site", Key: "same.html"}:    {Bucket: "my-site", Key: "same.html", ETag: "e1", Sequencer: "05"},
		{Bucket: "my-site", Key: "changed.html"}: {Bucket: "my-site", Key: "changed.html", ETag: "e1", Sequencer: "05"},
		{Bucket: "my-site", Key: "copied.css"}:   {Bucket: "my-site", Key: "copied.css", ETag: "e1", Sequencer: "05"},
		{Bucket: "my-site", Key: "old.html"}:     {Bucket: "my-site", Key: "old.html", ETag: "e9", Sequencer: "0A"},
		{Bucket: "my-site", Key: "back.html"}:    {Bucket: "my-site", Key: "back.html", ETag: "e1", Sequencer: "05", Deleted: true},
		// Last purged at 05; a put of the same bytes at 07 moved it on.
		{Bucket: "my-site", Key: "late.css"}: {Bucket: "my-site", Key: "late.css", ETag: "e1", Sequencer: "07", Purged: "05"},
	}
	tests := []struct {
		name    string
		changes []event.Change
		want    []want
		cf      []string
	}{
		{"unchanged put", []event.Change{put("same.html", "e1", "06")}, []want{{plan.Skip, plan.ReasonUnchanged}}, nil},
		{"changed put", []event.Change{put("changed.html", "e2", "06")}, []want{{plan.Purge, plan.ReasonChanged}}, []string{"/changed.html"}},
		{"copy with the same ETag", []event.Change{cp("copied.css", "e1", "06")}, []want{{plan.Purge, plan.ReasonChanged}}, []string{"/copied.css"}},
		{"remove", []event.Change{rm("same.html", "06")}, []want{{plan.Purge, plan.ReasonRemoved}}, []string{"/same.html"}},
		{"remove of an object never seen", []event.Change{rm("ghost.html", "06")}, []want{{plan.Purge, plan.ReasonRemoved}}, []string{"/ghost.html"}},
		{"put after a delete", []event.Change{put("back.html", "e1", "06")}, []want{{plan.Purge, plan.ReasonChanged}}, []string{"/back.html"}},
		{"older than the ledger", []event.Change{put("old.html", "e2", "09")}, []want{{plan.Skip, plan.ReasonStale}}, nil},
		{"same as the ledger", []event.Change{put("old.html", "e9", "0A")}, []want{{plan.Skip, plan.ReasonDuplicate}}, nil},
		{"sequencers of different lengths", []event.Change{put("old.html", "e2", "00B")}, []want{{plan.Purge, plan.ReasonChanged}}, []string{"/old.html"}},
		{"the same key twice", []event.Change{put("a.html", "e1", "01"), put("a.html", "e2", "02")},
			[]want{{plan.Skip, plan.ReasonStale}, {plan.Purge, plan.ReasonNew}}, []string{"/a.html"}},
		{"a duplicate in the batch", []event.Change{put("a.html", "e1", "01"), put("a.html", "e1", "01")},
			[]want{{plan.Purge, plan.ReasonNew}, {plan.Skip, plan.ReasonDuplicate}}, []string{"/a.html"}},
		{"out of order", []event.Change{rm("a.html", "03"), put("a.html", "e1", "01"), put("a.html", "e2", "02")},
			[]want{{plan.Purge, plan.ReasonRemoved}, {plan.Skip, plan.ReasonStale}, {plan.Skip, plan.ReasonStale}}, []string{"/a.html"}},
		{"changed and back within a batch", []event.Change{put("same.html", "e2", "06"), put("same.html", "e1", "07")},
			[]want{{plan.Skip, plan.ReasonStale}, {plan.Purge, plan.ReasonChanged}}, []string{"/same.html"}},
		{"a copy that arrives after an unchanged put", []event.Change{cp("late.css", "e1", "06")}, []want{{plan.Purge, plan.ReasonChanged}}, []string{"/late.css"}},
		{"a put older than the last purge", []event.Change{put("late.css", "e2", "04")}, []want{{plan.Skip, plan.ReasonStale}}, nil},
		{"a late put of the same bytes", []event.Change{put("late.css", "e1", "06")}, []want{{plan.Skip, plan.ReasonStale}}, nil},
		{"another bucket", []event.Change{{Bucket: "other", Key: "x", Kind: event.KindPut, Sequencer: "01"}}, []want{{plan.Skip, plan.ReasonFiltered}}, nil},
		{"test event and invalid record", []event.Change{{Kind: event.KindTest}, {Kind: event.KindInvalid, Err: "bad"}},
			[]want{{plan.Skip, plan.ReasonTest}, {plan.Skip, plan.ReasonInvalid}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan.Make(cfg, tt.changes, held)
			if got := decisions(p); !slices.Equal(got, tt.want) {
				t.Fatalf("decisions: got %v, want %v", got, tt.want)
			}
			if got := paths(p, "cf"); !slices.Equal(got, tt.cf) {
				t.Fatalf("cloudfront paths: got %q, want %q", got, tt.cf)
			}
			for _, d := range p.Changes {
				if d.Reason == "" {
					t.Fatalf("a change without a reason: %+v", d)
				}
			}
		})
	}
}

func TestPrefixAndPurgeNew(t *testing.T) {
	c := plan.Config{
		Sites: []plan.Site{
			{Name: "www", Bucket: "b", Prefix: "public/", Index: "index.html", Targets: []string{"cf"}},
			{Name: "docs", Bucket: "b", Prefix: "docs/", PurgeNew: true, Mirrors: []string{"copy"}, Targets: []string{"cf"}},
		},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront"}},
	}
	changes := []event.Change{
		{Bucket: "b", Key: "public/index.html", Kind: event.KindPut, ETag: "e2", Sequencer: "02"},
		{Bucket: "b", Key: "public/new.html", Kind: event.KindPut, ETag: "e1", Sequencer: "02"},
		{Bucket: "b", Key: "private/x.html", Kind: event.KindPut, ETag: "e1", Sequencer: "02"},
		{Bucket: "b", Key: "docs/guide.html", Kind: event.KindPut, ETag: "e1", Sequencer: "02"},
		{Bucket: "b", Key: "docs/old.html", Kind: event.KindRemove, Sequencer: "02"},
	}
	held := map[plan.Object]ledger.Record{{Bucket: "b", Key: "public/index.html"}: {ETag: "e1", Sequencer: "01"}}
	p := plan.Make(c, changes, held)
	wantD := []want{{plan.Purge, plan.ReasonChanged}, {plan.Skip, plan.ReasonNew}, {plan.Skip, plan.ReasonFiltered}, {plan.Purge, plan.ReasonNew}, {plan.Purge, plan.ReasonRemoved}}
	if got := decisions(p); !slices.Equal(got, wantD) {
		t.Fatalf("decisions: got %v, want %v", got, wantD)
	}
	if got, w := paths(p, "cf"), []string{"/", "/guide.html", "/index.html", "/old.html"}; !slices.Equal(got, w) {
		t.Fatalf("paths: got %q, want %q", got, w)
	}
	wantM := []plan.MirrorOp{
		{Mirror: "copy", Op: "upload", Bucket: "b", Key: "docs/guide.html", Path: "guide.html", Change: 3},
		{Mirror: "copy", Op: "delete", Bucket: "b", Key: "docs/old.html", Path: "old.html", Change: 4},
	}
	if !slices.Equal(p.Mirrors, wantM) {
		t.Fatalf("mirrors: got %+v, want %+v", p.Mirrors, wantM)
	}
	// Every change with a decision to record is committed, skipped new ones too.
	if got := len(p.Commits); got != 4 {
		t.Fatalf("commits: got %d, want 4", got)
	}
}

func TestBatchesFitTheLimits(t *testing.T) {
	var changes []event.Change
	for i := range 10000 {
		changes = append(changes, put(fmt.Sprintf("assets/%05d-%s.js", i, strings.Repeat("x", 20)), "e", "01"))
	}
	p := plan.Make(cfg, changes, nil)
	var cf, ak int
	for _, b := range p.Purges {
		switch b.Target {
		case "cf":
			cf++
			if len(b.Paths) > 3000 {
				t.Fatalf("a CloudFront batch of %d paths", len(b.Paths))
			}
		case "ak":
			ak++
			body := len(`{"objects":[]}`)
			for _, u := range b.URLs {
				body += len(u) + 3
			}
			if body > 50000 {
				t.Fatalf("an Akamai body of %d bytes", body)
			}
		}
	}
	if cf != 4 {
		t.Fatalf("CloudFront batches: got %d, want 4", cf)
	}
	if ak != 13 { // 793 quoted URLs of 63 bytes fit in 50,000 bytes
		t.Fatalf("Akamai batches: got %d, want 13", ak)
	}
	if p.Stats.BilledPaths != 10000 {
		t.Fatalf("billed paths: got %d, want 10000", p.Stats.BilledPaths)
	}
}

func TestWildcardCollapse(t *testing.T) {
	c := plan.Config{
		Sites:   []plan.Site{{Name: "www", Bucket: "my-site", PurgeNew: true, Targets: []string{"cf"}}},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront", Collapse: 50, Limits: purge.Limits{Wildcards: 2}}},
	}
	var changes []event.Change
	for _, dir := range []string{"a", "b", "c"} {
		n := map[string]int{"a": 100, "b": 80, "c": 60}[dir]
		for i := range n {
			changes = append(changes, put(fmt.Sprintf("%s/%d.js", dir, i), "e", "01"))
		}
	}
	changes = append(changes, put("a/sub/x.js", "e", "01"), put("top.html", "e", "01"))
	p := plan.Make(c, changes, nil)
	got := paths(p, "cf")
	// a/ and b/ (the biggest two) collapse; a/sub/x.js folds into /a/*; c/ keeps its 60 paths.
	if len(got) != 2+60+1 || !slices.Contains(got, "/a/*") || !slices.Contains(got, "/b/*") || slices.Contains(got, "/c/*") || slices.Contains(got, "/a/sub/x.js") {
		t.Fatalf("got %d paths: %q...", len(got), got[:min(5, len(got))])
	}
	if p.Stats.BilledPaths != 63 {
		t.Fatalf("billed paths: got %d, want 63", p.Stats.BilledPaths)
	}
	for _, b := range p.Purges {
		if len(b.Changes) != len(changes) {
			t.Fatalf("the batch covers %d changes, want %d", len(b.Changes), len(changes))
		}
	}
}

// The same changes in any order make the same plan: the same decision for
// each change, the same mirrors, batches and commits in the same order;
// also for keys whose changes come with and without sequencers.
// Plans of shuffled input differ only in how changes are numbered (their
// index in the input), so both are compared with every index replaced by
// the change it names.
func TestDeterministic(t *testing.T) {
	c := plan.Config{
		Sites: []plan.Site{
			{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Mirrors: []string{"ns"}, Targets: []string{"cf", "ak"}},
			{Name: "docs", Bucket: "my-site", Prefix: "docs/", Targets: []string{"cf"}},
		},
		Targets: []plan.Target{
			{Name: "cf", Provider: "cloudfront", Collapse: 4, Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 7}, Wildcards: 2}},
			{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com", Limits: purge.Limits{BodyBytes: 400}},
		},
	}
	reasons := map[string]bool{}
	resumed := 0 // changes a receipt left out at some target
	for seed := range 40 {
		rng := rand.New(rand.NewPCG(uint64(seed), 12))
		changes, held, receipts := randomBatch(rng)
		want := plan.Resume(c, changes, held, receipts)
		if again := plan.Resume(c, changes, held, receipts); string(again.JSON()) != string(want.JSON()) {
			t.Fatalf("seed %d: the same input planned twice gives different JSON", seed)
		}
		if len(want.Purges) == 0 || len(want.Mirrors) == 0 || len(want.Commits) == 0 {
			t.Fatalf("seed %d: got %d purges, %d mirrors, %d commits; want some of each, or the comparison proves little",
				seed, len(want.Purges), len(want.Mirrors), len(want.Commits))
		}
		for r := range want.Stats.Reasons {
			reasons[r] = true
		}
		for _, d := range want.Changes {
			if len(d.Done) > 0 {
				resumed++
			}
		}
		for try := range 3 {
			shuffled := slices.Clone(changes)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got := plan.Resume(c, shuffled, held, receipts)
			if g, w := canonical(t, got), canonical(t, want); g != w {
				t.Fatalf("seed %d, shuffle %d: the plan depends on the input order:\n%s", seed, try, firstDiff(g, w))
			}
		}
	}
	// The batches must reach every decision, or a difference could hide in
	// a path no seed takes.
	for _, r := range []string{plan.ReasonNew, plan.ReasonChanged, plan.ReasonRemoved, plan.ReasonUnchanged,
		plan.ReasonStale, plan.ReasonDuplicate, plan.ReasonFiltered, plan.ReasonTest, plan.ReasonInvalid} {
		if !reasons[r] {
			t.Errorf("no seed made a %q decision; got %v", r, reasons)
		}
	}
	if resumed == 0 {
		t.Error("no seed left a target out for a receipt")
	}
}

// randomBatch makes a batch of puts, copies and removes of a few keys,
// with duplicate deliveries, a test event, an invalid record and a change
// in a bucket no site serves, a ledger that has seen some of the keys, and
// receipts for some of the changes, at one target or both.
func randomBatch(rng *rand.Rand) ([]event.Change, map[plan.Object]ledger.Record, map[plan.Object]ledger.Receipt) {
	var out []event.Change
	held := map[plan.Object]ledger.Record{}
	receipts := map[plan.Object]ledger.Receipt{}
	for k := range 12 {
		var key string
		switch {
		case k == 0:
			key = "index.html"
		case k == 4:
			key = "docs/index.html"
		case k%3 == 0:
			key = fmt.Sprintf("a/b/%d.css", k)
		case k%2 == 0:
			key = fmt.Sprintf("docs/%d.html", k)
		default:
			key = fmt.Sprintf("a/%d.html", k)
		}
		// Sequencers grow per key; some keys have none (a webhook without
		// them), and are ordered by time; some have both kinds, at times
		// that may disagree with the sequencers and tie with each other.
		noSeq, mixed := k%6 == 5, k%6 == 2
		for s := 1; s <= 1+rng.IntN(5); s++ {
			ch := event.Change{Bucket: "my-site", Key: key, Kind: event.KindPut, ETag: fmt.Sprint("e", rng.IntN(3)),
				Sequencer: fmt.Sprintf("%0*X", 2+rng.IntN(3), 0x40*s+k), Time: t0.Add(time.Duration(s) * time.Second)}
			switch {
			case noSeq:
				ch.Sequencer = ""
			case mixed:
				ch.Time = t0.Add(time.Duration(rng.IntN(3)) * time.Second)
				if rng.IntN(2) == 0 {
					ch.Sequencer = ""
				}
			}
			switch rng.IntN(6) {
			case 0:
				ch.Kind = event.KindCopy
			case 1:
				ch.Kind, ch.ETag = event.KindRemove, ""
			}
			out = append(out, ch)
		}
		if rng.IntN(2) == 0 {
			held[plan.Object{Bucket: "my-site", Key: key}] = ledger.Record{Bucket: "my-site", Key: key, ETag: fmt.Sprint("e", rng.IntN(3)),
				Sequencer: fmt.Sprintf("%X", 0x40*(1+rng.IntN(3))+k), Purged: fmt.Sprintf("%X", 0x40+k), Time: t0.Add(2 * time.Second)}
		}
		if rng.IntN(3) == 0 {
			targets := [][]string{{"cf"}, {"ak"}, {"ak", "cf"}}[rng.IntN(3)]
			receipts[plan.Object{Bucket: "my-site", Key: key}] = ledger.Receipt{Bucket: "my-site", Key: key,
				Change: plan.ChangeID(out[max(0, len(out)-1-rng.IntN(2))]), Targets: targets}
		}
	}
	for range len(out) / 3 {
		out = append(out, out[rng.IntN(len(out))])
	}
	out = append(out,
		event.Change{Kind: event.KindTest},
		event.Change{Kind: event.KindInvalid, Err: "record 3: s3.object.key is missing"},
		event.Change{Bucket: "other", Key: "x.html", Kind: event.KindPut, ETag: "e", Sequencer: "01", Time: t0})
	return out, held, receipts
}

// canonical is the plan's JSON with every change index (into the input)
// replaced by the change it names, and the lists of indexes, which follow
// the input's order, sorted. Changes that are delivered twice are the same
// text, so which copy of them a plan calls the duplicate does not show.
func canonical(t *testing.T, p *plan.Plan) string {
	t.Helper()
	name := func(i int) string {
		c := p.Changes[i].Change
		c.Record = 0
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	names := func(idx []int) []string {
		out := make([]string, len(idx))
		for j, i := range idx {
			out[j] = name(i)
		}
		slices.Sort(out)
		return out
	}
	record := regexp.MustCompile(`\(record (\d+)\)`)
	type decision struct {
		Change, Decision, Reason, Detail string
		Sites                            []string
	}
	// The outer fields, named as the embedded ones' JSON, replace them.
	type mirror struct {
		plan.MirrorOp
		Change string `json:"change"`
	}
	type batch struct {
		plan.Batch
		Changes []string   `json:"changes"`
		Of      [][]string `json:"of"`
	}
	type commit struct {
		plan.Commit
		Changes []string `json:"changes"`
	}
	var v struct {
		Decisions []decision
		Mirrors   []mirror
		Purges    []batch
		Commits   []commit
		Stats     plan.Stats
	}
	for i, d := range p.Changes {
		detail := record.ReplaceAllStringFunc(d.Detail, func(m string) string {
			n, _ := strconv.Atoi(record.FindStringSubmatch(m)[1])
			return "(record " + name(n) + ")"
		})
		v.Decisions = append(v.Decisions, decision{name(i), d.Decision, d.Reason, detail, d.Sites})
	}
	slices.SortFunc(v.Decisions, func(a, b decision) int {
		return cmp.Or(strings.Compare(a.Change, b.Change), strings.Compare(a.Reason, b.Reason), strings.Compare(a.Detail, b.Detail))
	})
	for _, m := range p.Mirrors {
		v.Mirrors = append(v.Mirrors, mirror{m, name(m.Change)})
	}
	for _, b := range p.Purges {
		cb := batch{Batch: b, Changes: names(b.Changes)}
		for _, of := range b.Of {
			cb.Of = append(cb.Of, names(of))
		}
		v.Purges = append(v.Purges, cb)
	}
	for _, c := range p.Commits {
		v.Commits = append(v.Commits, commit{c, names(c.Changes)})
	}
	v.Stats = p.Stats
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstDiff shows where two texts part, for a failure message.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %s, want %s", i+1, strings.TrimSpace(g[i]), strings.TrimSpace(w[i]))
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

// A random history of puts, copies and removes per key, delivered shuffled,
// with duplicates, in random batches. Afterwards the ledger holds each
// key's last change, every real change was purged at least once (by it or a
// later change to the key), and no stale event caused a purge.
func TestPropertyRandomHistories(t *testing.T) {
	for seed := range 300 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		type ev struct {
			c    event.Change
			real bool
		}
		var history []ev
		lastSeq := map[string]int{}
		for k := range 8 {
			key := fmt.Sprintf("k%d", k)
			etag, exists := "", false
			for s := 1; s <= 1+rng.IntN(6); s++ {
				seq := fmt.Sprintf("%X", 0x10*s+k) // grows per key; lengths vary
				var c event.Change
				real := false
				switch r := rng.IntN(10); {
				case r < 5:
					ne := etag
					if rng.IntN(3) > 0 || !exists {
						ne = fmt.Sprint("e", rng.IntN(4))
					}
					c = put(key, ne, seq)
					real = !exists || ne != etag
					etag, exists = ne, true
				case r < 7 && exists:
					c = cp(key, etag, seq)
					real = true
				default:
					c = rm(key, seq)
					real = exists
					etag, exists = "", false
				}
				history = append(history, ev{c, real})
				lastSeq[key] = 0x10*s + k
			}
		}
		delivered := slices.Clone(history)
		for range len(history) / 3 {
			delivered = append(delivered, history[rng.IntN(len(history))])
		}
		rng.Shuffle(len(delivered), func(i, j int) { delivered[i], delivered[j] = delivered[j], delivered[i] })

		held := map[plan.Object]ledger.Record{}
		purgedUpTo := map[string][]string{} // key -> sequencers of the changes that purged it
		for len(delivered) > 0 {
			n := 1 + rng.IntN(len(delivered))
			batch := make([]event.Change, n)
			for i := range batch {
				batch[i] = delivered[i].c
			}
			delivered = delivered[n:]
			p := plan.Make(cfg, batch, held)
			for _, d := range p.Changes {
				if d.Decision != plan.Purge {
					continue
				}
				// Stale: the CDN was purged for this change or a later one.
				if h, ok := held[plan.Object{Bucket: d.Bucket, Key: d.Key}]; ok && h.Purged != "" && ledger.CompareSequencer(d.Sequencer, h.Purged) <= 0 {
					t.Fatalf("seed %d: a stale event purged %s (seq %s, last purged for %s)", seed, d.Key, d.Sequencer, h.Purged)
				}
				// A purge leaves the CDN fresh up to the change it is for, or
				// up to what the ledger had applied, if that is later (a
				// change that arrived late).
				covered := d.Sequencer
				if h, ok := held[plan.Object{Bucket: d.Bucket, Key: d.Key}]; ok && ledger.CompareSequencer(h.Sequencer, covered) > 0 {
					covered = h.Sequencer
				}
				purgedUpTo[d.Key] = append(purgedUpTo[d.Key], covered)
			}
			for _, cm := range p.Commits {
				o := plan.Object{Bucket: cm.Record.Bucket, Key: cm.Record.Key}
				if h, ok := held[o]; !ok || ledger.Newer(cm.Record, h) {
					held[o] = cm.Record
				}
			}
		}
		for key, seq := range lastSeq {
			if h := held[plan.Object{Bucket: "my-site", Key: key}]; ledger.CompareSequencer(h.Sequencer, fmt.Sprintf("%X", seq)) != 0 {
				t.Fatalf("seed %d: ledger holds %s for %s, want its last change %X", seed, h.Sequencer, key, seq)
			}
		}
		for _, e := range history {
			if !e.real {
				continue
			}
			if !slices.ContainsFunc(purgedUpTo[e.c.Key], func(s string) bool { return ledger.CompareSequencer(s, e.c.Sequencer) >= 0 }) {
				t.Fatalf("seed %d: the change %s %s seq %s was never purged (purges at %v)", seed, e.c.Kind, e.c.Key, e.c.Sequencer, purgedUpTo[e.c.Key])
			}
		}
	}
}

func TestFillingBatch(t *testing.T) {
	target := func(provider string, urls int) plan.Target {
		return plan.Target{Name: provider, Provider: provider,
			Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindURL: urls, purge.KindPath: urls, purge.KindTag: 256}}}
	}
	for _, tc := range []struct {
		name    string
		targets []plan.Target
		want    int
	}{
		{"no targets", nil, 1000},
		{"no limits", []plan.Target{{Name: "log", Provider: "log"}}, 1000},
		{"cloudflare at 30 URLs", []plan.Target{target("cloudflare", 30)}, 1020},
		{"akamai at 500 URLs", []plan.Target{target("akamai", 500)}, 1000},
		{"cloudfront at 3,000 paths", []plan.Target{target("cloudfront", 3000)}, 3000},
		{"cloudfront and cloudflare", []plan.Target{target("cloudfront", 3000), target("cloudflare", 30)}, 3000},
		{"cloudflare and akamai", []plan.Target{target("cloudflare", 30), target("akamai", 500)}, 1500},
		{"akamai's 10,000 URLs, above most: left out", []plan.Target{target("akamai", 10000), target("cloudflare", 30)}, 1020},
		{"one item a request: left out", []plan.Target{target("varnish", 1), target("cloudflare", 100)}, 1000},
		{"a multiple above most", []plan.Target{target("a", 700), target("b", 900)}, 1000},
		{"one limit, rounded up", []plan.Target{target("a", 700)}, 1400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (plan.Config{Targets: tc.targets}).FillingBatch(1000, 3000); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
	// Bounds that leave no choice.
	c := plan.Config{Targets: []plan.Target{target("cloudflare", 30)}}
	for _, b := range [][3]int{{0, 3000, 0}, {1000, 999, 1000}, {1000, 1010, 1000}, {1, 30, 30}} {
		if got := c.FillingBatch(b[0], b[1]); got != b[2] {
			t.Errorf("FillingBatch(%d, %d): got %d, want %d", b[0], b[1], got, b[2])
		}
	}
}
