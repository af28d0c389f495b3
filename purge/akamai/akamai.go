package akamai

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/budget"
	"github.com/offload-dev/offload/retry"
)

// Fast Purge's limits (techdocs.akamai.com/purge-cache/reference/rate-limiting).
// The token buckets are the account's, shared by all its API clients:
// requests 100, refilled at 50 a second; URLs 10,000 at 12,000 a minute;
// CP codes 300 at 30 a minute; cache tags 5,000 at 500 a minute.
const (
	// MaxBodyBytes is the largest request body Fast Purge accepts; past it
	// the answer is 413.
	MaxBodyBytes = 50000

	// The token buckets' sizes: a request with more objects of a kind than
	// its bucket holds can never be accepted.
	MaxURLs    = 10000
	MaxCPCodes = 300
	MaxTags    = 5000
)

// The buckets' names: "requests", and each object type's.
const BucketRequests = "requests"

// Buckets returns Fast Purge's token buckets as Akamai documents them
// (techdocs.akamai.com/purge-cache/reference/rate-limiting), by name:
// "requests", "url", "cpcode" and "tag".
func Buckets() map[string]budget.Bucket {
	return map[string]budget.Bucket{
		BucketRequests: {Size: 100, PerSecond: 50},
		kindURL:        budget.Per(MaxURLs, 12000, time.Minute),
		kindCPCode:     budget.Per(MaxCPCodes, 30, time.Minute),
		kindTag:        budget.Per(MaxTags, 500, time.Minute),
	}
}

// Network is the Akamai network a purge acts on.
type Network string

const (
	Production Network = "production"
	Staging    Network = "staging"
)

// Action is what a purge does to the cached objects.
type Action string

const (
	// Invalidate marks objects stale: the edge revalidates with the origin
	// (If-Modified-Since) before serving them again.
	Invalidate Action = "invalidate"
	// Delete removes objects: the edge fetches them from the origin again.
	Delete Action = "delete"
)

// Options configure a Client. A zero field means its default.
type Options struct {
	// Config is the EdgeGrid client credential (host, client_token,
	// client_secret, access_token, max_body). Default nil: it is loaded,
	// from the environment first when Env is set, else from the EdgeRC file.
	Config *edgegrid.Config
	// EdgeRC is the path of the .edgerc file. Default "~/.edgerc".
	EdgeRC string
	// Section is the .edgerc section, and the infix of the environment
	// variables (AKAMAI_<SECTION>_HOST, ...; AKAMAI_HOST, ... for
	// "default"). Default "default".
	Section string
	// Env, when true, reads the credential from the AKAMAI_* environment
	// variables first and falls back to EdgeRC. Default false: EdgeRC only.
	Env bool
	// ConfigFunc returns the credential for each request, for one that
	// rotates: wrap LoadConfig in a cache entry with a max age, and a new
	// .edgerc is read once the old one's age has passed, without a restart.
	// New calls it once to check it. It must be safe for concurrent use,
	// and fast. Default nil: Config, or the credential loaded once by New.
	ConfigFunc func(ctx context.Context) (*edgegrid.Config, error)

	// Network is Staging or Production. Default Production.
	Network Network
	// Action is Invalidate or Delete. Default Invalidate.
	Action Action
	// BaseURL is joined to KindPath items to make the URLs purged
	// ("https://www.example.com"). Default "": path items fail.
	BaseURL string

	// APIURL replaces "https://" + the credential's host, for tests.
	// Default "".
	APIURL string
	// HTTPClient sends the requests. Default: http.DefaultClient's
	// transport; the deadline is Timeout.
	HTTPClient *http.Client
	// Timeout is the deadline of each request: connecting, sending and
	// reading the whole answer. A request past it is not retried, and the
	// requests after it fail without being sent for one Timeout: Fast Purge
	// is not answering, and waiting out each request's deadline in turn
	// would hold the purge for many. Default 30s.
	Timeout time.Duration
	// Retry is the retry policy. A zero field takes the retry package's
	// default.
	Retry retry.Policy
	// Concurrency is the most requests one Purge has in flight. Default 2:
	// Fast Purge's request bucket is 100 deep and refills at 50 a second,
	// shared by the whole account.
	Concurrency int
	// Budget spends the account's token buckets (Buckets) before each
	// request is sent, so a burst waits for its tokens instead of being
	// refused with 429s. Share one among every Client of an account.
	// Default: a Budget of this Client's own, with Buckets; budget.Unlimited
	// for none.
	Budget *budget.Budget
	// MaxBodyBytes caps each request body, counted on the JSON actually
	// sent, at most MaxBodyBytes. Default MaxBodyBytes (50,000).
	MaxBodyBytes int
	// ItemsPerCall caps the objects in one request, whatever their kind.
	// Default, and ceiling, the bucket size of the kind (MaxURLs,
	// MaxCPCodes, MaxTags).
	ItemsPerCall int
	// Now tells the time for Status. Default time.Now.
	Now func() time.Time
}

