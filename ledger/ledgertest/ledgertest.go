package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offload-dev/offload/ledger"
)

// Open returns a new, empty ledger. Run closes it at the end of the subtest.
type Open func(t *testing.T) ledger.Ledger

// T0 is the event time the suite's records start from.
var T0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const bucket = "ledgertest-bucket"

// Run runs every check of the ledger.Ledger contract, each as a subtest on
// a ledger of its own.
func Run(t *testing.T, open Open) {
	t.Helper()
	checks := []struct {
		name string
		fn   func(t *testing.T, l ledger.Ledger)
	}{
		{"GetUnseen", testGetUnseen},
		{"CommitThenGet", testCommitThenGet},
		{"Stale", testStale},
		{"EqualSequencerIsStale", testEqualSequencer},
		{"SequencerLengths", testSequencerLengths},
		{"ByTime", testByTime},
		{"Purged", testPurged},
		{"SameKeyTwiceInOneCommit", testSameKeyTwice},
		{"Deletes", testDeletes},
		{"OddKeys", testOddKeys},
		{"Many", testMany},
		{"Concurrent", func(t *testing.T, l ledger.Ledger) { Race(t, []ledger.Ledger{l, l, l, l}) }},
		{"Cancelled", testCancelled},
		{"Invalid", testInvalid},
		{"Receipts", testReceipts},
		{"ReceiptsInvalid", testReceiptsInvalid},
		{"Delete", testDelete},
		{"Closed", testClosed},
		{"Checkpoints", testCheckpoints},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			l := open(t)
			t.Cleanup(func() {
				if err := l.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			c.fn(t, l)
		})
	}
}

func rec(key, seq string, etag string) ledger.Record {
	return ledger.Record{Bucket: bucket, Key: key, Sequencer: seq, ETag: etag, Time: T0}
}

// commit commits recs and checks the per-record results against want (nil
// for written, ledger.ErrStale for stale).
func commit(t *testing.T, l ledger.Ledger, recs []ledger.Record, want ...error) {
	t.Helper()
	errs, err := l.Commit(context.Background(), recs)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if len(errs) != len(recs) {
		t.Fatalf("Commit of %d records: got %d results, want %d", len(recs), len(errs), len(recs))
	}
	for i, e := range errs {
		w := error(nil)
		if want != nil {
			w = want[i]
		}
		if !errors.Is(e, w) { // errors.Is(e, nil) is e == nil
			t.Errorf("Commit record %d (%s %q seq %q): got %v, want %v", i, recs[i].Bucket, recs[i].Key, recs[i].Sequencer, e, w)
		}
	}
}

func get(t *testing.T, l ledger.Ledger, bucket string, keys ...string) map[string]ledger.Record {
	t.Helper()
	got, err := l.Get(context.Background(), bucket, keys)
	if err != nil {
		t.Fatalf("Get(%s, %d keys): %v", bucket, len(keys), err)
	}
	return got
}

// Same reports how two records differ, or "" if they hold the same change:
// times compare as instants, whatever their location.
func Same(got, want ledger.Record) string {
	var d []string
	f := func(name, g, w string) {
		if g != w {
			d = append(d, fmt.Sprintf("%s: got %q, want %q", name, g, w))
		}
	}
	f("bucket", got.Bucket, want.Bucket)
	f("key", got.Key, want.Key)
	f("sequencer", got.Sequencer, want.Sequencer)
	f("etag", got.ETag, want.ETag)
	f("version", got.VersionID, want.VersionID)
	f("purged", got.Purged, want.Purged)
	if !got.Time.Equal(want.Time) {
		d = append(d, fmt.Sprintf("time: got %s, want %s", got.Time, want.Time))
	}
	if got.Deleted != want.Deleted {
		d = append(d, fmt.Sprintf("deleted: got %t, want %t", got.Deleted, want.Deleted))
	}
	return strings.Join(d, "; ")
}

// expect checks that l holds exactly want for those keys of bucket.
func expect(t *testing.T, l ledger.Ledger, bucket string, want ...ledger.Record) {
	t.Helper()
	keys := make([]string, len(want))
	for i, r := range want {
		keys[i] = r.Key
	}
	got := get(t, l, bucket, keys...)
	if len(got) != len(want) {
		t.Errorf("Get(%s): got %d records, want %d", bucket, len(got), len(want))
	}
	for _, w := range want {
		g, ok := got[w.Key]
		if !ok {
			t.Errorf("Get(%s): %q missing", bucket, w.Key)
			continue
		}
		if d := Same(g, w); d != "" {
			t.Errorf("Get(%s) %q: %s", bucket, w.Key, d)
		}
	}
}

func testGetUnseen(t *testing.T, l ledger.Ledger) {
	for _, keys := range [][]string{nil, {}, {"a"}, {"a", "b/c.html", "a"}} {
		got := get(t, l, bucket, keys...)
		if len(got) != 0 {
			t.Errorf("Get(%q) on an empty ledger: got %v, want no records", keys, got)
		}
	}
	errs, err := l.Commit(context.Background(), nil)
	if err != nil || len(errs) != 0 {
		t.Errorf("Commit(nil): got %v, %v; want no results, no error", errs, err)
	}
}

