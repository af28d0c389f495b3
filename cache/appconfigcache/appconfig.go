package appconfigcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata/types"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/internal/awserr"
)

// Source is the cache.Key Source of every entry of this package.
const Source = "appconfig"

// API is the part of the AppConfig Data client that the cache uses;
// *appconfigdata.Client satisfies it. Tests fake exactly these two calls.
type API interface {
	StartConfigurationSession(ctx context.Context, params *appconfigdata.StartConfigurationSessionInput, optFns ...func(*appconfigdata.Options)) (*appconfigdata.StartConfigurationSessionOutput, error)
	GetLatestConfiguration(ctx context.Context, params *appconfigdata.GetLatestConfigurationInput, optFns ...func(*appconfigdata.Options)) (*appconfigdata.GetLatestConfigurationOutput, error)
}

// Options configure a Client.
type Options struct {
	// Client is the AppConfig Data client, an *appconfigdata.Client.
	// Required.
	Client API

	// MinPollInterval is sent as RequiredMinimumPollIntervalInSeconds when a
	// session starts: the service will not let the session poll more often.
	// Default 15s, the least the service accepts, so that an entry's max age
	// decides how often it polls; at most 24h. Rounded up to whole seconds.
	// An entry whose max age is shorter is refreshed without a call, and
	// keeps its value, until the interval has passed.
	MinPollInterval time.Duration

	// Concurrency is how many configurations are fetched at once when
	// several are due together (AppConfig has no batch call). Default 4.
	Concurrency int

	// Clock tells the time, to keep to the service's poll interval and to
	// replace a token before it expires. Default: the system clock. Tests
	// pass the same fake clock as the cache's.
	Clock cache.Clock
}

const (
	minPollFloor = 15 * time.Second
	minPollCeil  = 24 * time.Hour
	// tokenLife is how long the service honours a token. A token is
	// replaced a little before, so a call never spends a round trip on a
	// token the service is about to reject.
	tokenLife   = 24 * time.Hour
	tokenMargin = 5 * time.Minute
)

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Client builds cache specs for AppConfig configurations. It keeps one
// configuration session per application, environment and profile, shared
// by every entry of that configuration. Safe for concurrent use.
type Client struct {
	f *fetcher
}

// New returns a Client with opts, and then each optFn applied to a copy of
// opts, validated and the defaults filled in.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	switch {
	case opts.Client == nil:
		return nil, errors.New("appconfigcache: Options.Client is required")
	case opts.MinPollInterval != 0 && (opts.MinPollInterval < minPollFloor || opts.MinPollInterval > minPollCeil):
		return nil, fmt.Errorf("appconfigcache: Options.MinPollInterval is %s; the service accepts 15s to 24h (0 for the default 15s)", opts.MinPollInterval)
	case opts.Concurrency < 0:
		return nil, fmt.Errorf("appconfigcache: Options.Concurrency is %d; want 0 for the default 4, or more", opts.Concurrency)
	}
	if opts.MinPollInterval == 0 {
		opts.MinPollInterval = minPollFloor
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	return &Client{f: &fetcher{api: opts.Client, opts: opts, sessions: map[target]*session{}}}, nil
}

// Document is a configuration as AppConfig delivered it.
type Document struct {
	Data         []byte // the configuration; the same slice is handed to every reader: do not modify it
	ContentType  string // "application/json", "text/plain", ...
	VersionLabel string // the hosted configuration version's label, if it has one
}

// Document returns a spec for the configuration of profile in the
// application and environment (names or ids), with its content type. The
// entry's short name is the profile; its key has the variant "document",
// beside Config's of the same profile.
func (c *Client) Document(application, environment, profile string) cache.Spec[Document] {
	s := c.document(application, environment, profile)
	s.Key = s.Key.WithVariant("document")
	return s
}

func (c *Client) document(application, environment, profile string) cache.Spec[Document] {
	t := target{app: application, env: environment, profile: profile}
	s := cache.Spec[Document]{
		Key:     cache.Key{Source: Source, Name: t.String()},
		Name:    profile,
		Fetcher: c.f,
		Arg:     t,
	}
	if application == "" || environment == "" || profile == "" {
		s.Err = fmt.Errorf("%w: application, environment and profile are all required, got %q, %q and %q",
			cache.ErrInvalid, application, environment, profile)
	}
	return s
}