// Client purges through Fast Purge v3. It is safe for concurrent use.
type Client struct {
	opts     Options
	hc       *http.Client
	guard    *deadline.Guard
	credMu   sync.Mutex
	credFrom *edgegrid.Config // what ConfigFunc last returned
	cred     credential       // credFrom, checked
	mu       sync.Mutex
	accepted map[string]accepted // purgeId → when, for Status
}

type accepted struct {
	at        time.Time
	estimated time.Duration
}

// ErrConfig is wrapped by New's errors about options and credentials.
var ErrConfig = errors.New("akamai: bad configuration")

// New returns a client, after applying optFns to a copy of opts. It loads
// the EdgeGrid credential unless Options.Config or ConfigFunc is set, and
// validates the options; its errors wrap ErrConfig.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Config != nil && opts.ConfigFunc != nil {
		return nil, fmt.Errorf("%w: set Options.Config or Options.ConfigFunc, not both", ErrConfig)
	}
	if opts.ConfigFunc == nil {
		cfg := opts.Config
		if cfg == nil {
			var err error
			if cfg, err = LoadConfig(opts.EdgeRC, opts.Section, opts.Env); err != nil {
				return nil, err
			}
		}
		opts.ConfigFunc = func(context.Context) (*edgegrid.Config, error) { return cfg, nil }
	}
	switch opts.Network {
	case "":
		opts.Network = Production
	case Production, Staging:
	default:
		return nil, fmt.Errorf("%w: Options.Network %q: want %q or %q", ErrConfig, opts.Network, Staging, Production)
	}
	switch opts.Action {
	case "":
		opts.Action = Invalidate
	case Invalidate, Delete:
	default:
		return nil, fmt.Errorf("%w: Options.Action %q: want %q or %q", ErrConfig, opts.Action, Invalidate, Delete)
	}
	for _, f := range []struct {
		name   string
		n, max int
	}{{"MaxBodyBytes", opts.MaxBodyBytes, MaxBodyBytes}, {"ItemsPerCall", opts.ItemsPerCall, MaxURLs}, {"Concurrency", opts.Concurrency, math.MaxInt}} {
		if f.n < 0 || f.n > f.max {
			return nil, fmt.Errorf("%w: Options.%s %d: want 0 (the default) to %d", ErrConfig, f.name, f.n, f.max)
		}
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("%w: Options.Timeout %s is negative", ErrConfig, opts.Timeout)
	}
	opts.Timeout = cmp.Or(opts.Timeout, 30*time.Second)
	if opts.Budget == nil {
		opts.Budget, _ = budget.New(budget.Options{Buckets: Buckets()})
	}
	opts.MaxBodyBytes = cmp.Or(opts.MaxBodyBytes, MaxBodyBytes)
	opts.Concurrency = cmp.Or(opts.Concurrency, 2)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	c := &Client{opts: opts, hc: hc, guard: deadline.New(opts.Timeout, nil), accepted: map[string]accepted{}}
	if _, err := c.credential(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadConfig reads an EdgeGrid credential: from the AKAMAI_* environment
// variables first when env is set (AKAMAI_<SECTION>_* for a section other
// than "default"), else from section of the .edgerc file at path (""
// means ~/.edgerc and "default"). Its errors wrap ErrConfig and never
// quote the file.
func LoadConfig(path, section string, env bool) (*edgegrid.Config, error) {
	section = cmp.Or(section, edgegrid.DefaultSection)
	path = cmp.Or(path, edgegrid.DefaultConfigFile)
	cfg, err := edgegrid.New(edgegrid.WithEnv(env), edgegrid.WithFile(path), edgegrid.WithSection(section))
	if err != nil {
		return nil, fmt.Errorf("%w: load EdgeGrid credential from %s (section %q): %w", ErrConfig, path, section, safeErr(err))
	}
	return cfg, nil
}

// credential is a checked EdgeGrid credential and the API's base URL.
type credential struct {
	cfg *edgegrid.Config
	api string
}

// credential returns the current credential, checked: ConfigFunc's, once
// per value it returns.
func (c *Client) credential(ctx context.Context) (credential, error) {
	cfg, err := c.opts.ConfigFunc(ctx)
	if errors.Is(err, ErrConfig) {
		return credential{}, err
	}
	if err != nil {
		return credential{}, fmt.Errorf("%w: the EdgeGrid credential: %w", ErrConfig, err)
	}
	c.credMu.Lock()
	defer c.credMu.Unlock()
	if cfg != nil && cfg == c.credFrom {
		return c.cred, nil
	}
	if cfg == nil || cfg.Host == "" || cfg.ClientToken == "" || cfg.ClientSecret == "" || cfg.AccessToken == "" {
		return credential{}, fmt.Errorf("%w: EdgeGrid credential needs host, client_token, client_secret and access_token", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return credential{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	checked := *cfg
	if checked.MaxBody <= 0 {
		checked.MaxBody = edgegrid.MaxBodySize
	}
	api := strings.TrimRight(c.opts.APIURL, "/")
	if api == "" {
		api = "https://" + checked.Host
	}
	c.credFrom, c.cred = cfg, credential{cfg: &checked, api: api}
	return c.cred, nil
}

// String names the client without its secrets.
// safeErr keeps edgegrid's errors that name a section or an option, and
// drops the text of the others: the .edgerc parser quotes the line it could
// not read, which may hold client_secret.
func safeErr(err error) error {
	for _, known := range []error{edgegrid.ErrSectionDoesNotExist, edgegrid.ErrRequiredOptionEdgerc, edgegrid.ErrRequiredOptionEnv} {
		if errors.Is(err, known) {
			return err
		}
	}
	if errors.Is(err, edgegrid.ErrLoadingFile) {
		return fmt.Errorf("%w (the parser's message is withheld: it may quote a secret)", edgegrid.ErrLoadingFile)
	}
	return errors.New("unreadable credential (details withheld: they may quote a secret)")
}

func (c *Client) String() string {
	c.credMu.Lock()
	host := c.cred.cfg.Host
	c.credMu.Unlock()
	return fmt.Sprintf("akamai.Client{host: %s, network: %s, action: %s}", host, c.opts.Network, c.opts.Action)
}

// GoString is String, so %#v does not print the credential either.
func (c *Client) GoString() string { return c.String() }

// Limits reports Fast Purge's per-request limits.
func (c *Client) Limits() purge.Limits {
	return purge.Limits{
		ItemsPerCall: map[purge.Kind]int{
			purge.KindURL:    c.perCall(kindURL),
			purge.KindPath:   c.perCall(kindURL),
			purge.KindCPCode: c.perCall(kindCPCode),
			purge.KindTag:    c.perCall(kindTag),
		},
		BodyBytes: c.opts.MaxBodyBytes,
	}
}

// The API's object types.
const (
	kindURL    = "url"
	kindCPCode = "cpcode"
	kindTag    = "tag"
)

func (c *Client) perCall(kind string) int {
	n := MaxURLs
	switch kind {
	case kindCPCode:
		n = MaxCPCodes
	case kindTag:
		n = MaxTags
	}
	if c.opts.ItemsPerCall > 0 && c.opts.ItemsPerCall < n {
		n = c.opts.ItemsPerCall
	}
	return n
}

// batch is one request: the items' indexes and the JSON body.
type batch struct {
	kind string
	idx  []int
	body []byte
}

const (
	bodyOpen  = `{"objects":[`
	bodyClose = `]}`
)

// object returns the API object type of an item and its JSON encoding.
func (c *Client) object(it purge.Item) (kind string, enc []byte, err error) {
	switch it.Kind {
	case purge.KindURL:
		if !strings.HasPrefix(it.Value, "https://") && !strings.HasPrefix(it.Value, "http://") {
			return "", nil, fmt.Errorf("akamai: %q is not an absolute http(s) URL", it.Value)
		}
		return kindURL, jsonString(it.Value), nil
	case purge.KindPath:
		if c.opts.BaseURL == "" {
			return "", nil, fmt.Errorf("akamai: path %q needs Options.BaseURL to make a URL", it.Value)
		}
		return kindURL, jsonString(purge.JoinURL(c.opts.BaseURL, it.Value)), nil
	case purge.KindCPCode:
		n, err := strconv.ParseUint(strings.TrimSpace(it.Value), 10, 64)
		if err != nil || n == 0 {
			return "", nil, fmt.Errorf("akamai: CP code %q is not a positive integer", it.Value)
		}
		return kindCPCode, strconv.AppendUint(nil, n, 10), nil
	case purge.KindTag:
		if it.Value == "" {
			return "", nil, errors.New("akamai: empty cache tag")
		}
		return kindTag, jsonString(it.Value), nil
	}
	return "", nil, fmt.Errorf("akamai: %s items: %w", it.Kind, purge.ErrUnsupported)
}

func jsonString(s string) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\'
	}
	if plain { // the common case, and what encoding/json would write
		b := make([]byte, 0, len(s)+2)
		return append(append(append(b, '"'), s...), '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "&" stays one byte, so more fits under the limit
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// batches packs items, kind by kind in the order they come, into bodies of
// at most MaxBodyBytes and perCall objects. Items that cannot be sent get an
// error in fail.
func (c *Client) batches(items []purge.Item, fail func(i int, err error)) []batch {
	open := map[string]*batch{}
	var out []batch
	var order []string
	flush := func(kind string) {
		if b := open[kind]; b != nil {
			b.body = append(b.body, bodyClose...)
			out = append(out, *b)
			delete(open, kind)
		}
	}
	for i, it := range items {
		kind, enc, err := c.object(it)
		if err != nil {
			fail(i, err)
			continue
		}
		if len(bodyOpen)+len(enc)+len(bodyClose) > c.opts.MaxBodyBytes {
			fail(i, fmt.Errorf("akamai: %s %.80q… makes a body over the limit of %d bytes", kind, it.Value, c.opts.MaxBodyBytes))
			continue
		}
		b := open[kind]
		if b != nil && (len(b.idx) >= c.perCall(kind) || len(b.body)+1+len(enc)+len(bodyClose) > c.opts.MaxBodyBytes) {
			flush(kind)
			b = nil
		}
		if b == nil {
			b = &batch{kind: kind, body: make([]byte, 0, 1024)}
			b.body = append(b.body, bodyOpen...)
			open[kind] = b
			order = append(order, kind)
		} else {
			b.body = append(b.body, ',')
		}
		b.body = append(b.body, enc...)
		b.idx = append(b.idx, i)
	}
	for _, k := range order {
		flush(k)
	}
	return out
}

// Purge sends the items in as few requests as the limits allow. See
// purge.Purger for the contract.
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "akamai", Outcomes: make([]purge.Outcome, len(req.Items))}
	for i, it := range req.Items {
		res.Outcomes[i].Item = it
	}
	bs := c.batches(req.Items, func(i int, err error) { res.Outcomes[i].Err = err.Error() })

	calls := make([]*purge.Call, len(bs))
	var mu sync.Mutex // guards res.Outcomes across goroutines
	var g errgroup.Group
	g.SetLimit(c.opts.Concurrency)
	for bi := range bs {
		b := &bs[bi]
		g.Go(func() error {
			call := purge.Call{Err: "akamai: not sent"}
			// Not started: every item still gets an outcome.
			if err := ctx.Err(); err != nil {
				call.Err += ": " + err.Error()
			} else if err := c.guard.Held(); err != nil {
				call.Err = "akamai: " + err.Error()
			} else {
				call = c.send(ctx, b)
				calls[bi] = &call
			}
			mu.Lock()
			defer mu.Unlock()
			for _, i := range b.idx {
				res.Outcomes[i].OK = call.Err == ""
				res.Outcomes[i].ID = call.ID
				res.Outcomes[i].Err = call.Err
			}
			return nil
		})
	}
	g.Wait()
	for _, call := range calls {
		if call != nil {
			res.Calls = append(res.Calls, *call)
		}
	}
	return res, res.Err()
}

// answer is Fast Purge's 201 body, and the fields of its problem details.
type answer struct {
	HTTPStatus       int    `json:"httpStatus"`
	Status           int    `json:"status"`
	Detail           string `json:"detail"`
	Title            string `json:"title"`
	Type             string `json:"type"`
	SupportID        string `json:"supportId"`
	RequestID        string `json:"requestId"`
	PurgeID          string `json:"purgeId"`
	EstimatedSeconds *int   `json:"estimatedSeconds"`

	RateLimitCurrentRequestSize int  `json:"rateLimitCurrentRequestSize"`
	RateLimitRemaining          *int `json:"rateLimitRemaining"`
}

// Error is a refusal from Fast Purge, with Akamai's own words and ids.
type Error struct {
	Op         string // "invalidate url production"
	StatusCode int
	Title      string
	Detail     string
	SupportID  string // Fast Purge's supportId, or the gateway's requestId
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("akamai: %s: HTTP %d", e.Op, e.StatusCode)
	if e.Title != "" {
		msg += ": " + e.Title
	}
	if e.Detail != "" && e.Detail != e.Title {
		msg += ": " + e.Detail
	}
	if e.SupportID != "" {
		msg += " (supportId " + e.SupportID + ")"
	}
	return msg
}

func (c *Client) send(ctx context.Context, b *batch) purge.Call {
	op := fmt.Sprintf("%s %s %s", c.opts.Action, b.kind, c.opts.Network)
	path := fmt.Sprintf("/ccu/v3/%s/%s/%s", c.opts.Action, b.kind, c.opts.Network)
	call := purge.Call{Items: len(b.idx)}
	var ans answer
	rr, err := c.opts.Retry.Do(ctx, func(ctx context.Context, attempt int) error {
		// Each attempt is a request: it waits for its tokens.
		if err := c.opts.Budget.Wait(ctx, budget.Cost{Bucket: BucketRequests, N: 1}, budget.Cost{Bucket: b.kind, N: len(b.idx)}); err != nil {
			return fmt.Errorf("akamai: %s: %w", op, err)
		}
		cred, err := c.credential(ctx)
		if err != nil {
			return fmt.Errorf("akamai: %s: %w", op, err)
		}
		rctx, cancel, err := c.guard.Start(ctx)
		if err != nil {
			return fmt.Errorf("akamai: %s: %w", op, err)
		}
		defer cancel()
		// A new request, signature, timestamp and nonce for each attempt.
		hr, err := http.NewRequestWithContext(rctx, http.MethodPost, cred.api+path, bytes.NewReader(b.body))
		if err != nil {
			return fmt.Errorf("akamai: %s: %w", op, err)
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Accept", "application/json")
		cred.cfg.SignRequest(hr)
		resp, err := c.hc.Do(hr)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("akamai: %s: %w", op, ctx.Err())
			}
			if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
				return fmt.Errorf("akamai: %s: %w", op, err)
			}
			// A purge sent twice does no harm, so a lost answer is retried.
			return retry.Network(fmt.Errorf("akamai: %s: %w", op, err))
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
				return fmt.Errorf("akamai: %s: %w", op, err)
			}
			return retry.Retryable(fmt.Errorf("akamai: %s: read the answer: %w", op, err))
		}
		ans = answer{}
		_ = json.Unmarshal(raw, &ans)
		if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
			return nil
		}
		e := &Error{Op: op, StatusCode: resp.StatusCode, Title: ans.Title, Detail: ans.Detail, SupportID: ans.SupportID}
		if e.SupportID == "" {
			e.SupportID = ans.RequestID
		}
		if e.Title == "" && e.Detail == "" {
			e.Detail = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		call.SupportID = e.SupportID
		if resp.StatusCode == http.StatusTooManyRequests {
			return retry.After(e, rateLimitWait(resp.Header, ans, len(b.idx), c.opts.Retry.Now))
		}
		return retry.HTTPStatus(resp, e)
	})
	call.Attempts = rr.Attempts
	if err != nil {
		call.Err = err.Error()
		return call
	}
	call.ID, call.SupportID, call.Status = ans.PurgeID, ans.SupportID, ans.Detail
	est := 5 * time.Second // Akamai's usual estimate, when the answer lacks one
	if ans.EstimatedSeconds != nil {
		est = time.Duration(*ans.EstimatedSeconds) * time.Second
	}
	call.Estimated = est
	if call.ID != "" {
		c.remember(call.ID, est)
	}
	return call
}

