package cloudfront

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/retry"
)

// CloudFront's limits: paths per invalidation (in progress per
// distribution), and wildcard paths in progress.
const (
	MaxPaths     = 3000
	MaxWildcards = 15
)

// API is the part of the CloudFront client this package uses;
// *cloudfront.Client satisfies it.
type API interface {
	CreateInvalidation(ctx context.Context, params *cloudfront.CreateInvalidationInput, optFns ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error)
	GetInvalidation(ctx context.Context, params *cloudfront.GetInvalidationInput, optFns ...func(*cloudfront.Options)) (*cloudfront.GetInvalidationOutput, error)
}

// Options configure a Client. A zero field means its default.
type Options struct {
	// Client is the CloudFront client, a *cloudfront.Client. Required.
	Client API
	// DistributionID is the distribution to invalidate. Required.
	DistributionID string
	// PathsPerCall is the most paths in one invalidation, at most MaxPaths.
	// Default MaxPaths (3,000).
	PathsPerCall int
	// WildcardsPerCall is the most wildcard paths (ending in "*") in one
	// invalidation, at most MaxWildcards. Default MaxWildcards (15).
	WildcardsPerCall int
	// Retry is the retry policy for CreateInvalidation and GetInvalidation.
	// A zero field takes this package's default, which waits out a full
	// queue of invalidations rather than give up after the retry package's
	// two minutes: Initial 1s, Max 1m, Budget 20m, MaxAttempts 40. The
	// client's own SDK retryer is turned off per call: this policy is the
	// one retry layer.
	Retry retry.Policy
	// PollInterval is how often Wait asks for an invalidation's status.
	// Default 10s. Wait sleeps with Retry.Sleep when it is set.
	PollInterval time.Duration
	// Timeout is the deadline of each call to CloudFront, answer included.
	// A call past it is not retried, and for one Timeout after it the calls
	// that follow fail without being sent: CloudFront is not answering,
	// and waiting out each call's deadline in turn would hold the pipeline
	// for many. Default 30s. The client's HTTP transport should have
	// shorter connect and TLS timeouts of its own.
	Timeout time.Duration
}

// defaultRetry is what a zero Options.Retry field means: invalidations stay
// in progress for minutes.
var defaultRetry = retry.Policy{Initial: time.Second, Max: time.Minute, Budget: 20 * time.Minute, MaxAttempts: 40}

// Client purges one distribution. It is safe for concurrent use.
type Client struct {
	api   API
	opts  Options
	guard *deadline.Guard
}

// New returns a Client for opts.DistributionID, after applying optFns to a
// copy of opts.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Client == nil {
		return nil, errors.New("cloudfront: Options.Client is required")
	}
	if opts.DistributionID == "" {
		return nil, errors.New("cloudfront: Options.DistributionID is required")
	}
	if opts.PathsPerCall < 0 || opts.PathsPerCall > MaxPaths {
		return nil, fmt.Errorf("cloudfront: Options.PathsPerCall %d: want 0 (the default) to %d", opts.PathsPerCall, MaxPaths)
	}
	if opts.WildcardsPerCall < 0 || opts.WildcardsPerCall > MaxWildcards {
		return nil, fmt.Errorf("cloudfront: Options.WildcardsPerCall %d: want 0 (the default) to %d", opts.WildcardsPerCall, MaxWildcards)
	}
	if opts.PollInterval < 0 {
		return nil, fmt.Errorf("cloudfront: Options.PollInterval %s is negative", opts.PollInterval)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("cloudfront: Options.Timeout %s is negative", opts.Timeout)
	}
	opts.Timeout = cmp.Or(opts.Timeout, 30*time.Second)
	opts.PathsPerCall = cmp.Or(opts.PathsPerCall, MaxPaths)
	opts.WildcardsPerCall = cmp.Or(opts.WildcardsPerCall, MaxWildcards)
	opts.PollInterval = cmp.Or(opts.PollInterval, 10*time.Second)
	opts.Retry.Initial = cmp.Or(opts.Retry.Initial, defaultRetry.Initial)
	opts.Retry.Max = cmp.Or(opts.Retry.Max, defaultRetry.Max)
	opts.Retry.Budget = cmp.Or(opts.Retry.Budget, defaultRetry.Budget)
	opts.Retry.MaxAttempts = cmp.Or(opts.Retry.MaxAttempts, defaultRetry.MaxAttempts)
	return &Client{api: opts.Client, opts: opts, guard: deadline.New(opts.Timeout, nil)}, nil
}

// Limits reports the per-invalidation limits.
func (c *Client) Limits() purge.Limits {
	return purge.Limits{
		ItemsPerCall: map[purge.Kind]int{purge.KindPath: c.opts.PathsPerCall, purge.KindURL: c.opts.PathsPerCall},
		Wildcards:    c.opts.WildcardsPerCall,
	}
}

