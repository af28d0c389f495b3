package cloudfront

import (
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

// Options configure a Client.
type Options struct {
	// DistributionID is the distribution to invalidate. Required.
	DistributionID string
	// PathsPerCall is the most paths in one invalidation. Default and
	// maximum 3,000.
	PathsPerCall int
	// WildcardsPerCall is the most wildcard paths (ending in "*") in one
	// invalidation. Default and maximum 15.
	WildcardsPerCall int
	// Retry is the retry policy for CreateInvalidation and GetInvalidation.
	// Zero fields take the defaults of DefaultRetry, which waits out a full
	// queue of invalidations rather than give up after the shared policy's
	// two minutes. The client's own SDK retryer is turned off per call: this
	// policy is the one retry layer.
	Retry retry.Policy
	// PollInterval is how often Wait asks for an invalidation's status.
	// Default 10s. Wait sleeps with Retry.Sleep when it is set.
	PollInterval time.Duration
}

// DefaultRetry is the policy a zero Options.Retry means: invalidations
// stay in progress for minutes, so it waits longer than the shared default.
var DefaultRetry = retry.Policy{Initial: time.Second, Max: time.Minute, Budget: 20 * time.Minute, MaxAttempts: 40}

// Client purges one distribution. It is safe for concurrent use.
type Client struct {
	api  API
	opts Options
}

// New returns a Client over api (a *cloudfront.Client).
func New(api API, opts Options) (*Client, error) {
	if api == nil {
		return nil, errors.New("cloudfront: no client")
	}
	if opts.DistributionID == "" {
		return nil, errors.New("cloudfront: distribution id is required")
	}
	if opts.PathsPerCall <= 0 || opts.PathsPerCall > MaxPaths {
		opts.PathsPerCall = MaxPaths
	}
	if opts.WildcardsPerCall <= 0 || opts.WildcardsPerCall > MaxWildcards {
		opts.WildcardsPerCall = MaxWildcards
	}
	if opts.Retry.Initial <= 0 {
		opts.Retry.Initial = DefaultRetry.Initial
	}
	if opts.Retry.Max <= 0 {
		opts.Retry.Max = DefaultRetry.Max
	}
	if opts.Retry.Budget <= 0 {
		opts.Retry.Budget = DefaultRetry.Budget
	}
	if opts.Retry.MaxAttempts <= 0 {
		opts.Retry.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 10 * time.Second
	}
	return &Client{api: api, opts: opts}, nil
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
		var err error
		out, err = c.api.CreateInvalidation(ctx, in, noSDKRetry)
		return classify(ctx, err)
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
		var err error
		out, err = c.api.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{
			DistributionId: aws.String(c.opts.DistributionID), Id: aws.String(id)}, noSDKRetry)
		return classify(ctx, err)
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

func noSDKRetry(o *cloudfront.Options) { o.Retryer = aws.NopRetryer{} }

// classify marks what is safe to retry: throttling, a full queue of
// invalidations, server errors, and a call that never got an answer (the
// CallerReference makes repeating it safe).
func classify(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	if errors.As(err, new(*smithyhttp.RequestSendError)) {
		return retry.Retryable(err)
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
func itemPath(it purge.Item) (string, error) {
	switch it.Kind {
	case purge.KindPath:
		return EncodePath(it.Value)
	case purge.KindURL:
		u, err := url.Parse(it.Value)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("cloudfront: %q is not an absolute URL", it.Value)
		}
		p := u.EscapedPath()
		if u.RawQuery != "" {
			p += "?" + u.RawQuery
		}
		return EncodePath(p)
	case purge.KindPrefix:
		p, err := EncodePath(strings.TrimSuffix(it.Value, "*"))
		return p + "*", err
	case purge.KindAll:
		return "/*", nil
	}
	return "", fmt.Errorf("cloudfront: %s: %w", it.Kind, purge.ErrUnsupported)
}

// EncodePath makes p an invalidation path as CloudFront requires: a leading
// "/", non-ASCII bytes and RFC 1738 unsafe characters percent-escaped,
// nothing else escaped. Escapes already in p ("%20") are kept, so an encoded
// path stays as it is. A "*" is a wildcard only as the last character;
// elsewhere it is a literal and escaped as %2A.
func EncodePath(p string) (string, error) {
	if p == "" {
		return "", errors.New("cloudfront: empty path")
	}
	var b strings.Builder
	b.Grow(len(p) + 1)
	if p[0] != '/' {
		b.WriteByte('/')
	}
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte(c)
		case c == '*' && i == len(p)-1:
			b.WriteByte(c)
		case c <= 0x20 || c >= 0x7f || strings.IndexByte(`<>"#%{}|\^~[]`+"`*", c) >= 0:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
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
