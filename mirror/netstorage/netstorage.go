package netstorage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/retry"
)

// Options configure a Client. A zero field means its default; the fields
// marked required have none.
type Options struct {
	// Host is the storage group's connection hostname,
	// "example-nsu.akamaihd.net". Required unless APIURL is set.
	Host string
	// CPCode is the upload directory's CP code, the root of every path.
	// Required.
	CPCode string
	// Dir is the directory under the CP code that keys are relative to.
	// Default "": the CP code's root.
	Dir string
	// KeyName is the upload account's HTTP API key name. Required.
	KeyName string
	// Key is the HTTP API key. Required, or KeyFunc. It never appears in
	// errors.
	Key string
	// KeyFunc returns the key for each request, for a key that rotates:
	// config.Resolver.Func reads a secret reference through the cache, so a
	// new key is used once the old one's max age has passed, without a
	// restart. It must be safe for concurrent use, and fast. Default nil:
	// Key. Set one of the two.
	KeyFunc func(ctx context.Context) (string, error)

	// APIURL replaces "https://" + Host, for tests. Default "".
	APIURL string
	// HTTPClient sends the requests. Default: a client without an overall
	// timeout (an upload lasts as long as its body), cancelled through ctx;
	// the bound is Timeout.
	HTTPClient *http.Client
	// Timeout is how long a request may go without progress: nothing of
	// the body sent, or no answer after it. Past it the request fails and
	// is not retried, and for one Timeout after it the requests that follow
	// fail without being sent: NetStorage is not answering, and waiting out
	// each request's deadline in turn would hold the pipeline for many.
	// Default 30s.
	Timeout time.Duration
	// Retry is the retry policy. A zero field takes the retry package's
	// default.
	Retry retry.Policy
	// Now tells the time for the signature. Default time.Now. NetStorage
	// refuses a signature more than about a minute off its clock; when it
	// does, the client corrects by the offset of the server's Date header.
	Now func() time.Time
}

// Client mirrors to one NetStorage directory. It is safe for concurrent use.
type Client struct {
	opts   Options
	api    string
	hc     *http.Client
	guard  *deadline.Guard
	offset atomic.Int64 // server clock minus ours, learned from a refusal
}

// ErrConfig is wrapped by New's errors.
var ErrConfig = errors.New("netstorage: bad configuration")

// New returns a client, after applying optFns to a copy of opts, or an
// error (wrapping ErrConfig) naming the options that cannot work.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	var missing []string
	if opts.Host == "" && opts.APIURL == "" {
		missing = append(missing, "Options.Host")
	}
	for _, f := range []struct{ name, v string }{{"CPCode", opts.CPCode}, {"KeyName", opts.KeyName}} {
		if f.v == "" {
			missing = append(missing, "Options."+f.name)
		}
	}
	if opts.Key == "" && opts.KeyFunc == nil {
		missing = append(missing, "Options.Key (or KeyFunc)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s required", ErrConfig, strings.Join(missing, ", "))
	}
	switch {
	case opts.Key != "" && opts.KeyFunc != nil:
		return nil, fmt.Errorf("%w: set Options.Key or Options.KeyFunc, not both", ErrConfig)
	case opts.KeyFunc == nil:
		key := opts.Key
		opts.KeyFunc = func(context.Context) (string, error) { return key, nil }
	}
	if _, err := strconv.ParseUint(opts.CPCode, 10, 64); err != nil {
		return nil, fmt.Errorf("%w: Options.CPCode %q is not a number", ErrConfig, opts.CPCode)
	}
	if strings.Contains(opts.Dir, "..") {
		return nil, fmt.Errorf("%w: Options.Dir %q holds \"..\"", ErrConfig, opts.Dir)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("%w: Options.Timeout %s is negative", ErrConfig, opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	api := strings.TrimRight(opts.APIURL, "/")
	if api == "" {
		api = "https://" + opts.Host
	}
	return &Client{opts: opts, api: api, hc: hc, guard: deadline.New(opts.Timeout, nil)}, nil
}

// String names the client without its key.
func (c *Client) String() string {
	return fmt.Sprintf("netstorage.Client{host: %s, path: /%s%s, keyname: %s}", c.opts.Host, c.opts.CPCode, cleanDir(c.opts.Dir), c.opts.KeyName)
}

// GoString is String, so %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

func cleanDir(dir string) string {
	dir = strings.Trim(dir, "/")
	if dir == "" {
		return ""
	}
	return "/" + dir
}

// path returns the NetStorage path of key, "/123456/site/a b.html".
func (c *Client) path(key string) (string, error) {
	p, err := mirror.Join(cleanDir(c.opts.Dir), key)
	if err != nil {
		return "", err
	}
	return "/" + c.opts.CPCode + "/" + strings.TrimPrefix(p, "/"), nil
}

// escape percent-encodes each segment of a path as it goes on the wire.
func escape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Sign returns the X-Akamai-ACS-Auth-Sign of a request: base64 of
// HMAC-SHA256 keyed with key over the auth data, the (escaped) path, a
// newline, and "x-akamai-acs-action:" with the action header's value and a
// newline.
func Sign(key, authData, path, action string) string {
	m := hmac.New(sha256.New, []byte(key))
	io.WriteString(m, authData+path+"\nx-akamai-acs-action:"+action+"\n")
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// authData is the X-Akamai-ACS-Auth-Data of a request made now: version 5
// (HMAC-SHA256), reserved fields, time, a unique id, the key name.
func (c *Client) authData() string {
	var b [4]byte
	rand.Read(b[:])
	now := c.opts.Now().Unix() + c.offset.Load()
	return fmt.Sprintf("5, 0.0.0.0, 0.0.0.0, %d, %d, %s", now, binary.BigEndian.Uint32(b[:]), c.opts.KeyName)
}

// Error is a refusal from NetStorage.
type Error struct {
	Op         string // "upload", "delete"
	Path       string
	StatusCode int
	Message    string // NetStorage's own words, trimmed
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("netstorage: %s %s: HTTP %d %s", e.Op, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// do sends one signed request and classifies its answer.
func (c *Client) do(ctx context.Context, method, op, nsPath, action string, body io.Reader, size int64) error {
	key, err := c.opts.KeyFunc(ctx)
	if err != nil {
		return fmt.Errorf("netstorage: %s %s: the key: %w", op, nsPath, err)
	}
	rctx, progress, cancel, err := c.guard.StartIdle(ctx)
	if err != nil {
		return fmt.Errorf("netstorage: %s %s: %w", op, nsPath, err)
	}
	defer cancel()
	wire := escape(nsPath)
	if body == nil {
		body = http.NoBody
	} else if size != 0 {
		// The caller's reader is not ours to close.
		body = io.NopCloser(deadline.Reader(body, progress))
	}
	req, err := http.NewRequestWithContext(rctx, method, c.api+wire, body)
	if err != nil {
		return fmt.Errorf("netstorage: %s %s: %w", op, nsPath, err)
	}
	if size >= 0 {
		req.ContentLength = size // -1: unknown, sent chunked
	}
	if size == 0 {
		req.Body = http.NoBody
	}
	ad := c.authData()
	req.Header.Set("X-Akamai-ACS-Action", action)
	req.Header.Set("X-Akamai-ACS-Auth-Data", ad)
	req.Header.Set("X-Akamai-ACS-Auth-Sign", Sign(key, ad, wire, action))
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("netstorage: %s %s: %w", op, nsPath, ctx.Err())
		}
		if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
			return fmt.Errorf("netstorage: %s %s: %w", op, nsPath, err)
		}
		return retry.Network(fmt.Errorf("netstorage: %s %s: %w", op, nsPath, err))
	}
	progress()
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		if err := c.guard.Check(ctx, rctx, err); errors.Is(err, deadline.ErrNoAnswer) {
			return fmt.Errorf("netstorage: %s %s: %w", op, nsPath, err)
		}
		if resp.StatusCode < 300 {
			return retry.Retryable(fmt.Errorf("netstorage: %s %s: read the answer: %w", op, nsPath, err))
		}
	}
	if resp.StatusCode < 300 {
		return nil
	}
	e := &Error{Op: op, Path: nsPath, StatusCode: resp.StatusCode, Message: message(raw)}
	if resp.StatusCode == http.StatusForbidden {
		// A refused signature may only be our clock: learn the server's
		// and try again with a new signature.
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			skew := d.Unix() - c.opts.Now().Unix()
			if (skew > 30 || skew < -30) && skew != c.offset.Load() {
				c.offset.Store(skew)
				e.Message += fmt.Sprintf(" (local clock %ds off the server's; corrected)", -skew)
				return retry.Retryable(e)
			}
		}
	}
	return retry.HTTPStatus(resp, e)
}

