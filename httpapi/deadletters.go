package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/offload-dev/offload/pipeline"
)

// Dead letters: the events an inbox (pipeline.Queue) set aside after they
// failed too often. The bolt inbox keeps them in a bucket of its file, the
// JetStream inbox in a stream of their own; an inbox that is not a
// pipeline.DeadLetters has none to show.

// maxDeadLetters bounds a listing.
const maxDeadLetters = 1000

func (s *server) deadLettersOf(w http.ResponseWriter) (pipeline.DeadLetters, bool) {
	dl, ok := s.Inbox.(pipeline.DeadLetters)
	if !ok {
		writeError(w, http.StatusNotFound, codeNotFound, "this inbox keeps no dead letters")
	}
	return dl, ok
}

func (s *server) getDeadLetters(w http.ResponseWriter, r *http.Request) {
	dl, ok := s.deadLettersOf(w)
	if !ok {
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeadLetters {
			writeError(w, http.StatusBadRequest, codeBadRequest, "limit is a whole number from 1 to "+strconv.Itoa(maxDeadLetters))
			return
		}
		limit = n
	}
	list, err := dl.DeadLetters(r.Context(), limit)
	if err != nil {
		s.Logger.Error("httpapi: dead letters", "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "cannot read the dead letters")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": list})
}

// replayDeadLetter puts a dead letter back in the inbox. The dashboard's
// button posts a form here: that answer is a redirect back to the page,
// and a form from another site is refused, as a browser may send it with
// the dashboard's credentials.
func (s *server) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	form := isForm(r)
	if form && !sameOrigin(r) {
		writeError(w, http.StatusForbidden, codeForbidden, "a form from another site may not replay a dead letter")
		return
	}
	dl, ok := s.deadLettersOf(w)
	if !ok {
		return
	}
	id, ok := entryID(w, r)
	if !ok {
		return
	}
	newID, err := dl.Replay(r.Context(), id)
	switch {
	case errors.Is(err, pipeline.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no dead letter %d", id))
		return
	case err != nil:
		s.Logger.Error("httpapi: replay dead letter", "dead_letter", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "the dead letter could not be replayed; try again")
		return
	}
	s.Logger.Warn("dead letter replayed by request", "dead_letter", id, "entry", newID, "remote", r.RemoteAddr)
	if form {
		http.Redirect(w, r, "/#dead-letters", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": newID, "replayed": id})
}

func (s *server) discardDeadLetter(w http.ResponseWriter, r *http.Request) {
	dl, ok := s.deadLettersOf(w)
	if !ok {
		return
	}
	id, ok := entryID(w, r)
	if !ok {
		return
	}
	switch err := dl.Discard(r.Context(), id); {
	case errors.Is(err, pipeline.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no dead letter %d", id))
	case err != nil:
		s.Logger.Error("httpapi: discard dead letter", "dead_letter", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "the dead letter could not be discarded; try again")
	default:
		s.Logger.Warn("dead letter discarded by request", "dead_letter", id, "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusNoContent)
	}
}

func entryID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, codeBadRequest, "an id is a positive integer")
		return 0, false
	}
	return id, true
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// sameOrigin reports whether a browser says the request comes from this
// site: Sec-Fetch-Site, or else an Origin whose host is the request's.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && o.Host != "" && o.Host == r.Host
}

// dashboardDead bounds the dead letters the dashboard lists.
const dashboardDead = 20

// deadLetters returns the dashboard's dead letters, none when the inbox
// keeps none or they cannot be read.
func (s *server) deadLetters(ctx context.Context) []pipeline.Entry {
	dl, ok := s.Inbox.(pipeline.DeadLetters)
	if !ok {
		return nil
	}
	list, err := dl.DeadLetters(ctx, dashboardDead)
	if err != nil {
		s.Logger.Error("httpapi: dead letters", "err", err)
		return nil
	}
	return list
}

// queueNote is the inbox card's line on a queue's counts.
func queueNote(st pipeline.InboxStats) string {
	if st.Driver == "" {
		return ""
	}
	return fmt.Sprintf("<br>%s: %d pending, %d in flight, %d redelivered, %d dead-lettered",
		html.EscapeString(st.Driver), st.Pending, st.InFlight, st.Redelivered, st.DeadLettered)
}

// renderDeadLetters writes the dead-letter section, with a replay button
// for each.
func (d dashboardData) renderDeadLetters(b *bytes.Buffer) {
	if d.Inbox.DeadLettered == 0 && len(d.Dead) == 0 {
		return
	}
	esc := html.EscapeString
	b.WriteString("<section id=\"dead-letters\" style=\"margin-bottom:16px\">\n  <h2>Dead letters (" + strconv.Itoa(d.Inbox.DeadLettered) + ")</h2>\n")
	b.WriteString("  <table>\n    <tr><th>id</th><th>received</th><th>deliveries</th><th>bytes</th><th>last error</th><th></th></tr>\n")
	for _, e := range d.Dead {
		id := strconv.FormatUint(e.ID, 10)
		b.WriteString("    <tr><td>" + id + "</td><td>" + esc(ago(d.Now, e.Received)) + "</td><td>" + strconv.Itoa(e.Attempts) +
			"</td><td>" + strconv.Itoa(e.Size) + `</td><td class="err">` + esc(e.LastErr) + "</td>" +
			`<td><form method="post" action="/v1/inbox/dead/` + id + `/replay"><button type="submit">replay</button></form></td></tr>` + "\n")
	}
	b.WriteString("  </table>\n</section>\n\n")
}

// writeQueueMetrics writes the inbox's queue gauges: for the JetStream
// inbox, the shared consumer's lag (pending), what the replicas hold (in
// flight), what came back (redelivered) and the dead letters.
func writeQueueMetrics(w io.Writer, st pipeline.InboxStats) {
	for _, g := range []struct {
		name, help string
		v          int
	}{
		{"offload_inbox_pending", "Inbox entries waiting for their first attempt (JetStream: the consumer's undelivered messages, its lag).", st.Pending},
		{"offload_inbox_in_flight", "Inbox entries handed to a worker and not yet settled (JetStream: delivered, not yet acked).", st.InFlight},
		{"offload_inbox_redelivered", "Inbox entries attempted before that wait for, or are on, another attempt.", st.Redelivered},
		{"offload_inbox_dead_lettered", "Events set aside after failing too often, until replayed or discarded.", st.DeadLettered},
	} {
		f := newFamily(w, g.name, "gauge", g.help)
		f.set(float64(g.v))
		f.write()
	}
}