// Config returns a spec for the bytes of a configuration. Compose it with
// cache.JSON for a JSON configuration: cache.JSON[Settings](c.Config(...)).
func (c *Client) Config(application, environment, profile string) cache.Spec[[]byte] {
	return cache.Map(c.document(application, environment, profile), func(d Document) ([]byte, error) {
		return d.Data, nil
	})
}

// FeatureFlags returns a spec for a feature-flag configuration profile
// (type AWS.AppConfig.FeatureFlags), decoded once per change.
func (c *Client) FeatureFlags(application, environment, profile string) cache.Spec[Flags] {
	return cache.JSON[Flags](c.Config(application, environment, profile))
}

// Flags is the document of a feature-flag profile, by flag name.
type Flags map[string]Flag

// Flag is one feature flag: whether it is on, and its attributes.
type Flag struct {
	Enabled    bool
	Attributes map[string]any // every member but "enabled"
}

// Enabled reports whether the named flag exists and is on.
func (fs Flags) Enabled(name string) bool { return fs[name].Enabled }

// UnmarshalJSON reads a flag as AppConfig delivers it:
// {"enabled": true, "attr": "value", ...}.
func (f *Flag) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*f = Flag{}
	if v, ok := m["enabled"]; ok {
		on, isBool := v.(bool)
		if !isBool {
			return fmt.Errorf("flag member \"enabled\" is %T, want a boolean", v)
		}
		f.Enabled = on
		delete(m, "enabled")
	}
	if len(m) > 0 {
		f.Attributes = m
	}
	return nil
}

// target is one configuration: what a session is started for.
type target struct{ app, env, profile string }

// String renders the target as the entry's key name; each part is escaped,
// so names that contain a slash cannot make two targets collide.
func (t target) String() string {
	return url.PathEscape(t.app) + "/" + url.PathEscape(t.env) + "/" + url.PathEscape(t.profile)
}

// session is the state of one configuration session. Every entry of the
// same configuration shares it, since the service hands out one token at a
// time and each token may be used once.
type session struct {
	mu       sync.Mutex // held for the length of a poll: tokens are single-use
	token    string     // the token for the next call; "" before a session starts
	tokenAt  time.Time  // when token was issued
	nextPoll time.Time  // the service's poll interval ends
	first    bool       // token is a session's initial token: its answer always carries the configuration
	polled   bool       // doc holds a configuration
	doc      Document
	version  string // hash of doc: what Request.Prev.Version is compared with
}

type fetcher struct {
	api  API
	opts Options

	mu       sync.Mutex
	sessions map[target]*session
}

func (f *fetcher) session(t target) *session {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[t]
	if s == nil {
		s = &session{}
		f.sessions[t] = s
	}
	return s
}

// Fetch polls each due configuration once, several at a time, and answers
// every request for it: requests for the same configuration share a poll.
func (f *fetcher) Fetch(ctx context.Context, reqs []*cache.Request) {
	groups := map[target][]*cache.Request{}
	var order []target
	for _, r := range reqs {
		t, ok := r.Arg.(target)
		if !ok {
			r.Fail(fmt.Errorf("%w: request argument is %T, want an appconfigcache target", cache.ErrInvalid, r.Arg))
			continue
		}
		if _, seen := groups[t]; !seen {
			order = append(order, t)
		}
		groups[t] = append(groups[t], r)
	}
	var g errgroup.Group
	g.SetLimit(f.opts.Concurrency)
	for _, t := range order {
		g.Go(func() error { f.fetch(ctx, t, groups[t]); return nil })
	}
	_ = g.Wait() // each poll answers its requests; none returns an error
}

