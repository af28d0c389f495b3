package httpapi

import (
	"bufio"
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
// (version 0.0.4).
//
// The samples are written here, with the standard library, because this
// handler serves the Lambda bootstrap too, where every linked package's
// init is paid on each cold start: prometheus/client_golang brings protobuf
// and made the stripped bootstrap 1.7 MB larger and its package init about
// 5 ms slower; VictoriaMetrics/metrics, used until then, still cost 1 to 2
// ms of init (its runtime/metrics tables and cgroup files read), for
// counters and gauges without histograms. The tests read the scrape with
// the Prometheus project's own parser and linter.
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

func (m *Monitor) writeMetrics(w io.Writer, inbox pipeline.InboxStats, cs []cache.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()

	f := newFamily(w, "offload_events_received_total", "counter", "Webhook deliveries stored in the inbox.")
	f.add(m.events)
	f.write()

	f = newFamily(w, "offload_batches_total", "counter", "Batches of changes applied, by outcome (error: the whole batch failed, as when the ledger cannot be read).")
	f.add(m.batches, "outcome", "ok")
	f.add(m.applyErrors, "outcome", "error")
	f.write()

	f = newFamily(w, "offload_decisions_total", "counter", "Changes planned, by decision and reason.")
	for k, n := range m.decisions {
		f.add(n, "decision", k.decision, "reason", k.reason)
	}
	f.write()

	f = newFamily(w, "offload_purge_requests_total", "counter", "Purge requests sent to CDNs, by provider, target and outcome.")
	for k, n := range m.purgeRequests {
		f.add(n, "provider", k.provider, "target", k.target, "outcome", k.outcome)
	}
	f.write()
	f = newFamily(w, "offload_purge_paths_total", "counter", "Paths and URLs purged, by provider, target and outcome.")
	for k, n := range m.purgeItems {
		f.add(n, "provider", k.provider, "target", k.target, "outcome", k.outcome)
	}
	f.write()
	f = newFamily(w, "offload_purge_retries_total", "counter", "Purge requests sent again after throttling or a server error, by provider and target.")
	for k, n := range m.retries {
		f.add(n, "provider", k.provider, "target", k.target)
	}
	f.write()

	for _, c := range []struct {
		name, help string
		n          int64
	}{
		{"offload_purge_requests_planned_total", "Purge requests the batched plans make.", m.saved.Requests},
		{"offload_purge_requests_per_event_total", "Purge requests one purge per event would have made.", m.saved.PerEvent},
		{"offload_cloudfront_billed_paths_total", "CloudFront paths the batched plans bill (a wildcard counts one).", m.saved.BilledPaths},
		{"offload_cloudfront_billed_paths_per_event_total", "CloudFront paths one invalidation per event would have billed.", m.saved.PerEventBilled},
	} {
		f = newFamily(w, c.name, "counter", c.help)
		f.add(c.n)
		f.write()
	}

	// An entry is named by its full key: two entries may share a short name
	// (/prod/x/pw and /dev/x/pw), and one series per short name would make
	// Prometheus reject the whole scrape. Two entries with the same key and
	// name are one series, their sum.
	hits := newFamily(w, "offload_cache_hits_total", "counter", "Cache reads served from memory, by entry: its key (source:name) and short name.")
	misses := newFamily(w, "offload_cache_misses_total", "counter", "Cache reads that found no unexpired value, by entry: its key (source:name) and short name.")
	for _, c := range cs {
		hits.add(c.Hits, "key", c.Key.String(), "name", c.Name)
		misses.add(c.Misses, "key", c.Key.String(), "name", c.Name)
	}
	hits.write()
	misses.write()

	f = newFamily(w, "offload_inbox_depth", "gauge", "Events in the inbox, not yet applied.")
	f.set(float64(inbox.Depth))
	f.write()
	f = newFamily(w, "offload_inbox_oldest_age_seconds", "gauge", "Age of the oldest event in the inbox; 0 when it is empty.")
	f.set(inbox.OldestAge)
	f.write()
	f = newFamily(w, "offload_inbox_failing", "gauge", "Inbox entries whose last attempt failed.")
	f.set(float64(inbox.Failing))
	f.write()
	writeQueueMetrics(w, inbox)

	f = newFamily(w, "offload_http_requests_total", "counter", "HTTP requests answered, by route and status code.")
	for k, n := range m.httpRequests {
		f.add(n, "route", k.route, "code", strconv.Itoa(k.code))
	}
	f.write()
}

// family is one metric family: its series by name and labels, written
// sorted after its HELP and TYPE lines. Series with the same labels are one
// series, their sum: a series twice makes Prometheus reject the scrape.
type family struct {
	w                io.Writer
	name, kind, help string
	series           map[string]float64
}

func newFamily(w io.Writer, name, kind, help string) *family {
	return &family{w: w, name: name, kind: kind, help: help, series: map[string]float64{}}
}

// add adds n to a counter's series; labels are name, value pairs.
func (f *family) add(n int64, labels ...string) {
	f.series[f.seriesName(labels)] += float64(n)
}

// set sets a gauge without labels.
func (f *family) set(v float64) {
	f.series[f.name] = v
}

func (f *family) seriesName(labels []string) string {
	if len(labels) == 0 {
		return f.name
	}
	var b strings.Builder
	b.WriteString(f.name)
	b.WriteByte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labels[i] + `="` + labelEscaper.Replace(labels[i+1]) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

func (f *family) write() {
	io.WriteString(f.w, "# HELP "+f.name+" "+helpEscaper.Replace(f.help)+"\n# TYPE "+f.name+" "+f.kind+"\n")
	for _, s := range slices.Sorted(maps.Keys(f.series)) {
		io.WriteString(f.w, s+" "+strconv.FormatFloat(f.series[s], 'f', -1, 64)+"\n")
	}
}

// The text format's escapes: a label value escapes \, " and a line break;
// HELP text \ and a line break.
var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)