func testCommitThenGet(t *testing.T, l ledger.Ledger) {
	a := ledger.Record{Bucket: bucket, Key: "docs/index.html", Sequencer: "0055AED6DCD90281E5", ETag: "d41d8cd98f00b204e9800998ecf8427e",
		VersionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko", Time: T0.Add(123456789 * time.Nanosecond), Purged: "0055AED6DCD90281E4"}
	b := ledger.Record{Bucket: bucket, Key: "img/a.png", Sequencer: "0055AED6DCD90281E6", ETag: "e1", Time: T0}
	// The same key in another bucket is another object.
	other := ledger.Record{Bucket: "other-bucket", Key: "docs/index.html", Sequencer: "01", ETag: "o1",
		Time: T0.In(time.FixedZone("CET", 3600))}
	commit(t, l, []ledger.Record{a, b, other})
	expect(t, l, bucket, a, b)
	expect(t, l, "other-bucket", other)

	got := get(t, l, bucket, "docs/index.html", "never/seen", "docs/index.html")
	if _, ok := got["never/seen"]; ok || len(got) != 1 {
		t.Errorf("Get of a seen, an unseen and a repeated key: got keys %v, want only docs/index.html", keysOf(got))
	}
	if got := get(t, l, "no-such-bucket", "docs/index.html"); len(got) != 0 {
		t.Errorf("Get from a bucket never written: got %v, want nothing", got)
	}
}

func testStale(t *testing.T, l ledger.Ledger) {
	held := rec("k1", "0B", "new")
	commit(t, l, []ledger.Record{held})
	older := rec("k1", "0A", "old")
	fresh := rec("k2", "01", "k2")
	again := rec("k3", "02", "k3")
	commit(t, l, []ledger.Record{fresh, older, again}, nil, ledger.ErrStale, nil)
	expect(t, l, bucket, held, fresh, again)
}

func testEqualSequencer(t *testing.T, l ledger.Ledger) {
	r := rec("k", "0a", "e1")
	commit(t, l, []ledger.Record{r})
	// A redelivery, and the same sequencer spelt otherwise, later in time.
	dup := r
	dup.ETag = "e2"
	dup.Time = T0.Add(time.Hour)
	padded := dup
	padded.Sequencer = "000A"
	commit(t, l, []ledger.Record{r, dup, padded}, ledger.ErrStale, ledger.ErrStale, ledger.ErrStale)
	expect(t, l, bucket, r)
}

func testSequencerLengths(t *testing.T, l ledger.Ledger) {
	cases := []struct {
		held, next string
		written    bool
	}{
		{"9", "0A", true},
		{"0A", "9", false},
		{"0A", "00FF", true},
		{"00FF", "100", true},
		{"100", "00FF", false},
		{"FF", "00ff", false},
		{"0055AED6DCD90281E5", "55AED6DCD90281E6", true},
		{"55AED6DCD90281E6", "0055AED6DCD90281E5", false},
		{"FFFFFFFFFFFFFFFF", "10000000000000000", true},
		{"10000000000000000", "FFFFFFFFFFFFFFFF", false},
		{"0", "1", true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s_then_%s", c.held, c.next), func(t *testing.T) {
			key := fmt.Sprintf("seq/%d", i)
			held, next := rec(key, c.held, "held"), rec(key, c.next, "next")
			// Times run against the sequencers: they must not decide.
			next.Time = T0.Add(-time.Hour)
			if !c.written {
				next.Time = T0.Add(time.Hour)
			}
			commit(t, l, []ledger.Record{held})
			want, final := error(ledger.ErrStale), held
			if c.written {
				want, final = nil, next
			}
			commit(t, l, []ledger.Record{next}, want)
			expect(t, l, bucket, final)
		})
	}
}