// rateLimitWait is how long to wait before a throttled request can pass:
// Retry-After if Akamai sent one; else, from the X-Ratelimit-* headers, the
// time the empty bucket takes to refill enough tokens for this request.
func rateLimitWait(h http.Header, ans answer, objects int, now func() time.Time) time.Duration {
	if now == nil {
		now = time.Now
	}
	if d := retry.RetryAfter(h, now()); d > 0 {
		return d
	}
	num := func(name string) (float64, bool) {
		v, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64)
		return v, err == nil
	}
	var wait float64
	if rem, ok := num("X-Ratelimit-Remaining"); ok && rem < 1 {
		if rate, ok := num("X-Ratelimit-Limit-Per-Second"); ok && rate > 0 {
			wait = (1 - rem) / rate
		}
	}
	if rem, ok := num("X-Ratelimit-Remaining-Objects"); ok {
		need := float64(objects)
		if ans.RateLimitCurrentRequestSize > 0 {
			need = float64(ans.RateLimitCurrentRequestSize)
		}
		if rate, ok := num("X-Ratelimit-Limit-Per-Second-Objects"); ok && rate > 0 && need > rem {
			wait = math.Max(wait, (need-rem)/rate)
		}
	}
	return time.Duration(math.Ceil(wait*1000)) * time.Millisecond
}

