package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/offload-dev/offload/purge"
)

// purgeRequest is POST /v1/purges's body.
type purgeRequest struct {
	Target string   `json:"target"`
	Paths  []string `json:"paths"`
	URLs   []string `json:"urls"`
	Tags   []string `json:"tags"`
}

// purgeRecord is a purge made through the API or by the pipeline, as
// GET /v1/purges/{id} and the dashboard show it. The provider's progress
// (calls, done) is updated as it is followed.
//
// It keeps a summary, not the purge's result: the counts, the first
// keptFailures failures and the first keptCalls calls, every string cut to
// keptString bytes, so that its size (size) is bounded and known whatever
// the purge's.
type purgeRecord struct {
	ID       string
	Target   string
	Provider string
	Source   string // "api" or "pipeline"
	Created  time.Time
	Items    int
	Failed   int
	Err      string
	failures []failure

	// For the metrics: provider requests accepted and refused, retries.
	hasCalls      bool
	sent, refused int64
	retries       int64
	size          int64

	mu    sync.Mutex
	done  bool
	calls []callView
}

// The bounds of one purge's record: under 1 MiB, whatever the purge.
const (
	keptFailures = 100
	keptCalls    = 1000
	keptString   = 1024 // a failure's item and error, the purge's error
	keptCallID   = 128  // a call's id and state
	keptCallErr  = 256  // why a call could not be followed
	// recordBytes and entryBytes are what a record, and each failure or
	// call in it, hold besides their strings: struct headers, pointers,
	// the store's node.
	recordBytes = 512
	entryBytes  = 96
)

// purgeView is a purge's state: what the API answers.
type purgeView struct {
	ID       string        `json:"id"`
	Target   string        `json:"target"`
	Provider string        `json:"provider"`
	Source   string        `json:"source"`
	Created  time.Time     `json:"created"`
	State    string        `json:"state"` // in_progress, done, partial, failed
	Done     bool          `json:"done"`
	Items    int           `json:"items"`
	Failed   int           `json:"failed"`
	Calls    []callView    `json:"calls"`
	Failures []failure     `json:"failures"`
	Error    string        `json:"error,omitempty"`
	Result   *purge.Result `json:"result,omitempty"` // POST /v1/purges's answer only: the record does not keep it
}

// callView is one provider request of a purge and its progress.
type callView struct {
	ID                  string     `json:"id"`
	State               string     `json:"state"`
	Done                bool       `json:"done"`
	EstimatedSeconds    float64    `json:"estimated_seconds,omitempty"`
	EstimatedCompletion *time.Time `json:"estimated_completion,omitempty"`
	Error               string     `json:"error,omitempty"`
}

type failure struct {
	Item  purge.Item `json:"item"`
	Error string     `json:"error"`
}

func newPurgeRecord(target, provider, source string, at time.Time, items int, res *purge.Result, err string) *purgeRecord {
	r := &purgeRecord{ID: newID(), Target: clip(target), Provider: clip(provider), Source: source, Created: at,
		Items: items, Failed: items, Err: clip(err), failures: []failure{}}
	if res != nil {
		if r.Provider == "" {
			r.Provider = clip(res.Provider)
		}
		r.Failed = 0
		for _, o := range res.Outcomes {
			if o.OK {
				continue
			}
			if r.Failed++; len(r.failures) < keptFailures {
				r.failures = append(r.failures, failure{Item: purge.Item{Kind: o.Item.Kind, Value: clip(o.Item.Value)}, Error: clip(o.Err)})
			}
		}
		r.hasCalls = len(res.Calls) > 0
		for _, c := range res.Calls {
			if c.Err == "" {
				r.sent++
			} else {
				r.refused++
			}
			if c.Attempts > 1 {
				r.retries += int64(c.Attempts - 1)
			}
			if c.ID == "" || c.Err != "" || len(r.calls) == keptCalls {
				continue
			}
			cv := callView{ID: clipTo(c.ID, keptCallID), State: clipTo(c.Status, keptCallID)}
			r.setEstimate(&cv, c.Estimated)
			r.calls = append(r.calls, cv)
		}
	}
	r.size = r.bytes()
	return r
}