// batch is one invalidation: its paths, sorted, and the outcomes they stand for.
type batch struct {
	paths []string
	items [][]int // per path, the indexes of the items that map to it
}

// Purge invalidates paths (KindPath), the paths of URLs (KindURL), path
// prefixes (KindPrefix, as a wildcard) and everything (KindAll, as "/*").
// A path or prefix item is an invalidation path already, as EncodePath
// makes them ("/docs/a%20b.html"): it is sent as it is, never encoded
// again, and one that is not encoded fails alone with an error that says
// which character must be.
func (c *Client) Purge(ctx context.Context, req purge.Request) (*purge.Result, error) {
	res := &purge.Result{Provider: "cloudfront", Outcomes: make([]purge.Outcome, len(req.Items))}
	byPath := map[string][]int{}
	var order []string
	for i, it := range req.Items {
		res.Outcomes[i].Item = it
		p, err := itemPath(it)
		if err != nil {
			res.Outcomes[i].Err = err.Error()
			continue
		}
		if _, ok := byPath[p]; !ok {
			order = append(order, p)
		}
		byPath[p] = append(byPath[p], i)
	}
	batches := Batches(order, c.opts.PathsPerCall, c.opts.WildcardsPerCall)

	nonce := req.ID
	if nonce == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		nonce = "once-" + hex.EncodeToString(b[:])
	}
	for _, paths := range batches {
		fail := func(msg string) {
			for _, p := range paths {
				for _, i := range byPath[p] {
					res.Outcomes[i].Err = msg
				}
			}
		}
		if err := ctx.Err(); err != nil {
			fail(err.Error())
			continue
		}
		if err := c.guard.Held(); err != nil {
			fail(fmt.Sprintf("cloudfront: create invalidation for %s: %v", c.opts.DistributionID, err))
			continue
		}
		call := c.create(ctx, paths, CallerReference(c.opts.DistributionID, nonce, paths))
		res.Calls = append(res.Calls, call)
		if call.Err != "" {
			fail(call.Err)
			continue
		}
		for _, p := range paths {
			for _, i := range byPath[p] {
				res.Outcomes[i].OK = true
				res.Outcomes[i].ID = call.ID
			}
		}
	}
	return res, res.Err()
}

func (c *Client) create(ctx context.Context, paths []string, ref string) purge.Call {
	call := purge.Call{Items: len(paths)}
	in := &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(c.opts.DistributionID),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	}
	var out *cloudfront.CreateInvalidationOutput
	rr, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.call(ctx, func(ctx context.Context) (err error) {
			out, err = c.api.CreateInvalidation(ctx, in, noSDKRetry)
			return err
		})
	})
	call.Attempts = rr.Attempts
	if err != nil {
		call.SupportID = requestID(err)
		call.Err = fmt.Sprintf("cloudfront: create invalidation for %s: %v", c.opts.DistributionID, err)
		return call
	}
	call.SupportID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if inv := out.Invalidation; inv != nil {
		call.ID = aws.ToString(inv.Id)
		call.Status = aws.ToString(inv.Status)
	}
	return call
}

// Status reports an invalidation's state (purge.Follower).
func (c *Client) Status(ctx context.Context, id string) (purge.Status, error) {
	var out *cloudfront.GetInvalidationOutput
	_, err := c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		return c.call(ctx, func(ctx context.Context) (err error) {
			out, err = c.api.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{
				DistributionId: aws.String(c.opts.DistributionID), Id: aws.String(id)}, noSDKRetry)
			return err
		})
	})
	if err != nil {
		return purge.Status{ID: id}, fmt.Errorf("cloudfront: get invalidation %s for %s: %w", id, c.opts.DistributionID, err)
	}
	st := purge.Status{ID: id}
	if inv := out.Invalidation; inv != nil {
		st.State = aws.ToString(inv.Status)
		// CloudFront says "Completed"; moto says "COMPLETED".
		st.Done = strings.EqualFold(st.State, "Completed")
	}
	return st, nil
}

// Wait polls an invalidation every PollInterval until it is Completed or
// ctx ends, and returns its last status.
func (c *Client) Wait(ctx context.Context, id string) (purge.Status, error) {
	sleep := c.opts.Retry.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	for {
		st, err := c.Status(ctx, id)
		if err != nil || st.Done {
			return st, err
		}
		if err := sleep(ctx, c.opts.PollInterval); err != nil {
			return st, fmt.Errorf("cloudfront: wait for invalidation %s: %w", id, err)
		}
	}
}

// call makes one call to CloudFront within the deadline, and classifies
// its error for the retry policy.
func (c *Client) call(ctx context.Context, fn func(ctx context.Context) error) error {
	rctx, cancel, err := c.guard.Start(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	err = fn(rctx)
	if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
		return err
	}
	return classify(ctx, err)
}

func noSDKRetry(o *cloudfront.Options) { o.Retryer = aws.NopRetryer{} }

