package main

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFreshStats(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	r := &freshRun{
		Updates: []freshUpdate{
			{Obj: 0, Ver: 1, Put: ms(100)},
			{Obj: 1, Ver: 1, Put: ms(150)},
			{Obj: 0, Ver: 2, Put: ms(300)},
			{Obj: 1, Ver: 2, Put: ms(400)}, // never seen
		},
		Reads: []freshRead{
			{Start: ms(50), Obj: 0, Ver: 0},   // before any update: not stale
			{Start: ms(120), Obj: 0, Ver: 0},  // stale for v1
			{Start: ms(160), Obj: 1, Ver: 0},  // stale
			{Start: ms(200), Obj: 0, Ver: 1},  // v1 fresh after 100 ms
			{Start: ms(250), Obj: 1, Ver: 1},  // obj 1 v1 fresh after 100 ms
			{Start: ms(310), Obj: 0, Ver: -1}, // failed
			{Start: ms(320), Obj: 0, Ver: 1},  // stale for v2
			{Start: ms(500), Obj: 0, Ver: 2},  // v2 fresh after 200 ms
			{Start: ms(600), Obj: 1, Ver: 1},  // stale for v2
		},
		Origin:  []time.Duration{ms(10), ms(200), ms(450)},
		Elapsed: ms(700),
	}
	r.settle()
	var got []time.Duration
	for _, u := range r.Updates {
		got = append(got, u.Fresh)
	}
	want := []time.Duration{ms(100), ms(100), ms(200), -1}
	if !equalDurations(got, want) {
		t.Fatalf("time to fresh: got %v, want %v", got, want)
	}
	s := r.stats()
	if s.Never != 1 || s.Reads != 8 || s.Errors != 1 || s.Stale != 4 {
		t.Errorf("never %d, reads %d, errors %d, stale %d; want 1, 8, 1, 4", s.Never, s.Reads, s.Errors, s.Stale)
	}
	if s.P50 != ms(100) || s.Max != -1 {
		t.Errorf("p50 %v, max %v; want 100ms and -1 (never)", s.P50, s.Max)
	}
	if s.Origin != 3 || s.OriginLead != 1 || s.OriginUpdating != 1 || s.OriginQuiet != 1 || s.Quiet != ms(300) {
		t.Errorf("origin %d: before %d, while updating %d, after %d in %v; want 3: 1, 1, 1 in 300ms",
			s.Origin, s.OriginLead, s.OriginUpdating, s.OriginQuiet, s.Quiet)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFreshnessSmoke runs a tiny measurement 5 through real MinIO, Varnish
// and `offload serve`, report and chart included. A machine without MinIO
// or Varnish fails it, as every test of the real components does.
func TestFreshnessSmoke(t *testing.T) {
	cfg := freshConfig{
		Objects: 4, Size: 256, Updates: 8, Every: 150 * time.Millisecond,
		Rate: 80, Readers: 2, Lead: 300 * time.Millisecond, Quiet: 2 * time.Second,
		LongTTL: time.Hour, ShortTTL: time.Second, Seed: 1,
	}
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	var progress strings.Builder
	res, err := measureFreshness(options{Out: out, Progress: &progress}, cfg)
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	for _, run := range []*freshRun{res.A, res.B} {
		s := run.stats()
		if s.Never != 0 || s.Reads == 0 || s.Errors != 0 || s.Origin == 0 {
			t.Errorf("%s: never fresh %d, reads %d, failed %d, origin %d; want 0, >0, 0, >0", run.Label, s.Never, s.Reads, s.Errors, s.Origin)
		}
	}
	// A batch purges an object once however often it changed in it.
	if res.A.Purges <= cfg.Objects {
		t.Errorf("serve applied %d purges, want more than the %d of the first versions", res.A.Purges, cfg.Objects)
	}

	var b strings.Builder
	res.write(func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) })
	text := b.String()
	for _, want := range []string{"## 5. Freshness and offload, end to end", "](docs/freshness.png)", "| time to fresh, p50 |"} {
		if !strings.Contains(text, want) {
			t.Errorf("section lacks %q:\n%s", want, text)
		}
	}
	f, err := os.Open(filepath.Join(filepath.Dir(out), "docs", "freshness.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("chart: %v", err)
	}
	if sz := img.Bounds().Size(); sz.X < 600 || sz.Y < 300 {
		t.Errorf("chart is %v, want at least 600×300", sz)
	}
}
