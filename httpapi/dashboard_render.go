package httpapi

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
)

// render writes the page. Every value from outside (keys, buckets, errors,
// target names) goes through esc.
func (d dashboardData) render(b *bytes.Buffer) {
	esc := html.EscapeString
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	percent := func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

	b.WriteString(dashboardHead)
	w("<body>\n<header>\n  <h1>offload</h1>\n  <span class=\"sub\">targets: ")
	if len(d.Targets) == 0 {
		w("none")
	}
	for i, t := range d.Targets {
		if i > 0 {
			w(", ")
		}
		w(esc(t))
	}
	w("</span>\n  <span class=\"sub\">at ", d.Now.UTC().Format("15:04:05"), " UTC</span>\n</header>\n<main>\n<div class=\"cards\">\n")

	w(`  <div class="card" id="inbox"><h2>Inbox</h2><div class="big">`, strconv.Itoa(d.Inbox.Depth), "</div>\n    <div class=\"note\">")
	if d.Inbox.Depth > 0 {
		w(fmt.Sprintf("oldest %.0fs old", d.Inbox.OldestAge))
	} else {
		w("empty: every event applied")
	}
	if d.Inbox.Failing > 0 {
		w(", ", strconv.Itoa(d.Inbox.Failing), " failing")
	}
	w(queueNote(d.Inbox))
	w("</div></div>\n")
	w(`  <div class="card" id="changes"><h2>Changes</h2><div class="big">`, n(d.Saved.Changes), "</div>\n",
		`    <div class="note">purged, from `, n(d.Received), " events received</div></div>\n")
	w(`  <div class="card" id="saved-requests"><h2>Purge requests</h2><div class="big">`, n(d.Saved.Requests),
		` <span class="note">vs `, n(d.Saved.PerEvent), "</span></div>\n",
		`    <div class="note">batched vs one purge per event: `, percent(d.SavedRequests()), " saved</div></div>\n")
	w(`  <div class="card" id="saved-paths"><h2>CloudFront paths billed</h2><div class="big">`, n(d.Saved.BilledPaths),
		` <span class="note">vs `, n(d.Saved.PerEventBilled), "</span></div>\n    <div class=\"note\">")
	if d.Saved.PerEventBilled > 0 {
		w(percent(d.SavedPaths()), " saved")
	} else {
		w("no CloudFront target in use")
	}
	w("</div></div>\n")
	w(`  <div class="card" id="cache"><h2>Cache hit ratio</h2><div class="big">`)
	if d.Cache.Known {
		w(percent(d.Cache.Ratio))
	} else {
		w("–")
	}
	w("</div>\n    <div class=\"note\">", n(d.Cache.Hits), " hits, ", n(d.Cache.Misses), " misses, ", strconv.Itoa(d.Cache.Entries), " entries</div></div>\n</div>\n\n")

	c := d.Chart
	width, height := strconv.Itoa(c.Width), strconv.Itoa(c.Height)
	w("<div class=\"row\">\n  <section id=\"chart\">\n    <h2>Purge requests per minute</h2>\n",
		`    <div class="legend"><span><i style="background:var(--naive)"></i>one purge per event</span><span><i style="background:var(--batched)"></i>batched (sent)</span></div>`, "\n",
		`    <svg width="100%" viewBox="0 0 `, width, " ", height, `" role="img" aria-label="purge requests per minute, batched and one purge per event">`, "\n",
		`      <line x1="0" y1="`, height, `" x2="`, width, `" y2="`, height, `" stroke="#e4e7ec"/>`, "\n")
	for _, br := range c.Bars {
		x, bw := strconv.Itoa(br.X), strconv.Itoa(br.W)
		w("      <g><title>", esc(br.Label), "</title>",
			`<rect x="`, x, `" y="`, strconv.Itoa(br.EventY), `" width="`, bw, `" height="`, strconv.Itoa(br.EventH), `" fill="#c9d3e3"/>`,
			`<rect x="`, x, `" y="`, strconv.Itoa(br.BatchedY), `" width="`, bw, `" height="`, strconv.Itoa(br.BatchedH), `" fill="#2f6fdb"/></g>`, "\n")
	}
	for _, t := range c.Ticks {
		w(`      <text x="`, strconv.Itoa(t.X), `" y="`, height, `" dy="-6" font-size="11" fill="#667085" text-anchor="middle">`, esc(t.Label), "</text>\n")
	}
	if c.Empty {
		w(`      <text x="`, width, `" y="80" dx="-360" font-size="13" fill="#667085" text-anchor="middle">no purges in the last 30 minutes</text>`, "\n")
	} else {
		w(`      <text x="4" y="12" font-size="11" fill="#667085">max `, n(c.Max), "/min</text>\n")
	}
	w("    </svg>\n  </section>\n  <section id=\"decisions\">\n    <h2>Decisions</h2>\n    <div class=\"reasons\">")
	if len(d.Decided) == 0 {
		w(`<span class="empty">no changes yet</span>`)
	}
	for _, r := range d.Decided {
		w(`<span class="tag `, esc(r.Decision), `">`, esc(r.Decision), " · ", esc(r.Reason), " · ", n(r.N), "</span>")
	}
	w("</div>\n  </section>\n</div>\n\n")

	d.renderDeadLetters(b)
	w("<section id=\"recent-changes\" style=\"margin-bottom:16px\">\n  <h2>Recent changes</h2>\n")
	if len(d.Changes) == 0 {
		w("  <p class=\"empty\">no changes yet: POST events to /v1/events</p>\n")
	} else {
		w("  <table>\n    <tr><th>when</th><th>bucket</th><th>key</th><th>kind</th><th>decision</th><th>reason</th><th>status</th><th></th></tr>\n")
		for _, r := range d.Changes {
			w("    <tr><td>", esc(ago(d.Now, r.Time)), "</td><td>", esc(r.Bucket), `</td><td class="key" title="`, esc(r.Key), `">`, esc(r.Key), "</td><td>", esc(string(r.Kind)), "</td>",
				`<td><span class="tag `, esc(r.Decision), `">`, esc(r.Decision), "</span></td><td>", esc(r.Reason), "</td>",
				`<td><span class="tag `, esc(r.Status), `">`, esc(r.Status), `</span></td><td class="err">`, esc(r.Error), "</td></tr>\n")
		}
		w("  </table>\n")
	}
	w("</section>\n\n<section id=\"recent-purges\">\n  <h2>Recent purges</h2>\n")
	if len(d.Purges) == 0 {
		w("  <p class=\"empty\">no purges yet</p>\n")
	} else {
		w("  <table>\n    <tr><th>when</th><th>id</th><th>target</th><th>provider</th><th>from</th><th>items</th><th>state</th><th></th></tr>\n")
		for _, p := range d.Purges {
			items := strconv.Itoa(p.Items)
			if p.Failed > 0 {
				items += " (" + strconv.Itoa(p.Failed) + " failed)"
			}
			w("    <tr><td>", esc(ago(d.Now, p.Created)), `</td><td class="key">`, esc(p.ID), "</td><td>", esc(p.Target), "</td><td>", esc(p.Provider), "</td><td>", esc(p.Source), "</td>",
				"<td>", items, `</td><td><span class="tag `, esc(p.State), `">`, esc(p.State), `</span></td><td class="err">`, esc(p.Error), "</td></tr>\n")
		}
		w("  </table>\n")
	}
	w("</section>\n</main>\n</body>\n</html>\n")
}