func testByTime(t *testing.T, l ledger.Ledger) {
	cet := time.FixedZone("CET", 3600)
	cases := []struct {
		name       string
		held, next ledger.Record
		written    bool
	}{
		{"later", ledger.Record{Time: T0}, ledger.Record{Time: T0.Add(time.Nanosecond)}, true},
		{"earlier", ledger.Record{Time: T0}, ledger.Record{Time: T0.Add(-time.Second)}, false},
		{"equal", ledger.Record{Time: T0}, ledger.Record{Time: T0}, false},
		{"equal in another zone", ledger.Record{Time: T0}, ledger.Record{Time: T0.In(cet)}, false},
		{"later in another zone", ledger.Record{Time: T0}, ledger.Record{Time: T0.In(cet).Add(time.Millisecond)}, true},
		{"zero time held", ledger.Record{}, ledger.Record{Time: T0}, true},
		{"years apart", ledger.Record{Time: T0}, ledger.Record{Time: T0.AddDate(-10, 0, 0)}, false},
		// One side without a sequencer: the times decide.
		{"held has a sequencer, later time", ledger.Record{Sequencer: "FF", Time: T0}, ledger.Record{Time: T0.Add(time.Second)}, true},
		{"held has a sequencer, earlier time", ledger.Record{Sequencer: "01", Time: T0}, ledger.Record{Time: T0.Add(-time.Second)}, false},
		{"next has a sequencer, later time", ledger.Record{Time: T0}, ledger.Record{Sequencer: "01", Time: T0.Add(time.Second)}, true},
		{"next has a sequencer, earlier time", ledger.Record{Time: T0}, ledger.Record{Sequencer: "FF", Time: T0.Add(-time.Second)}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("time/%d", i)
			held, next := c.held, c.next
			held.Bucket, held.Key, held.ETag = bucket, key, "held"
			next.Bucket, next.Key, next.ETag = bucket, key, "next"
			commit(t, l, []ledger.Record{held})
			want, final := error(ledger.ErrStale), held
			if c.written {
				want, final = nil, next
			}
			commit(t, l, []ledger.Record{next}, want)
			expect(t, l, bucket, final)
		})
	}
}

func testPurged(t *testing.T, l ledger.Ledger) {
	// The same change recorded again once the CDN was purged for it (the
	// planner does this when a late event is purged): the later purge wins.
	withSeq := func(seq, purged string) ledger.Record {
		return ledger.Record{Sequencer: seq, ETag: "e", Time: T0, Purged: purged}
	}
	noSeq := func(d time.Duration, purged string) ledger.Record {
		return ledger.Record{ETag: "e", Time: T0.Add(d), Purged: purged}
	}
	cases := []struct {
		name       string
		held, next ledger.Record
		written    bool
	}{
		{"later purge", withSeq("07", "05"), withSeq("07", "07"), true},
		{"first purge", withSeq("07", ""), withSeq("07", "07"), true},
		{"same purge", withSeq("07", "07"), withSeq("07", "07"), false},
		{"same purge spelt otherwise", withSeq("07", "7"), withSeq("07", "0007"), false},
		{"earlier purge", withSeq("07", "07"), withSeq("07", "05"), false},
		{"no purge", withSeq("07", "05"), withSeq("07", ""), false},
		{"zero purge over none", withSeq("07", ""), withSeq("07", "0"), false},
		{"purges compare as numbers", withSeq("0100", "00FF"), withSeq("100", "100"), true},
		{"purges compare as numbers, back", withSeq("0100", "100"), withSeq("100", "0FF"), false},
		{"older change, later purge", withSeq("08", "05"), withSeq("07", "07"), false},
		{"newer change, no purge", withSeq("07", "07"), withSeq("08", ""), true},
		{"no sequencers, same time, later purge", noSeq(0, "01"), noSeq(0, "02"), true},
		{"no sequencers, same time, same purge", noSeq(0, "02"), noSeq(0, "02"), false},
		{"no sequencers, earlier time, later purge", noSeq(0, "01"), noSeq(-time.Second, "02"), false},
		{"held without sequencer, same time, later purge", noSeq(0, ""), withSeq("07", "07"), true},
		{"next without sequencer, same time, later purge", withSeq("07", ""), noSeq(0, "07"), true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("purged/%d", i)
			held, next := c.held, c.next
			held.Bucket, held.Key = bucket, key
			next.Bucket, next.Key = bucket, key
			next.ETag = "next"
			commit(t, l, []ledger.Record{held})
			want, final := error(ledger.ErrStale), held
			if c.written {
				want, final = nil, next
			}
			commit(t, l, []ledger.Record{next}, want)
			expect(t, l, bucket, final)
		})
	}
}

func testSameKeyTwice(t *testing.T, l ledger.Ledger) {
	// In one Commit, records of one key apply in order.
	commit(t, l, []ledger.Record{rec("down", "02", "2"), rec("down", "01", "1")}, nil, ledger.ErrStale)
	commit(t, l, []ledger.Record{rec("up", "01", "1"), rec("up", "02", "2")}, nil, nil)
	expect(t, l, bucket, rec("down", "02", "2"), rec("up", "02", "2"))
}

func testDeletes(t *testing.T, l ledger.Ledger) {
	put := rec("gone.html", "10", "e1")
	del := ledger.Record{Bucket: bucket, Key: "gone.html", Sequencer: "11", Time: T0.Add(time.Second), Deleted: true}
	commit(t, l, []ledger.Record{put})
	commit(t, l, []ledger.Record{del})
	expect(t, l, bucket, del)
	// A late put from before the remove stays out; a new one goes in.
	commit(t, l, []ledger.Record{put}, ledger.ErrStale)
	again := rec("gone.html", "12", "e2")
	commit(t, l, []ledger.Record{again})
	expect(t, l, bucket, again)
	// A remove of an object never seen is recorded too.
	unseen := ledger.Record{Bucket: bucket, Key: "never.html", Sequencer: "01", Time: T0, Deleted: true}
	commit(t, l, []ledger.Record{unseen})
	expect(t, l, bucket, unseen)
}