func (f *fetcher) fetch(ctx context.Context, t target, reqs []*cache.Request) {
	s := f.session(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := f.poll(ctx, t, s); err != nil {
		for _, r := range reqs {
			r.Fail(err)
		}
		return
	}
	for _, r := range reqs {
		if r.Prev != nil && r.Prev.Version == s.version {
			r.Unchanged()
			continue
		}
		r.Succeed(cache.Raw{Value: s.doc, Version: s.version, Size: int64(len(s.doc.Data))})
	}
}

// poll brings s.doc up to date with at most one GetLatestConfiguration call
// (two when the service rejects the token and a new session is started).
// Before the service's poll interval has passed it makes no call: the
// configuration it has is the latest it may ask for.
func (f *fetcher) poll(ctx context.Context, t target, s *session) error {
	now := f.opts.Clock.Now()
	if s.polled && now.Before(s.nextPoll) {
		return nil
	}
	fresh := false
	if s.token == "" || now.Sub(s.tokenAt) >= tokenLife-tokenMargin {
		if err := f.start(ctx, t, s, now); err != nil {
			return err
		}
		fresh = true
	}
	out, err := f.api.GetLatestConfiguration(ctx, &appconfigdata.GetLatestConfigurationInput{ConfigurationToken: aws.String(s.token)})
	var bad *types.BadRequestException
	if err != nil && !fresh && errors.As(err, &bad) {
		// The token has expired or was rejected: a new session, once.
		if err := f.start(ctx, t, s, now); err != nil {
			return err
		}
		fresh = true
		out, err = f.api.GetLatestConfiguration(ctx, &appconfigdata.GetLatestConfigurationInput{ConfigurationToken: aws.String(s.token)})
	}
	if err != nil {
		if errors.As(err, &bad) || errors.Is(awserr.Classify(err), cache.ErrNotFound) {
			s.token = "" // start over next time
		}
		return fmt.Errorf("get latest configuration: %w", awserr.Classify(err))
	}
	if out.NextPollConfigurationToken == nil || *out.NextPollConfigurationToken == "" {
		s.token = ""
		return errors.New("get latest configuration: the service returned no next poll token")
	}
	now = f.opts.Clock.Now()
	s.token, s.tokenAt = *out.NextPollConfigurationToken, now
	s.nextPoll = now.Add(time.Duration(out.NextPollIntervalInSeconds) * time.Second)
	// An empty body means "unchanged since the last call of this session";
	// the first call of a session always carries the configuration, even an
	// empty one.
	first := s.first
	s.first = false
	if len(out.Configuration) == 0 && !first && s.polled {
		return nil
	}
	s.doc = Document{Data: out.Configuration, ContentType: aws.ToString(out.ContentType), VersionLabel: aws.ToString(out.VersionLabel)}
	if s.doc.Data == nil {
		s.doc.Data = []byte{}
	}
	s.version = version(s.doc)
	s.polled = true
	return nil
}

func (f *fetcher) start(ctx context.Context, t target, s *session, now time.Time) error {
	secs := int32((f.opts.MinPollInterval + time.Second - 1) / time.Second)
	out, err := f.api.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{
		ApplicationIdentifier:                aws.String(t.app),
		EnvironmentIdentifier:                aws.String(t.env),
		ConfigurationProfileIdentifier:       aws.String(t.profile),
		RequiredMinimumPollIntervalInSeconds: aws.Int32(secs),
	})
	if err != nil {
		s.token = ""
		return fmt.Errorf("start configuration session: %w", awserr.Classify(err))
	}
	if out.InitialConfigurationToken == nil || *out.InitialConfigurationToken == "" {
		s.token = ""
		return errors.New("start configuration session: the service returned no token")
	}
	s.token, s.tokenAt, s.first = *out.InitialConfigurationToken, now, true
	return nil
}

// version identifies a configuration's content, so that an entry whose
// value is already the latest is answered Unchanged, whichever entry's
// poll brought the news.
func version(d Document) string {
	h := sha256.New()
	h.Write([]byte(d.ContentType))
	h.Write([]byte{0})
	h.Write(d.Data)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Interface guards.
var (
	_ API           = (*appconfigdata.Client)(nil)
	_ cache.Fetcher = (*fetcher)(nil)
)