// message keeps NetStorage's text without markup.
func message(raw []byte) string {
	var b strings.Builder
	in := false
	for _, r := range string(raw) {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// uploadAction is the action header of an upload of obj.
func uploadAction(obj mirror.Object) string {
	a := "version=1&action=upload"
	if len(obj.MD5) == 16 {
		a += "&md5=" + hex.EncodeToString(obj.MD5)
	}
	if len(obj.SHA256) == 32 {
		a += "&sha256=" + hex.EncodeToString(obj.SHA256)
	}
	if !obj.ModTime.IsZero() {
		a += "&mtime=" + strconv.FormatInt(obj.ModTime.Unix(), 10)
	}
	if obj.Size >= 0 {
		a += "&size=" + strconv.FormatInt(obj.Size, 10)
	}
	return a
}

// Put streams body to NetStorage under obj.Key. NetStorage creates missing
// directories. It retries only when body is an io.Seeker.
func (c *Client) Put(ctx context.Context, obj mirror.Object, body io.Reader) error {
	nsPath, err := c.path(obj.Key)
	if err != nil {
		return fmt.Errorf("netstorage: put: %w", err)
	}
	if body == nil {
		body = http.NoBody
	}
	seeker, canRetry := body.(io.Seeker)
	var start int64
	if canRetry {
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			canRetry = false
		}
	}
	action := uploadAction(obj)
	policy := c.opts.Retry
	if !canRetry {
		policy.MaxAttempts = 1 // the body can be read once only
	}
	_, err = policy.Do(ctx, func(ctx context.Context, attempt int) error {
		if attempt > 1 {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return fmt.Errorf("netstorage: upload %s: rewind body: %w", nsPath, err)
			}
		}
		return c.do(ctx, http.MethodPut, "upload", nsPath, action, body, obj.Size)
	})
	return err
}

// Delete removes key; a key already absent (404) is not an error.
func (c *Client) Delete(ctx context.Context, key string) error {
	nsPath, err := c.path(key)
	if err != nil {
		return fmt.Errorf("netstorage: delete: %w", err)
	}
	_, err = c.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		err := c.do(ctx, http.MethodPost, "delete", nsPath, "version=1&action=delete", nil, 0)
		var e *Error
		if errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
			return nil
		}
		return err
	})
	return err
}

var _ mirror.Mirror = (*Client)(nil)