// OddKeys are keys a ledger must hold as they are.
var OddKeys = []string{
	"a b.html", "a+b.html", "100%.html", "%2F", "a%20b", "ünïcödé/日本語.html", "emoji 🚀.png",
	"~user/*", "dir/", "/leading", "double//slash", "quote\"s'", "back\\slash", "tab\tkey",
	"question?x=1&y=2", "#hash", "trailing ", " ", ".", "..", strings.Repeat("long/", 150) + "end",
}

func testOddKeys(t *testing.T, l ledger.Ledger) {
	var recs []ledger.Record
	for i, k := range OddKeys {
		recs = append(recs, rec(k, fmt.Sprintf("%X", i+1), "etag-"+k))
	}
	commit(t, l, recs)
	expect(t, l, bucket, recs...)
	// A key is not a prefix or a pattern.
	if got := get(t, l, bucket, "a", "a b", "dir", "ünïcödé", "*", "%"); len(got) != 0 {
		t.Errorf("Get of prefixes of held keys: got %v, want nothing", keysOf(got))
	}
}

func testMany(t *testing.T, l ledger.Ledger) {
	const n = 1000
	recs := make([]ledger.Record, n)
	for i := range recs {
		recs[i] = ledger.Record{Bucket: bucket, Key: fmt.Sprintf("many/%04d.html", i), Sequencer: fmt.Sprintf("%016X", i+1),
			ETag: fmt.Sprintf("%032x", i), Time: T0.Add(time.Duration(i) * time.Millisecond)}
	}
	commit(t, l, recs)
	expect(t, l, bucket, recs...)
	// All stale the second time, but every tenth, which is newer.
	want := make([]error, n)
	for i := range recs {
		want[i] = ledger.ErrStale
		if i%10 == 0 {
			recs[i].Sequencer = fmt.Sprintf("%016X", n+i+1)
			want[i] = nil
		}
	}
	commit(t, l, recs, want...)
	expect(t, l, bucket, recs...)
}