// bytes is what the record holds, counting for each call the error that
// following it may yet set.
func (r *purgeRecord) bytes() int64 {
	n := recordBytes + len(r.ID) + len(r.Target) + len(r.Provider) + len(r.Source) + len(r.Err)
	for _, f := range r.failures {
		n += entryBytes + len(f.Item.Kind) + len(f.Item.Value) + len(f.Error)
	}
	for _, c := range r.calls {
		n += entryBytes + len(c.ID) + keptCallID + keptCallErr + 32 // the state and error it may yet get, the estimate's time
	}
	return int64(n)
}

// clip cuts s to keptString bytes.
func clip(s string) string { return clipTo(s, keptString) }

// clipTo cuts s to n bytes, at a character's start.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func (r *purgeRecord) setEstimate(cv *callView, d time.Duration) {
	if d > 0 {
		at := r.Created.Add(d)
		cv.EstimatedSeconds, cv.EstimatedCompletion = d.Seconds(), &at
	}
}

// follow asks the provider how the purge's accepted calls are going, until
// they are all done. A provider that cannot be followed (f nil) finishes
// when its Purge returns.
func (r *purgeRecord) follow(ctx context.Context, f purge.Follower) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	done := true
	if f != nil {
		for i := range r.calls {
			c := &r.calls[i]
			if c.Done {
				continue
			}
			st, err := f.Status(ctx, c.ID)
			if err != nil {
				c.Error = clipTo(err.Error(), keptCallErr)
				done = false
				continue
			}
			c.State, c.Done, c.Error = clipTo(st.State, keptCallID), st.Done, ""
			r.setEstimate(c, st.Estimated)
			done = done && st.Done
		}
	}
	r.done = done
}

func (r *purgeRecord) view() purgeView {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := purgeView{ID: r.ID, Target: r.Target, Provider: r.Provider, Source: r.Source, Created: r.Created,
		Items: r.Items, Failed: r.Failed, Calls: append([]callView{}, r.calls...), Failures: append([]failure{}, r.failures...),
		Error: r.Err, Done: r.done}
	switch {
	case v.Failed >= v.Items:
		v.State, v.Done = "failed", true
	case !r.done:
		v.State = "in_progress"
	case v.Failed > 0:
		v.State = "partial"
	default:
		v.State = "done"
	}
	return v
}

// follower returns the target's Follower, or nil.
func (s *server) follower(target string) purge.Follower {
	if s.Pipeline == nil {
		return nil
	}
	f, _ := s.Pipeline.Options().Purgers[target].(purge.Follower)
	return f
}

func (s *server) postPurge(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var req purgeRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidJSON, "the body is not a purge request: "+err.Error())
		return
	}
	items, msg := req.items()
	if msg != "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, msg)
		return
	}
	if s.Pipeline == nil {
		writeError(w, http.StatusServiceUnavailable, codeNotConfigured, "no pipeline: no targets to purge through")
		return
	}
	pg, ok := s.Pipeline.Options().Purgers[req.Target]
	if !ok {
		writeError(w, http.StatusBadRequest, codeUnknownTarget, "no target is named "+quote(req.Target)+"; targets: "+strings.Join(s.targets(), ", "))
		return
	}
	provider := ""
	for _, t := range s.Pipeline.Options().Plan.Targets {
		if t.Name == req.Target {
			provider = t.Provider
			// A path is taken as a person types it, as offload purge takes
			// it: "/a b.html" is purged as "/a%20b.html".
			for i, it := range items {
				if it.Kind == purge.KindPath {
					items[i].Value = t.TypedPath(it.Value)
				}
			}
		}
	}
	if msg := unsupported(req.Target, pg, items); msg != "" {
		writeError(w, http.StatusBadRequest, codeUnsupported, msg)
		return
	}
	// The purge runs to its end even if the caller goes away, so that its
	// record says what was done.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.PurgeTimeout)
	defer cancel()
	id := newID()
	res, err := pg.Purge(ctx, purge.Request{Items: items, ID: id})
	rec := s.Monitor.recordPurge(req.Target, provider, len(items), res, err)
	rec.follow(ctx, s.follower(req.Target))
	v := rec.view()
	v.Result = res
	w.Header().Set("Location", "/v1/purges/"+rec.ID)
	switch {
	case v.State == "failed":
		msg := "no item was purged"
		if err != nil {
			msg = err.Error()
		}
		writeJSON(w, http.StatusBadGateway, apiError{errorBody{Code: codePurgeFailed, Message: msg, ID: rec.ID}})
	case v.Done:
		writeJSON(w, http.StatusOK, v)
	default:
		writeJSON(w, http.StatusAccepted, v)
	}
}

