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
type purgeRecord struct {
	ID       string
	Target   string
	Provider string
	Source   string // "api" or "pipeline"
	Created  time.Time
	Items    int
	Result   *purge.Result
	Err      string

	mu    sync.Mutex
	done  bool
	calls []callView
}

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
	Result   *purge.Result `json:"result,omitempty"`
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
	r := &purgeRecord{ID: newID(), Target: target, Provider: provider, Source: source, Created: at, Items: items, Result: res, Err: err}
	if res != nil {
		if r.Provider == "" {
			r.Provider = res.Provider
		}
		for _, c := range res.Calls {
			if c.ID == "" || c.Err != "" {
				continue
			}
			cv := callView{ID: c.ID, State: c.Status}
			r.setEstimate(&cv, c.Estimated)
			r.calls = append(r.calls, cv)
		}
	}
	return r
}

func (r *purgeRecord) setEstimate(cv *callView, d time.Duration) {
	if d > 0 {
		at := r.Created.Add(d)
		cv.EstimatedSeconds, cv.EstimatedCompletion = d.Seconds(), &at
	}
}

// failed counts the items not purged.
func (r *purgeRecord) failed() int {
	if r.Result == nil {
		return r.Items
	}
	return len(r.Result.Failed())
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
				c.Error = err.Error()
				done = false
				continue
			}
			c.State, c.Done, c.Error = st.State, st.Done, ""
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
		Items: r.Items, Failed: r.failed(), Calls: append([]callView{}, r.calls...), Failures: []failure{},
		Error: r.Err, Result: r.Result, Done: r.done}
	if r.Result != nil {
		for _, o := range r.Result.Outcomes {
			if !o.OK {
				v.Failures = append(v.Failures, failure{Item: o.Item, Error: o.Err})
			}
		}
	}
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
	f, _ := s.Pipeline.Purgers[target].(purge.Follower)
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
	pg, ok := s.Pipeline.Purgers[req.Target]
	if !ok {
		writeError(w, http.StatusBadRequest, codeUnknownTarget, "no target is named "+quote(req.Target)+"; targets: "+strings.Join(s.targets(), ", "))
		return
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
	provider := ""
	for _, t := range s.Pipeline.Plan.Targets {
		if t.Name == req.Target {
			provider = t.Provider
		}
	}
	rec := s.Monitor.recordPurge(req.Target, provider, len(items), res, err)
	rec.follow(ctx, s.follower(req.Target))
	v := rec.view()
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