func testCancelled(t *testing.T, l ledger.Ledger) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Get(ctx, bucket, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := l.Commit(ctx, []ledger.Record{rec("a", "01", "e")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with a cancelled context: got %v, want context.Canceled", err)
	}
	if got := get(t, l, bucket, "a"); len(got) != 0 {
		t.Errorf("after a cancelled Commit: got %v, want nothing written", got)
	}
	if _, err := l.Receipts(ctx, bucket, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Receipts with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := l.AddReceipts(ctx, []ledger.Receipt{receipt("a", "c1", "cf")}); !errors.Is(err, context.Canceled) {
		t.Errorf("AddReceipts with a cancelled context: got %v, want context.Canceled", err)
	}
	if got := receipts(t, l, bucket, "a"); len(got) != 0 {
		t.Errorf("after a cancelled AddReceipts: got %v, want nothing written", got)
	}
	commit(t, l, []ledger.Record{rec("a", "01", "e")})
	if err := l.Delete(ctx, bucket, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context: got %v, want context.Canceled", err)
	}
	if got := get(t, l, bucket, "a"); len(got) != 1 {
		t.Errorf("after a cancelled Delete: got %v, want the record still held", got)
	}
}

// testInvalid checks that a record the store cannot hold fails alone:
// it gets ledger.ErrInvalid in its slot, the records beside it are
// written, and Commit's own error stays nil. A 40,000-byte key (S3 allows
// 1,024; only a crafted event has one) is either held as it is or refused
// as invalid, never a failure of the whole Commit.
func testInvalid(t *testing.T, l ledger.Ledger) {
	poison := rec(strings.Repeat("k", 40000), "01", "e")
	recs := []ledger.Record{
		rec("good/1", "01", "e"),
		{Key: "no-bucket", Sequencer: "01", Time: T0},
		rec("good/2", "01", "e"),
		{Bucket: bucket, Sequencer: "01", Time: T0},
		rec("bad-sequencer/not-hex", "ZZZZ", "e"),
		rec("bad-sequencer/too-long", strings.Repeat("F", 40), "e"),
		{Bucket: bucket, Key: "bad-purged", Sequencer: "01", Purged: "0x1", Time: T0},
		poison,
		rec("good/3", "01", "e"),
	}
	errs, err := l.Commit(context.Background(), recs)
	if err != nil {
		t.Fatalf("Commit with invalid records among good ones: got %v, want nil (each record fails alone)", err)
	}
	if len(errs) != len(recs) {
		t.Fatalf("Commit of %d records: got %d results, want %d", len(recs), len(errs), len(recs))
	}
	for i, e := range errs {
		switch {
		case i == 7:
			if e != nil && !errors.Is(e, ledger.ErrInvalid) {
				t.Errorf("record 7 (a 40,000-byte key): got %v, want nil or ledger.ErrInvalid", e)
			}
		case strings.HasPrefix(recs[i].Key, "good/"):
			if e != nil {
				t.Errorf("record %d (%q): got %v, want nil", i, recs[i].Key, e)
			}
		case !errors.Is(e, ledger.ErrInvalid):
			t.Errorf("record %d (bucket %q, key %q, sequencer %q, purged %q): got %v, want ledger.ErrInvalid",
				i, recs[i].Bucket, recs[i].Key, recs[i].Sequencer, recs[i].Purged, e)
		case !strings.Contains(e.Error(), "record "+fmt.Sprint(i)):
			t.Errorf("record %d: got %q, want an error naming it by its index", i, e)
		}
	}
	expect(t, l, bucket, rec("good/1", "01", "e"), rec("good/2", "01", "e"), rec("good/3", "01", "e"))
	got := get(t, l, bucket, "bad-sequencer/not-hex", "bad-sequencer/too-long", "bad-purged", poison.Key)
	if _, held := got[poison.Key]; held != (errs[7] == nil) {
		t.Errorf("the 40,000-byte key: held %v after Commit said %v", held, errs[7])
	}
	delete(got, poison.Key)
	if len(got) != 0 {
		t.Errorf("after Commit refused them: got %v held, want none", keysOf(got))
	}
	// Keys no store holds are never seen: Get, Receipts and Delete say so
	// rather than fail.
	odd := []string{strings.Repeat("x", 40000), "not \xff UTF-8", "good/1"}
	if got := get(t, l, bucket, odd...); len(got) != 1 {
		t.Errorf("Get of keys no store holds and a good one: got %v, want only good/1", keysOf(got))
	}
	if got := receipts(t, l, bucket, odd...); len(got) != 0 {
		t.Errorf("Receipts of keys no store holds: got %v, want none", got)
	}
	if err := l.Delete(context.Background(), bucket, odd[0]); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Delete of a key of 40,000 bytes: got %v, want ledger.ErrNotFound", err)
	}
}

func receipt(key, change string, targets ...string) ledger.Receipt {
	return ledger.Receipt{Bucket: bucket, Key: key, Change: change, Targets: targets}
}

func receipts(t *testing.T, l ledger.Ledger, bucket string, keys ...string) map[string]ledger.Receipt {
	t.Helper()
	got, err := l.Receipts(context.Background(), bucket, keys)
	if err != nil {
		t.Fatalf("Receipts(%s, %d keys): %v", bucket, len(keys), err)
	}
	return got
}

func addReceipts(t *testing.T, l ledger.Ledger, rs ...ledger.Receipt) {
	t.Helper()
	errs, err := l.AddReceipts(context.Background(), rs)
	if err != nil {
		t.Fatalf("AddReceipts: %v", err)
	}
	if len(errs) != len(rs) {
		t.Fatalf("AddReceipts of %d: got %d results", len(rs), len(errs))
	}
	for i, e := range errs {
		if e != nil {
			t.Errorf("AddReceipts %d (%q): got %v, want nil", i, rs[i].Key, e)
		}
	}
}

// expectReceipt checks the receipt held for key: want's change and
// targets, or none when want is the zero Receipt.
func expectReceipt(t *testing.T, l ledger.Ledger, key string, want ledger.Receipt) {
	t.Helper()
	got, ok := receipts(t, l, bucket, key)[key]
	switch {
	case want.Change == "" && ok:
		t.Errorf("receipt of %q: got %+v, want none", key, got)
	case want.Change == "":
	case !ok:
		t.Errorf("receipt of %q: got none, want %+v", key, want)
	case got.Bucket != bucket || got.Key != key || got.Change != want.Change || !slices.Equal(got.Targets, want.Targets):
		t.Errorf("receipt of %q: got %+v, want %+v", key, got, want)
	}
}

// testReceipts checks receipts: one per key, merged for one change and
// replaced by another's, apart from the records (a receipt makes no key
// seen and moves no record), and cleared when the key's record is written.
func testReceipts(t *testing.T, l ledger.Ledger) {
	if got := receipts(t, l, bucket, "r/a", "never"); len(got) != 0 {
		t.Fatalf("Receipts on an empty ledger: got %v, want none", got)
	}
	// Targets come back sorted, without duplicates, merged for one change.
	addReceipts(t, l, receipt("r/a", "c1", "cf"))
	expectReceipt(t, l, "r/a", receipt("r/a", "c1", "cf"))
	addReceipts(t, l, receipt("r/a", "c1", "varnish", "ak", "cf", "ak"))
	expectReceipt(t, l, "r/a", receipt("r/a", "c1", "ak", "cf", "varnish"))
	// Another change's replaces it.
	addReceipts(t, l, receipt("r/a", "c2", "edge"))
	expectReceipt(t, l, "r/a", receipt("r/a", "c2", "edge"))
	// A receipt alone makes no key seen.
	if got := get(t, l, bucket, "r/a"); len(got) != 0 {
		t.Errorf("Get of a key with a receipt alone: got %v, want nothing", got)
	}
	// A record for such a key is written, with or without a sequencer.
	addReceipts(t, l, receipt("r/b", "c1", "cf"))
	first, noSeq := rec("r/a", "05", "e"), ledger.Record{Bucket: bucket, Key: "r/b", ETag: "e", Time: T0}
	commit(t, l, []ledger.Record{first, noSeq})
	expect(t, l, bucket, first, noSeq)
	// ... and clears the receipt.
	expectReceipt(t, l, "r/a", ledger.Receipt{})
	expectReceipt(t, l, "r/b", ledger.Receipt{})

	// A receipt leaves the record as it is; a stale Commit leaves the
	// receipt; a written one clears it.
	addReceipts(t, l, receipt("r/a", "c3", "cf"))
	expect(t, l, bucket, first)
	commit(t, l, []ledger.Record{rec("r/a", "04", "older")}, ledger.ErrStale)
	expectReceipt(t, l, "r/a", receipt("r/a", "c3", "cf"))
	newer := rec("r/a", "06", "e2")
	commit(t, l, []ledger.Record{newer})
	expect(t, l, bucket, newer)
	expectReceipt(t, l, "r/a", ledger.Receipt{})

	// Keys are held as they are, apart from each other and other buckets.
	var rs []ledger.Receipt
	for i, k := range OddKeys {
		rs = append(rs, receipt(k, fmt.Sprint("change-", i), "cf"))
	}
	addReceipts(t, l, rs...)
	got := receipts(t, l, bucket, OddKeys...)
	if len(got) != len(OddKeys) {
		t.Errorf("Receipts of %d odd keys: got %d", len(OddKeys), len(got))
	}
	for i, k := range OddKeys {
		if got[k].Change != fmt.Sprint("change-", i) {
			t.Errorf("receipt of %q: got %+v, want change-%d", k, got[k], i)
		}
	}
	if got := receipts(t, l, "other-bucket", OddKeys...); len(got) != 0 {
		t.Errorf("Receipts from another bucket: got %v, want none", got)
	}
}

// testReceiptsInvalid checks that a receipt the store cannot hold fails
// alone, as a record does.
func testReceiptsInvalid(t *testing.T, l ledger.Ledger) {
	rs := []ledger.Receipt{
		receipt("ri/good", "c1", "cf"),
		receipt("ri/no-change", "", "cf"),
		receipt("ri/no-targets", "c1"),
		receipt("ri/empty-target", "c1", ""),
		{Bucket: "bad/bucket", Key: "k", Change: "c1", Targets: []string{"cf"}},
		receipt("", "c1", "cf"),
		receipt("ri/good-too", "c1", "ak"),
	}
	errs, err := l.AddReceipts(context.Background(), rs)
	if err != nil {
		t.Fatalf("AddReceipts with invalid receipts among good ones: got %v, want nil", err)
	}
	if len(errs) != len(rs) {
		t.Fatalf("AddReceipts of %d: got %d results", len(rs), len(errs))
	}
	for i, e := range errs {
		good := strings.HasPrefix(rs[i].Key, "ri/good")
		if good && e != nil || !good && !errors.Is(e, ledger.ErrInvalid) {
			t.Errorf("receipt %d (%+v): got %v, want %s", i, rs[i], e, map[bool]string{true: "nil", false: "ledger.ErrInvalid"}[good])
		}
	}
	expectReceipt(t, l, "ri/good", receipt("ri/good", "c1", "cf"))
	expectReceipt(t, l, "ri/good-too", receipt("ri/good-too", "c1", "ak"))
	if got := receipts(t, l, bucket, "ri/no-change", "ri/no-targets", "ri/empty-target"); len(got) != 0 {
		t.Errorf("after AddReceipts refused them: got %v, want none", got)
	}
}

// testDelete checks the operator's reset: a record and its receipt go, the
// key is as if never seen (a change older than the record deleted is
// written), and nothing else changes.
func testDelete(t *testing.T, l ledger.Ledger) {
	ctx := context.Background()
	if err := l.Delete(ctx, bucket, "never"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Delete of a key never seen: got %v, want ledger.ErrNotFound", err)
	}
	// A crafted sequencer, as large as a sequencer may be, pins the key:
	// every real change after it is stale.
	pinned := rec("pinned.html", strings.Repeat("F", ledger.MaxSequencerDigits), "crafted")
	real := rec("pinned.html", "0055AED6DCD90281E5", "real")
	commit(t, l, []ledger.Record{pinned, rec("kept.html", "01", "e")})
	commit(t, l, []ledger.Record{real}, ledger.ErrStale)
	addReceipts(t, l, receipt("pinned.html", "c1", "cf"))
	other := ledger.Record{Bucket: "other-bucket", Key: "pinned.html", Sequencer: "01", ETag: "o", Time: T0}
	commit(t, l, []ledger.Record{other})

	if err := l.Delete(ctx, bucket, "pinned.html"); err != nil {
		t.Fatalf("Delete: got %v, want nil", err)
	}
	if got := get(t, l, bucket, "pinned.html"); len(got) != 0 {
		t.Errorf("Get after Delete: got %v, want nothing", got)
	}
	expectReceipt(t, l, "pinned.html", ledger.Receipt{})
	expect(t, l, bucket, rec("kept.html", "01", "e"))
	expect(t, l, "other-bucket", other)
	if err := l.Delete(ctx, bucket, "pinned.html"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Delete twice: got %v, want ledger.ErrNotFound", err)
	}
	commit(t, l, []ledger.Record{real})
	expect(t, l, bucket, real)

	// A key with a receipt alone is deleted too.
	addReceipts(t, l, receipt("receipt-only.html", "c1", "cf"))
	if err := l.Delete(ctx, bucket, "receipt-only.html"); err != nil {
		t.Errorf("Delete of a key with a receipt alone: got %v, want nil", err)
	}
	expectReceipt(t, l, "receipt-only.html", ledger.Receipt{})

	// Odd keys are deleted as they are, and only they.
	var recs []ledger.Record
	for i, k := range OddKeys {
		recs = append(recs, rec(k, fmt.Sprintf("%X", i+1), "e"))
	}
	commit(t, l, recs)
	for _, k := range OddKeys {
		if err := l.Delete(ctx, bucket, k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
	}
	if got := get(t, l, bucket, OddKeys...); len(got) != 0 {
		t.Errorf("after deleting every odd key: got %v held", keysOf(got))
	}

	for _, c := range []struct{ bucket, key string }{{"bad/bucket", "k"}, {"", "k"}, {bucket, ""}} {
		if err := l.Delete(ctx, c.bucket, c.key); !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("Delete(%q, %q): got %v, want ledger.ErrInvalid", c.bucket, c.key, err)
		}
	}
}

func testClosed(t *testing.T, l ledger.Ledger) {
	commit(t, l, []ledger.Record{rec("a", "01", "e")})
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := l.Get(context.Background(), bucket, []string{"a"}); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Get after Close: got %v, want ledger.ErrClosed", err)
	}
	if _, err := l.Commit(context.Background(), []ledger.Record{rec("a", "02", "e")}); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Commit after Close: got %v, want ledger.ErrClosed", err)
	}
	if _, err := l.Receipts(context.Background(), bucket, []string{"a"}); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Receipts after Close: got %v, want ledger.ErrClosed", err)
	}
	if _, err := l.AddReceipts(context.Background(), []ledger.Receipt{receipt("a", "c", "cf")}); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("AddReceipts after Close: got %v, want ledger.ErrClosed", err)
	}
	if err := l.Delete(context.Background(), bucket, "a"); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Delete after Close: got %v, want ledger.ErrClosed", err)
	}
	// Run closes it once more.
}

