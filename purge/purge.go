// Package purge defines how offload asks a CDN to drop cached content: the
// Purger contract every provider package implements (purge/cloudfront,
// purge/akamai, purge/fastly, purge/cloudflare, purge/varnish), the request
// and result types, and each provider's batching limits.
package purge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is what an item names.
type Kind string

const (
	KindPath   Kind = "path"   // a path on the site, encoded as a request carries it: "/docs/a%20b.html" (CloudFront, or joined to a base URL)
	KindURL    Kind = "url"    // an absolute URL: "https://www.example.com/docs/"
	KindTag    Kind = "tag"    // a cache tag or surrogate key
	KindPrefix Kind = "prefix" // a URL prefix (Cloudflare) or a path prefix
	KindHost   Kind = "host"   // every URL of a host name (Cloudflare)
	KindCPCode Kind = "cpcode" // an Akamai CP code
	KindAll    Kind = "all"    // everything the target caches
)

// Item is one thing to purge.
type Item struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
}

func (i Item) String() string { return string(i.Kind) + ":" + i.Value }

// Paths returns path items for the given paths.
func Paths(paths ...string) []Item { return items(KindPath, paths) }

// URLs returns URL items for the given URLs.
func URLs(urls ...string) []Item { return items(KindURL, urls) }

// Tags returns tag items for the given tags.
func Tags(tags ...string) []Item { return items(KindTag, tags) }

func items(k Kind, vals []string) []Item {
	out := make([]Item, len(vals))
	for i, v := range vals {
		out[i] = Item{Kind: k, Value: v}
	}
	return out
}

// Request is one purge: the items to drop through one target.
type Request struct {
	Items []Item
	// ID names this purge stably across redeliveries (for example a hash of
	// the changes it comes from). Providers with an idempotency key
	// (CloudFront's CallerReference) derive it from ID and the items, so the
	// same purge sent twice is done once. Empty: every Purge call is new.
	ID string
}

// Outcome is how one item went.
type Outcome struct {
	Item Item   `json:"item"`
	OK   bool   `json:"ok"`
	ID   string `json:"id,omitempty"`    // the provider's id for the request that carried it
	Err  string `json:"error,omitempty"` // the provider's own message, when it failed
}

// Call is one request the purger sent to the provider.
type Call struct {
	ID        string        `json:"id,omitempty"`         // invalidation id, purgeId, ...
	SupportID string        `json:"support_id,omitempty"` // Akamai supportId, CloudFront request id
	Items     int           `json:"items"`
	Status    string        `json:"status,omitempty"` // the provider's state: "InProgress", "Created", ...
	Estimated time.Duration `json:"estimated,omitempty"`
	Attempts  int           `json:"attempts"`
	Err       string        `json:"error,omitempty"`
}

// Result says per item what succeeded and what failed, and per call what was
// sent and which id to follow.
type Result struct {
	Provider string    `json:"provider"`
	Calls    []Call    `json:"calls"`
	Outcomes []Outcome `json:"outcomes"`
}

// MarshalJSON writes the result with [] for the lists it has none of (a
// provider that sent no call has no Calls).
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // without this method
	q := plain(r)
	if q.Calls == nil {
		q.Calls = []Call{}
	}
	if q.Outcomes == nil {
		q.Outcomes = []Outcome{}
	}
	return json.Marshal(q)
}

// Failed returns the items that were not purged.
func (r *Result) Failed() []Item {
	var out []Item
	for _, o := range r.Outcomes {
		if !o.OK {
			out = append(out, o.Item)
		}
	}
	return out
}

// IDs returns the ids of the calls that were accepted.
func (r *Result) IDs() []string {
	var out []string
	for _, c := range r.Calls {
		if c.ID != "" && c.Err == "" {
			out = append(out, c.ID)
		}
	}
	return out
}

// Purger drops cached content at a CDN.
//
// Purge sends the request's items in as few calls as the provider's limits
// allow (see Limits) and returns a Result with one Outcome per item, in the
// order given. It retries, with a retry.Policy its constructor takes, what is
// safe to retry: throttling (429 and the provider's own throttling errors)
// and server errors (5xx), honouring Retry-After; it does not retry a request
// the provider refused as invalid. When some items fail, Purge returns the
// Result and an error (a *PartialError) that names the failures; when the
// context ends it stops sending, and the items not yet sent fail with the
// context's error. An item kind the provider does not support fails with
// ErrUnsupported; the rest of the request goes on.
//
// Implementations are safe for concurrent use.
type Purger interface {
	Purge(ctx context.Context, req Request) (*Result, error)
}

// Status is the state of an accepted purge, as the provider reports it.
type Status struct {
	ID        string        `json:"id"`
	Done      bool          `json:"done"`
	State     string        `json:"state"`               // the provider's word: "InProgress", "Completed", "Done"
	Estimated time.Duration `json:"estimated,omitempty"` // Akamai's estimatedSeconds, from when it was accepted
}

// Follower is implemented by purgers whose provider gives an id to follow a
// purge to completion (CloudFront GetInvalidation, Akamai's estimate).
type Follower interface {
	Status(ctx context.Context, id string) (Status, error)
}

// Limits are what a provider accepts per call; the planner sizes batches by
// them. A zero field means no limit of that kind.
type Limits struct {
	ItemsPerCall map[Kind]int // most items of a kind in one call
	BodyBytes    int          // largest request body (Akamai: 50,000)
	Wildcards    int          // wildcard paths in progress at once (CloudFront: 15)
}

// Limiter is implemented by purgers that have limits.
type Limiter interface {
	Limits() Limits
}

// ErrUnsupported is the failure of an item whose kind the provider cannot purge.
var ErrUnsupported = errors.New("not supported by this provider")

// PartialError is returned with a Result when some items were not purged.
type PartialError struct {
	Provider string
	Failed   int
	Total    int
	First    string // the first failure's message
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%s: %d of %d items not purged: %s", e.Provider, e.Failed, e.Total, e.First)
}

// Err returns a *PartialError if any outcome failed, else nil. Providers end
// Purge with `return res, res.Err()`.
func (r *Result) Err() error {
	var failed int
	var first string
	for _, o := range r.Outcomes {
		if !o.OK {
			if failed == 0 {
				first = o.Item.String() + ": " + o.Err
			}
			failed++
		}
	}
	if failed == 0 {
		return nil
	}
	return &PartialError{Provider: r.Provider, Failed: failed, Total: len(r.Outcomes), First: first}
}

// JoinURL joins a base URL ("https://www.example.com", or one with a path,
// "https://www.example.com/site") and an encoded path: the base's trailing
// slashes are dropped and the path is kept as it is, double slashes
// included (an S3 key may hold "//", or start with "/"), with a "/" put
// between them if the path lacks one. Neither is decoded or encoded again.
func JoinURL(base, path string) string {
	base = strings.TrimRight(base, "/")
	if !strings.HasPrefix(path, "/") {
		return base + "/" + path
	}
	return base + path
}