// classify marks what is safe to retry: throttling, a full queue of
// invalidations, server errors, and a call that never got an answer (the
// CallerReference makes repeating it safe).
func classify(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	if errors.As(err, new(*smithyhttp.RequestSendError)) {
		return retry.Network(err)
	}
	var after time.Duration
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPResponse() != nil {
		after = retry.RetryAfter(re.HTTPResponse().Header, time.Now())
	}
	var tm *types.TooManyInvalidationsInProgress
	if errors.As(err, &tm) {
		return retry.After(err, after)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
			"ServiceUnavailable", "InternalError", "InternalFailure":
			return retry.After(err, after)
		}
	}
	if re != nil && (re.HTTPStatusCode() == 429 || re.HTTPStatusCode() >= 500) {
		return retry.After(err, after)
	}
	return err
}

func requestID(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

// CallerReference is the idempotency key of one invalidation: a hash of the
// distribution, the request's identity and the batch's paths in order.
// The same batch sent again gets the same reference, so CloudFront returns
// the invalidation it already made.
func CallerReference(distributionID, requestID string, sortedPaths []string) string {
	h := sha256.New()
	h.Write([]byte(distributionID))
	h.Write([]byte{0})
	h.Write([]byte(requestID))
	for _, p := range sortedPaths {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return "offload-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// Batches groups encoded paths into invalidations of at most perCall paths
// and wildcards wildcard paths each, in as few as those limits allow. Each
// batch is sorted, so the same set always makes the same batch.
func Batches(paths []string, perCall, wildcards int) [][]string {
	var plain, wild []string
	for _, p := range paths {
		if strings.HasSuffix(p, "*") {
			wild = append(wild, p)
		} else {
			plain = append(plain, p)
		}
	}
	var out [][]string
	for len(plain) > 0 || len(wild) > 0 {
		nw := min(wildcards, len(wild), perCall)
		np := min(perCall-nw, len(plain))
		b := make([]string, 0, nw+np)
		b = append(b, wild[:nw]...)
		b = append(b, plain[:np]...)
		wild, plain = wild[nw:], plain[np:]
		slices.Sort(b)
		out = append(out, b)
	}
	return out
}

// itemPath turns an item into the path CloudFront is asked to invalidate.
// A path item is one already: it is checked, never encoded again.
func itemPath(it purge.Item) (string, error) {
	switch it.Kind {
	case purge.KindPath:
		return it.Value, checkPath(it.Value)
	case purge.KindURL:
		u, err := url.Parse(it.Value)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("cloudfront: %q is not an absolute URL", it.Value)
		}
		p := EncodePath(u.Path)
		if u.RawQuery != "" {
			p += "?" + u.RawQuery
		}
		return p, checkPath(p)
	case purge.KindPrefix:
		p := strings.TrimSuffix(it.Value, "*") + "*"
		return p, checkPath(p)
	case purge.KindAll:
		return "/*", nil
	}
	return "", fmt.Errorf("cloudfront: %s: %w", it.Kind, purge.ErrUnsupported)
}

// EncodePath returns the invalidation path of an object path as it is
// stored, not encoded ("/docs/a b.html" for the key "docs/a b.html"): the
// path of the request CloudFront sees for that object. CloudFront's rule
// (Developer Guide, "What you need to know when invalidating paths") is to
// percent-encode non-ASCII characters and the characters RFC 1738 calls
// unsafe (space and " # % < > [ \ ] ^ ` { | } ~), and nothing else, or the
// path does not match. Every "%" is encoded, so a key's literal "%41" stays
// itself ("%2541"), never "A". "?" and "*" are encoded as well, since a
// literal one in a key would otherwise read as the start of a query string
// or as a wildcard. A "/" is put in front of a path that lacks one.
func EncodePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 8)
	if !strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if mustEncode(c) || c == '?' || c == '*' {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mustEncode reports whether c may not appear as itself in an invalidation
// path: a control character, space, non-ASCII, or unsafe in RFC 1738.
func mustEncode(c byte) bool {
	return c <= 0x20 || c >= 0x7f || strings.IndexByte(`"#%<>[\]^`+"`{|}~", c) >= 0
}

// checkPath reports why p is not an invalidation path: it must start with
// "/", hold no character that must be encoded, a "%" only as the start of
// an escape, and a "*" only at the end (a wildcard). "?" starts a query
// string.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("cloudfront: path %q does not start with /", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
		case c == '*' && i == len(p)-1:
		case c == '*' || mustEncode(c):
			return fmt.Errorf("cloudfront: path %q is not encoded: %q at byte %d must be percent-encoded (EncodePath encodes an object's path)", p, c, i)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

var (
	_ purge.Purger   = (*Client)(nil)
	_ purge.Follower = (*Client)(nil)
	_ purge.Limiter  = (*Client)(nil)
	_ API            = (*cloudfront.Client)(nil)
)