// testCheckpoints checks ledger.Checkpointer, for ledgers that have it:
// marks are kept by name, apart from each other and from the records, and
// an empty value removes one.
func testCheckpoints(t *testing.T, l ledger.Ledger) {
	cp, ok := l.(ledger.Checkpointer)
	if !ok {
		t.Skip("not a ledger.Checkpointer")
	}
	ctx := context.Background()
	get := func(name, want string) {
		t.Helper()
		got, err := cp.Checkpoint(ctx, name)
		if err != nil || got != want {
			t.Fatalf("Checkpoint(%q): got %q, %v; want %q", name, got, err, want)
		}
	}
	set := func(name, value string) {
		t.Helper()
		if err := cp.SetCheckpoint(ctx, name, value); err != nil {
			t.Fatalf("SetCheckpoint(%q, %q): %v", name, value, err)
		}
	}
	get("backfill/www", "")
	set("backfill/www", "docs/a b.html")
	set("backfill/other", "x")
	commit(t, l, []ledger.Record{rec("backfill/www", "01", "e")})
	get("backfill/www", "docs/a b.html")
	set("backfill/www", "docs/z.html")
	get("backfill/www", "docs/z.html")
	get("backfill/other", "x")
	set("backfill/www", "")
	get("backfill/www", "")
	get("backfill/other", "x")
	if recs, err := l.Get(ctx, bucket, []string{"backfill/www"}); err != nil || recs["backfill/www"].Sequencer != "01" {
		t.Fatalf("the record beside the checkpoints: got %+v, %v", recs, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cp.Checkpoint(cancelled, "backfill/other"); !errors.Is(err, context.Canceled) {
		t.Errorf("Checkpoint with a cancelled context: got %v, want context.Canceled", err)
	}
	if err := cp.SetCheckpoint(cancelled, "backfill/other", "y"); !errors.Is(err, context.Canceled) {
		t.Errorf("SetCheckpoint with a cancelled context: got %v, want context.Canceled", err)
	}
	get("backfill/other", "x")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := cp.Checkpoint(ctx, "backfill/other"); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Checkpoint after Close: got %v, want ledger.ErrClosed", err)
	}
	if err := cp.SetCheckpoint(ctx, "backfill/other", "y"); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("SetCheckpoint after Close: got %v, want ledger.ErrClosed", err)
	}
}

