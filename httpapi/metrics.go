package httpapi

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/pipeline"
)

// metrics answers GET /metrics in the Prometheus text exposition format
// (version 0.0.4), written with the standard library.
func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	st, err := s.Inbox.Stats(r.Context(), 0)
	if err != nil {
		s.Logger.Error("httpapi: inbox stats", "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, "cannot read the inbox")
		return
	}
	var cs []cache.Stats
	if s.CacheStats != nil {
		cs = s.CacheStats()
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriter(w)
	s.Monitor.writeMetrics(bw, st, cs)
	_ = bw.Flush()
}

// family writes one metric family: its HELP and TYPE lines, then samples.
type family struct {
	w          io.Writer
	name, kind string
}

func (m *Monitor) writeMetrics(w io.Writer, inbox pipeline.InboxStats, cs []cache.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()

	f := head(w, "offload_events_received_total", "counter", "Webhook deliveries stored in the inbox.")
	f.sample(nil, float64(m.events))

	f = head(w, "offload_batches_total", "counter", "Batches of changes applied, by outcome (error: the whole batch failed, as when the ledger cannot be read).")
	f.sample([]string{"outcome", "ok"}, float64(m.batches))
	f.sample([]string{"outcome", "error"}, float64(m.applyErrors))

	f = head(w, "offload_decisions_total", "counter", "Changes planned, by decision and reason.")
	for _, k := range sorted(m.decisions, func(a, b decisionKey) int {
		return cmp.Or(cmp.Compare(a.decision, b.decision), cmp.Compare(a.reason, b.reason))
	}) {
		f.sample([]string{"decision", k.decision, "reason", k.reason}, float64(m.decisions[k]))
	}

	byPurge := func(a, b purgeKey) int {
		return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(a.target, b.target), cmp.Compare(a.outcome, b.outcome))
	}
	f = head(w, "offload_purge_requests_total", "counter", "Purge requests sent to CDNs, by provider, target and outcome.")
	for _, k := range sorted(m.purgeRequests, byPurge) {
		f.sample([]string{"provider", k.provider, "target", k.target, "outcome", k.outcome}, float64(m.purgeRequests[k]))
	}
	f = head(w, "offload_purge_paths_total", "counter", "Paths and URLs purged, by provider, target and outcome.")
	for _, k := range sorted(m.purgeItems, byPurge) {
		f.sample([]string{"provider", k.provider, "target", k.target, "outcome", k.outcome}, float64(m.purgeItems[k]))
	}
	f = head(w, "offload_purge_retries_total", "counter", "Purge requests sent again after throttling or a server error, by provider and target.")
	for _, k := range sorted(m.retries, func(a, b targetKey) int {
		return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(a.target, b.target))
	}) {
		f.sample([]string{"provider", k.provider, "target", k.target}, float64(m.retries[k]))
	}

	f = head(w, "offload_purge_requests_planned_total", "counter", "Purge requests the batched plans make.")
	f.sample(nil, float64(m.saved.Requests))
	f = head(w, "offload_purge_requests_per_event_total", "counter", "Purge requests one purge per event would have made.")
	f.sample(nil, float64(m.saved.PerEvent))
	f = head(w, "offload_cloudfront_billed_paths_total", "counter", "CloudFront paths the batched plans bill (a wildcard counts one).")
	f.sample(nil, float64(m.saved.BilledPaths))
	f = head(w, "offload_cloudfront_billed_paths_per_event_total", "counter", "CloudFront paths one invalidation per event would have billed.")
	f.sample(nil, float64(m.saved.PerEventBilled))

	hits := head(w, "offload_cache_hits_total", "counter", "Cache reads served from memory, by entry.")
	for _, c := range cs {
		hits.sample([]string{"entry", cacheName(c)}, float64(c.Hits))
	}
	misses := head(w, "offload_cache_misses_total", "counter", "Cache reads that found no unexpired value, by entry.")
	for _, c := range cs {
		misses.sample([]string{"entry", cacheName(c)}, float64(c.Misses))
	}

	f = head(w, "offload_inbox_depth", "gauge", "Events in the inbox, not yet applied.")
	f.sample(nil, float64(inbox.Depth))
	f = head(w, "offload_inbox_oldest_age_seconds", "gauge", "Age of the oldest event in the inbox; 0 when it is empty.")
	f.sample(nil, inbox.OldestAge)
	f = head(w, "offload_inbox_failing", "gauge", "Inbox entries whose last attempt failed.")
	f.sample(nil, float64(inbox.Failing))

	f = head(w, "offload_http_requests_total", "counter", "HTTP requests answered, by route and status code.")
	for _, k := range sorted(m.httpRequests, func(a, b httpKey) int {
		return cmp.Or(cmp.Compare(a.route, b.route), cmp.Compare(a.code, b.code))
	}) {
		f.sample([]string{"route", k.route, "code", strconv.Itoa(k.code)}, float64(m.httpRequests[k]))
	}
}

func head(w io.Writer, name, kind, help string) family {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, kind)
	return family{w: w, name: name, kind: kind}
}

// sample writes one sample; labels are name, value pairs.
func (f family) sample(labels []string, v float64) {
	var b strings.Builder
	b.WriteString(f.name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i] + `="` + escapeLabel(labels[i+1]) + `"`)
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	b.WriteByte('\n')
	io.WriteString(f.w, b.String())
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func cacheName(c cache.Stats) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Key.String()
}

func sorted[K comparable, V any](m map[K]V, less func(a, b K) int) []K {
	return slices.SortedFunc(maps.Keys(m), less)
}