// keep is how long Status remembers a purge after it is done.
const keep = time.Hour

func (c *Client) remember(id string, est time.Duration) {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, a := range c.accepted {
		if now.Sub(a.at) > a.estimated+keep {
			delete(c.accepted, k)
		}
	}
	c.accepted[id] = accepted{at: now, estimated: est}
}

// ErrUnknownPurge is returned by Status for a purgeId this client did not
// send (or sent more than an hour past its estimate).
var ErrUnknownPurge = errors.New("akamai: unknown purgeId (Fast Purge v3 has no status endpoint; only purges sent by this client can be followed)")

// Status reports a purge done once its estimatedSeconds have passed since
// Akamai accepted it: Fast Purge v3 has no endpoint to ask.
func (c *Client) Status(ctx context.Context, id string) (purge.Status, error) {
	if err := ctx.Err(); err != nil {
		return purge.Status{ID: id}, err
	}
	c.mu.Lock()
	a, ok := c.accepted[id]
	c.mu.Unlock()
	if !ok {
		return purge.Status{ID: id}, fmt.Errorf("%w: %q", ErrUnknownPurge, id)
	}
	st := purge.Status{ID: id, Estimated: a.estimated, State: "InProgress"}
	if !c.opts.Now().Before(a.at.Add(a.estimated)) {
		st.Done, st.State = true, "Done"
	}
	return st, nil
}

var (
	_ purge.Purger   = (*Client)(nil)
	_ purge.Follower = (*Client)(nil)
	_ purge.Limiter  = (*Client)(nil)
)