// Race has writers commit the same keys with the same sequencers, each in
// its own shuffled order and batches, one goroutine per Ledger in ls, while
// a reader watches. ls may hold one Ledger several times, or several
// Ledgers over one store (two Lambda environments over one table). It
// checks that no key ever moves backwards, that each (key, sequencer) is
// written by at most one writer, and that each key ends on its highest
// sequencer, written by exactly one.
func Race(t *testing.T, ls []ledger.Ledger) {
	t.Helper()
	const keys, seqs, batch = 8, 8, 8
	ctx := context.Background()
	type kv struct{ key, seq int }
	var all []kv
	for k := range keys {
		for s := range seqs {
			all = append(all, kv{k, s})
		}
	}
	key := func(k int) string { return fmt.Sprintf("race/%d", k) }
	// Sequencers of different lengths, so that order is by number.
	seq := func(s int) string { return fmt.Sprintf("%X", 1<<(4*s)) }

	var (
		mu      sync.Mutex
		written = map[kv]int{}
		wg      sync.WaitGroup
		done    = make(chan struct{})
	)
	for w, l := range ls {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 42))
			mine := append([]kv(nil), all...)
			r.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			for start := 0; start < len(mine); start += batch {
				part := mine[start:min(start+batch, len(mine))]
				recs := make([]ledger.Record, len(part))
				for i, p := range part {
					recs[i] = ledger.Record{Bucket: bucket, Key: key(p.key), Sequencer: seq(p.seq),
						ETag: fmt.Sprintf("w%d", w), Time: T0}
				}
				errs, err := l.Commit(ctx, recs)
				if err != nil {
					t.Errorf("writer %d: Commit: %v", w, err)
					return
				}
				mu.Lock()
				for i, e := range errs {
					switch {
					case e == nil:
						written[part[i]]++
					case !errors.Is(e, ledger.ErrStale):
						t.Errorf("writer %d: record %s %s: got %v, want nil or ErrStale", w, recs[i].Key, recs[i].Sequencer, e)
					}
				}
				mu.Unlock()
			}
		})
	}
	var reader sync.WaitGroup
	names := make([]string, keys)
	for k := range names {
		names[k] = key(k)
	}
	reader.Go(func() {
		last := map[string]string{}
		for {
			select {
			case <-done:
				return
			default:
			}
			got, err := ls[0].Get(ctx, bucket, names)
			if err != nil {
				t.Errorf("reader: Get: %v", err)
				return
			}
			for k, r := range got {
				if prev, ok := last[k]; ok && ledger.CompareSequencer(r.Sequencer, prev) < 0 {
					t.Errorf("reader: %s went back from %s to %s", k, prev, r.Sequencer)
				}
				last[k] = r.Sequencer
			}
		}
	})
	wg.Wait()
	close(done)
	reader.Wait()

	for p, n := range written {
		if n > 1 {
			t.Errorf("%s seq %s: written by %d writers, want at most 1", key(p.key), seq(p.seq), n)
		}
	}
	got := get(t, ls[len(ls)-1], bucket, names...)
	top := seq(seqs - 1)
	for k := range keys {
		if r := got[key(k)]; r.Sequencer != top {
			t.Errorf("%s: got sequencer %q at the end, want %q", key(k), r.Sequencer, top)
		}
		if n := written[kv{k, seqs - 1}]; n != 1 {
			t.Errorf("%s seq %s: written %d times, want once", key(k), top, n)
		}
	}
}