// decodeStrict decodes one JSON value into v: no field v does not have,
// nothing but white space after it.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value: send one object")
	}
	return nil
}

// items checks the request and returns its items, or why it is refused.
// A control character is refused in every item: no provider purges one,
// and in a path or header it can split the request sent (CR LF).
func (req purgeRequest) items() ([]purge.Item, string) {
	if req.Target == "" {
		return nil, "target is required: the name of a configured target"
	}
	for _, f := range []struct {
		name string
		vals []string
	}{{"paths", req.Paths}, {"urls", req.URLs}, {"tags", req.Tags}} {
		for i, v := range f.vals {
			if strings.ContainsFunc(v, unicode.IsControl) {
				return nil, fmt.Sprintf("%s[%d] %s holds a control character", f.name, i, quote(v))
			}
		}
	}
	for i, p := range req.Paths {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Sprintf("paths[%d]: paths start with /: %s", i, quote(p))
		}
	}
	for i, u := range req.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Sprintf("urls[%d]: urls are absolute http(s) URLs: %s", i, quote(u))
		}
	}
	for i, t := range req.Tags {
		if t == "" {
			return nil, fmt.Sprintf("tags[%d]: a tag is not empty", i)
		}
	}
	items := append(append(purge.Paths(req.Paths...), purge.URLs(req.URLs...)...), purge.Tags(req.Tags...)...)
	if len(items) == 0 {
		return nil, "nothing to purge: give paths, urls or tags"
	}
	return items, ""
}

// apiKinds are the kinds POST /v1/purges takes, by the field that holds them.
var apiKinds = []struct {
	kind  purge.Kind
	field string
}{{purge.KindPath, "paths"}, {purge.KindURL, "urls"}, {purge.KindTag, "tags"}}

// unsupported says which items the target cannot purge, "" when it can
// purge them all. A provider's Limits name every kind it takes; one that
// reports no limits is given everything.
func unsupported(target string, pg purge.Purger, items []purge.Item) string {
	l, ok := pg.(purge.Limiter)
	if !ok {
		return ""
	}
	per := l.Limits().ItemsPerCall
	var takes []string
	for _, k := range apiKinds {
		if _, ok := per[k.kind]; ok {
			takes = append(takes, k.field)
		}
	}
	for _, it := range items {
		if _, ok := per[it.Kind]; ok {
			continue
		}
		for _, k := range apiKinds {
			if k.kind == it.Kind {
				return fmt.Sprintf("target %s cannot purge %s: it takes %s", quote(target), k.field, strings.Join(takes, ", "))
			}
		}
	}
	return ""
}

func (s *server) getPurge(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.Monitor.purge(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, codeNotFound, "no purge has this id (only recent purges are kept, in memory)")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	rec.follow(ctx, s.follower(rec.Target))
	writeJSON(w, http.StatusOK, rec.view())
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
