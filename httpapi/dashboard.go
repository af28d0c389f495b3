package httpapi

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/offload-dev/offload/pipeline"
)

// dashboardHead is the page's head: its title and inline CSS. The body is
// written by render, in Go rather than with html/template: a template's
// reflective method calls stop the linker from dropping unused methods,
// which doubled the Lambda binary (15 MB to 31 MB).
//
//go:embed dashboard_head.html
var dashboardHead string

// dashboardData is what the page shows.
type dashboardData struct {
	Now      time.Time
	Inbox    pipeline.InboxStats
	Dead     []pipeline.Entry // dead letters, the first few
	Targets  []string
	Changes  []changeRow
	Purges   []purgeView
	Saved    savings
	Cache    cacheSummary
	Chart    chart
	Decided  []reasonCount
	Received int64
}

type reasonCount struct {
	Decision, Reason string
	N                int64
}

type cacheSummary struct {
	Entries      int
	Hits, Misses int64
	Ratio        float64
	Known        bool // any read yet
}

// SavedRequests and SavedPaths are what batching saved, as a share.
func (d dashboardData) SavedRequests() float64 { return share(d.Saved.PerEvent, d.Saved.Requests) }
func (d dashboardData) SavedPaths() float64 {
	return share(d.Saved.PerEventBilled, d.Saved.BilledPaths)
}

func share(naive, actual int64) float64 {
	if naive <= 0 {
		return 0
	}
	return float64(naive-actual) / float64(naive)
}

// dashboardPurges and dashboardChanges bound the page's lists.
const (
	dashboardPurges  = 20
	dashboardChanges = 50
)

func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	st, err := s.Inbox.Stats(r.Context(), 0)
	if err != nil {
		s.Logger.Error("httpapi: inbox stats", "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, "cannot read the inbox")
		return
	}
	d := dashboardData{Now: s.Now(), Inbox: st}
	if s.Pipeline != nil {
		d.Targets = s.targets()
	}
	// Purges in progress are followed, briefly, so the page shows their
	// state now.
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	d.Dead = s.deadLetters(ctx)
	for _, p := range s.Monitor.recentPurges(dashboardPurges) {
		p.follow(ctx, s.follower(p.Target))
		d.Purges = append(d.Purges, p.view())
	}
	if s.CacheStats != nil {
		for _, c := range s.CacheStats() {
			d.Cache.Entries++
			d.Cache.Hits += c.Hits
			d.Cache.Misses += c.Misses
		}
		if n := d.Cache.Hits + d.Cache.Misses; n > 0 {
			d.Cache.Known, d.Cache.Ratio = true, float64(d.Cache.Hits)/float64(n)
		}
	}
	m := s.Monitor
	m.mu.Lock()
	d.Changes = m.changes.newest(dashboardChanges)
	d.Saved = m.saved
	d.Received = m.events
	for _, k := range sorted(m.decisions, func(a, b decisionKey) int {
		return cmp.Or(cmp.Compare(a.decision, b.decision), cmp.Compare(a.reason, b.reason))
	}) {
		d.Decided = append(d.Decided, reasonCount{k.decision, k.reason, m.decisions[k]})
	}
	d.Chart = m.chart(d.Now)
	m.mu.Unlock()

	var buf bytes.Buffer
	d.render(&buf)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	_, _ = buf.WriteTo(w)
}

// chart is the requests-per-minute bar chart, laid out for inline SVG.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int64
	Ticks         []tick
	Empty         bool
}

type bar struct {
	X, W               int
	BatchedY, BatchedH int
	EventY, EventH     int
	Batched, PerEvent  int64
	Label              string
}

type tick struct {
	X     int
	Label string
}

// chart lays out the last chartMinutes minutes, oldest on the left, the
// per-event bar behind the batched one. m.mu is held.
func (m *Monitor) chart(now time.Time) chart {
	const (
		width, height = 720, 180
		top, bottom   = 12, 24
		slot          = width / chartMinutes
	)
	c := chart{Width: width, Height: height, Empty: true}
	at := now.Unix() / 60
	var mins [chartMinutes]minute
	for i := range chartMinutes {
		want := at - int64(chartMinutes-1-i)
		if mn := m.minutes[want%chartMinutes]; mn.at == want {
			mins[i] = mn
		}
		c.Max = max(c.Max, mins[i].perEvent, mins[i].batched)
	}
	scale := 1.0
	if c.Max > 0 {
		c.Empty = false
		scale = float64(height-top-bottom) / float64(c.Max)
	}
	base := height - bottom
	for i, mn := range mins {
		x := i * slot
		b := bar{X: x + 3, W: slot - 6, Batched: mn.batched, PerEvent: mn.perEvent}
		b.EventH = int(float64(mn.perEvent)*scale + 0.5)
		b.BatchedH = int(float64(mn.batched)*scale + 0.5)
		b.EventY, b.BatchedY = base-b.EventH, base-b.BatchedH
		minutesAgo := chartMinutes - 1 - i
		b.Label = fmt.Sprintf("%s: %d requests batched, %d one purge per event",
			time.Unix((at-int64(minutesAgo))*60, 0).UTC().Format("15:04"), mn.batched, mn.perEvent)
		c.Bars = append(c.Bars, b)
		if minutesAgo%10 == 0 {
			label := "now"
			if minutesAgo > 0 {
				label = fmt.Sprintf("-%dm", minutesAgo)
			}
			c.Ticks = append(c.Ticks, tick{X: x + slot/2, Label: label})
		}
	}
	return c
}

// ago says how long ago t was, roughly.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh ago", int(d.Hours()))
}

func sorted[K comparable, V any](m map[K]V, cmp func(a, b K) int) []K {
	return slices.SortedFunc(maps.Keys(m), cmp)
}