func keysOf(m map[string]ledger.Record) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Records returns n records of one bucket, with sequencers from first.
func Records(n int, first uint64) []ledger.Record {
	recs := make([]ledger.Record, n)
	for i := range recs {
		recs[i] = ledger.Record{Bucket: bucket, Key: fmt.Sprintf("bench/dir%02d/object-%06d.html", i%50, i),
			Sequencer: fmt.Sprintf("%018X", first+uint64(i)), ETag: fmt.Sprintf("%032x", i), Time: T0}
	}
	return recs
}

// BenchCommit measures a Commit of n records that are all newer than the
// ones held: the steady state of the pipeline.
func BenchCommit(b *testing.B, l ledger.Ledger, n int) {
	ctx := context.Background()
	seq := uint64(1)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		recs := Records(n, seq)
		seq += uint64(n)
		b.StartTimer()
		errs, err := l.Commit(ctx, recs)
		if err != nil {
			b.Fatal(err)
		}
		for i, e := range errs {
			if e != nil {
				b.Fatalf("record %d: %v", i, e)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchGet measures a Get of n keys, all held.
func BenchGet(b *testing.B, l ledger.Ledger, n int) {
	ctx := context.Background()
	recs := Records(n, 1)
	if _, err := l.Commit(ctx, recs); err != nil {
		b.Fatal(err)
	}
	keys := make([]string, n)
	for i, r := range recs {
		keys[i] = r.Key
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := l.Get(ctx, bucket, keys)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != n {
			b.Fatalf("got %d records, want %d", len(got), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
