package cloudfront_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/cloudfront"
	"github.com/offload-dev/offload/purge/purgetest"
	"github.com/offload-dev/offload/retry"
)

func TestMain(m *testing.M) { os.Exit(awstest.RunMain(m)) }

// distribution creates a distribution in moto and returns its id.
func distribution(t testing.TB, moto *awstest.Moto) string {
	t.Helper()
	return moto.CreateDistribution(t)
}

// sent is a CreateInvalidation body as the SDK wrote it.
type sent struct {
	CallerReference string   `xml:"CallerReference"`
	Paths           []string `xml:"Paths>Items>Path"`
}

func readBatch(r *http.Request) (sent, []byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return sent{}, nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var s sent
	err = xml.Unmarshal(body, &s)
	return s, body, err
}

func isCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/invalidation")
}

// recorder is a transport that keeps every CreateInvalidation body sent.
type recorder struct {
	mu   sync.Mutex
	sent []sent
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if isCreate(r) && r.Body != nil {
		s, _, err := readBatch(r)
		if err != nil {
			return nil, err
		}
		rec.mu.Lock()
		rec.sent = append(rec.sent, s)
		rec.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (rec *recorder) all() []sent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.sent)
}

// backendProxy stands in front of moto and lets the conformance suite fail
// CreateInvalidation calls as CloudFront does, in its XML error shape.
// Throttled faults answer with throttleCode ("Throttling" if empty). (The
// awstest fault proxy writes S3's bare <Error> shape, which the CloudFront
// deserializer reads as UnknownError, so CloudFront tests use this one.)
func backendProxy(t *testing.T, moto *awstest.Moto, b *purgetest.Backend, throttleCode ...string) *httptest.Server {
	u, _ := url.Parse(moto.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isCreate(r) {
			s, _, err := readBatch(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if f := b.Receive(s.Paths); f != nil {
				status, code := http.StatusBadRequest, "InvalidArgument"
				switch f.Kind {
				case purgetest.Throttled:
					code = "Throttling"
					if len(throttleCode) > 0 {
						code = throttleCode[0]
					}
				case purgetest.Unavailable:
					status, code = http.StatusServiceUnavailable, "ServiceUnavailable"
				}
				cloudFrontError(w, status, code, f.Message, f)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func cloudFrontError(w http.ResponseWriter, status int, code, msg string, f *purgetest.Fault) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "req-"+code)
	if f != nil {
		f.SetRetryAfter(w.Header())
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-%s</RequestId></ErrorResponse>`, code, msg, code)
}

func TestConformance(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	purgetest.Run(t, purgetest.Harness{
		New: func(t *testing.T, b *purgetest.Backend, p retry.Policy) purge.Purger {
			srv := backendProxy(t, moto, b)
			c, err := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(awstest.Config(srv.URL)),
				DistributionID: dist, PathsPerCall: 5, Retry: p})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Unsupported: purge.Item{Kind: purge.KindTag, Value: "t1"},
	})
}

// The full 3,000-path batch through moto: 6,001 paths are three invalidations.
func TestFullBatches(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	rec := &recorder{}
	c, err := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(moto.Config(rec)), DistributionID: dist})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := range 6001 {
		paths = append(paths, fmt.Sprintf("/p/%d.html", i))
	}
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths(paths...)})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, s := range rec.all() {
		sizes = append(sizes, len(s.Paths))
	}
	if want := []int{3000, 3000, 1}; !slices.Equal(sizes, want) {
		t.Errorf("invalidation sizes: got %v, want %v", sizes, want)
	}
	if got := len(res.IDs()); got != 3 {
		t.Errorf("invalidation ids: got %d, want 3", got)
	}
	for _, id := range res.IDs() {
		st, err := c.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Done || st.ID != id {
			t.Errorf("Status(%s): got %+v, want done", id, st)
		}
	}
}

// A throttled call is retried with the SAME CallerReference (moto does not
// enforce idempotency, so the request is checked on the wire), and
// TooManyInvalidationsInProgress is waited out, not dropped.
func TestRetrySendsSameCallerReference(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	for _, code := range []string{"TooManyInvalidationsInProgress", "Throttling"} {
		t.Run(code, func(t *testing.T) {
			b := purgetest.NewBackend()
			b.Fail(purgetest.Fault{Kind: purgetest.Throttled, Times: 2, Message: "Your request contains too many invalidations."})
			proxy := backendProxy(t, moto, b, code)
			rec := &recorder{}
			sleeper := purgetest.NewSleeper()
			cfg := awstest.Config(proxy.URL, rec)
			cfg.RetryMaxAttempts = 0 // the SDK's default retryer: Purge must turn it off
			c, err := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(cfg),
				DistributionID: dist, Retry: sleeper.Policy()})
			if err != nil {
				t.Fatal(err)
			}
			paths := []string{"/b.html", "/a.html", "/img/*"}
			res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths(paths...), ID: "change-42"})
			if err != nil {
				t.Fatalf("Purge: %v", err)
			}
			if got := len(b.Calls()); got != 3 {
				t.Errorf("calls at the proxy: got %d, want 3", got)
			}
			all := rec.all()
			if len(all) != 3 {
				t.Fatalf("CreateInvalidation sent: got %d, want 3", len(all))
			}
			want := cloudfront.CallerReference(dist, "change-42", []string{"/a.html", "/b.html", "/img/*"})
			for i, s := range all {
				if s.CallerReference != want {
					t.Errorf("attempt %d: got CallerReference %q, want %q", i+1, s.CallerReference, want)
				}
				if !slices.Equal(s.Paths, []string{"/a.html", "/b.html", "/img/*"}) {
					t.Errorf("attempt %d: got paths %v, want them sorted", i+1, s.Paths)
				}
			}
			if got := len(sleeper.Waits()); got != 2 {
				t.Errorf("waits: got %d, want 2", got)
			}
			if got := res.Calls[0].Attempts; got != 3 {
				t.Errorf("attempts: got %d, want 3 (%s)", got, res.Outcomes[0].Err)
			}
		})
	}
}

// The reference depends on the distribution, the request id and the set
// of paths, and on nothing else.
func TestCallerReference(t *testing.T) {
	base := cloudfront.CallerReference("E1", "r1", []string{"/a", "/b"})
	tests := []struct {
		name  string
		dist  string
		id    string
		paths []string
		same  bool
	}{
		{"same", "E1", "r1", []string{"/a", "/b"}, true},
		{"other distribution", "E2", "r1", []string{"/a", "/b"}, false},
		{"other request", "E1", "r2", []string{"/a", "/b"}, false},
		{"other paths", "E1", "r1", []string{"/a", "/c"}, false},
		{"no separator confusion", "E1", "r1", []string{"/a/b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cloudfront.CallerReference(tt.dist, tt.id, tt.paths)
			if (got == base) != tt.same {
				t.Errorf("got %q vs %q, want same=%v", got, base, tt.same)
			}
		})
	}
	// Two Purge calls without an ID are two invalidations, not one: a path
	// changed twice must be invalidated twice.
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	rec := &recorder{}
	c, _ := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(moto.Config(rec)), DistributionID: dist})
	for range 2 {
		if _, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths("/x.html")}); err != nil {
			t.Fatal(err)
		}
	}
	if all := rec.all(); len(all) != 2 || all[0].CallerReference == all[1].CallerReference {
		t.Errorf("two purges without ID: got references %v, want two different", all)
	}
}

// A refusal keeps CloudFront's message and request id, and names the
// distribution.
func TestErrorKeepsProviderMessage(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	b := purgetest.NewBackend()
	b.Fail(purgetest.Fault{Kind: purgetest.Invalid, Times: 1, Message: "Your request contains one or more invalid invalidation paths."})
	srv := backendProxy(t, moto, b)
	c, _ := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(awstest.Config(srv.URL)), DistributionID: dist})
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths("/a.html")})
	var pe *purge.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *purge.PartialError", err)
	}
	msg := res.Outcomes[0].Err
	for _, want := range []string{"cloudfront: create invalidation for " + dist, "InvalidArgument", "invalid invalidation paths", "req-InvalidArgument"} {
		if !strings.Contains(msg, want) {
			t.Errorf("got error %q, want %q in it", msg, want)
		}
	}
	if got := res.Calls[0].SupportID; got != "req-InvalidArgument" {
		t.Errorf("SupportID: got %q, want %q", got, "req-InvalidArgument")
	}
	if got := len(b.Calls()); got != 1 {
		t.Errorf("calls: got %d, want 1 (not retried)", got)
	}
}

// The tricky keys: what the object path of each is as an invalidation
// path. Only non-ASCII and RFC 1738's unsafe characters are encoded, every
// "%" among them, and "?" and "*", which would read as a query string and a
// wildcard.
func TestEncodePath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "/docs/index.html", "/docs/index.html"},
		{"no leading slash", "docs/a.html", "/docs/a.html"},
		{"empty", "", "/"},
		{"space", "/docs/a b.html", "/docs/a%20b.html"},
		{"plus stays", "/a+b.html", "/a+b.html"},
		{"percent", "/100%.html", "/100%25.html"},
		{"encoded slash is a literal", "/a%2Fb.html", "/a%252Fb.html"},
		{"already-encoded %41 is a literal", "/%41.html", "/%2541.html"},
		{"a key that looks encoded", "/docs/a%20b.html", "/docs/a%2520b.html"},
		{"tilde", "/~user/", "/%7Euser/"},
		{"star anywhere", "/img/*", "/img/%2A"},
		{"star inside", "/a*b.html", "/a%2Ab.html"},
		{"e acute", "/café.html", "/caf%C3%A9.html"},
		{"japanese", "/日本.html", "/%E6%97%A5%E6%9C%AC.html"},
		{"question mark", "/a?b.html", "/a%3Fb.html"},
		{"hash", "/a#b.html", "/a%23b.html"},
		{"double quote", `/a"b.html`, "/a%22b.html"},
		{"unsafe", "/a<b>{}|\\^[]`.txt", "/a%3Cb%3E%7B%7D%7C%5C%5E%5B%5D%60.txt"},
		{"safe and reserved stay", "/keep/+&=;:@$,!'()", "/keep/+&=;:@$,!'()"},
		{"control", "/tab\there", "/tab%09here"},
		{"double slash stays", "//a//b", "//a//b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cloudfront.EncodePath(tt.in); got != tt.want {
				t.Errorf("EncodePath(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// A path item is an invalidation path already: sent as it is, never
// encoded again; one that is not encoded fails alone, with a message that
// says what is wrong.
func TestPathItemsAreNotEncodedAgain(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	rec := &recorder{}
	c, err := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(moto.Config(rec)), DistributionID: dist})
	if err != nil {
		t.Fatal(err)
	}
	items := purge.Paths("/a%20b%2541.html", "/a b.html", "/x%2Ay.html", "/100%.html", "/a*b.html", "docs/", "/img/*")
	res, err := c.Purge(context.Background(), purge.Request{Items: items})
	var pe *purge.PartialError
	if !errors.As(err, &pe) || pe.Failed != 4 {
		t.Fatalf("Purge: got %v, want a *purge.PartialError with 4 failed", err)
	}
	wantErr := []string{"", `"/a b.html" is not encoded: ' ' at byte 2`, "", `"/100%.html" is not encoded: '%' at byte 4`,
		`"/a*b.html" is not encoded: '*' at byte 2`, `"docs/" does not start with /`, ""}
	for i, o := range res.Outcomes {
		switch {
		case wantErr[i] == "" && !o.OK:
			t.Errorf("outcome %d (%s): got failed (%s), want ok", i, o.Item.Value, o.Err)
		case wantErr[i] != "" && (o.OK || !strings.Contains(o.Err, wantErr[i])):
			t.Errorf("outcome %d (%s): got ok=%v err=%q, want failed with %q", i, o.Item.Value, o.OK, o.Err, wantErr[i])
		}
	}
	all := rec.all()
	if want := []string{"/a%20b%2541.html", "/img/*", "/x%2Ay.html"}; len(all) != 1 || !slices.Equal(all[0].Paths, want) {
		t.Errorf("paths sent: got %v, want one invalidation of %v", all, want)
	}
}

// A key planned by the planner reaches CloudFront encoded exactly once:
// the provider sends the planner's path as it is.
func TestPlannedPathEncodedOnce(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	rec := &recorder{}
	api := sdk.NewFromConfig(moto.Config(rec))
	c, err := cloudfront.New(cloudfront.Options{Client: api, DistributionID: dist})
	if err != nil {
		t.Fatal(err)
	}
	cfg := plan.Config{
		Sites:   []plan.Site{{Name: "www", Bucket: "b", PurgeNew: true, Targets: []string{"cf"}}},
		Targets: []plan.Target{{Name: "cf", Provider: "cloudfront", Limits: c.Limits()}},
	}
	pl := plan.Make(cfg, []event.Change{{Bucket: "b", Key: "a b%41.html", Kind: event.KindPut, ETag: "e", Sequencer: "01"}}, nil)
	if len(pl.Purges) != 1 {
		t.Fatalf("plan: got %d purges, want 1", len(pl.Purges))
	}
	const want = "/a%20b%2541.html"
	if got := pl.Purges[0].Paths; !slices.Equal(got, []string{want}) {
		t.Fatalf("planned paths: got %v, want [%s]", got, want)
	}
	res, err := c.Purge(context.Background(), purge.Request{Items: pl.Purges[0].Items()})
	if err != nil {
		t.Fatal(err)
	}
	if all := rec.all(); len(all) != 1 || !slices.Equal(all[0].Paths, []string{want}) {
		t.Errorf("sent: got %v, want one invalidation of [%s]", all, want)
	}
	inv, err := api.GetInvalidation(context.Background(), &sdk.GetInvalidationInput{DistributionId: aws.String(dist), Id: aws.String(res.IDs()[0])})
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Invalidation.InvalidationBatch.Paths.Items; !slices.Equal(got, []string{want}) {
		t.Errorf("moto holds: got %v, want [%s]", got, want)
	}
}

func TestNewValidates(t *testing.T) {
	api := &fakeAPI{}
	tests := []struct {
		name string
		opts cloudfront.Options
		want string
	}{
		{"no client", cloudfront.Options{DistributionID: "E1"}, "cloudfront: Options.Client is required"},
		{"no distribution", cloudfront.Options{Client: api}, "cloudfront: Options.DistributionID is required"},
		{"too many paths", cloudfront.Options{Client: api, DistributionID: "E1", PathsPerCall: 3001}, "Options.PathsPerCall 3001: want 0 (the default) to 3000"},
		{"negative wildcards", cloudfront.Options{Client: api, DistributionID: "E1", WildcardsPerCall: -1}, "Options.WildcardsPerCall -1"},
		{"negative poll", cloudfront.Options{Client: api, DistributionID: "E1", PollInterval: -time.Second}, "Options.PollInterval -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := cloudfront.New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
	// optFns apply to New's copy, not the caller's Options.
	opts := cloudfront.Options{Client: api}
	if _, err := cloudfront.New(opts, func(o *cloudfront.Options) { o.DistributionID = "E1" }); err != nil {
		t.Errorf("New with an optFn setting the distribution: got %v, want nil", err)
	}
	if opts.DistributionID != "" {
		t.Errorf("caller's Options: got DistributionID %q, want it untouched", opts.DistributionID)
	}
}

func TestBatches(t *testing.T) {
	mk := func(prefix string, n int, wild bool) []string {
		var out []string
		for i := range n {
			p := fmt.Sprintf("/%s%05d", prefix, i)
			if wild {
				p += "/*"
			}
			out = append(out, p)
		}
		return out
	}
	tests := []struct {
		name        string
		plain, wild int
		want        []int // batch sizes
	}{
		{"none", 0, 0, nil},
		{"one", 1, 0, []int{1}},
		{"full", 3000, 0, []int{3000}},
		{"over", 3001, 0, []int{3000, 1}},
		{"10k", 10000, 0, []int{3000, 3000, 3000, 1000}},
		{"wildcards alone", 0, 31, []int{15, 15, 1}},
		{"wildcards share", 5990, 20, []int{3000, 3000, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append(mk("p", tt.plain, false), mk("w", tt.wild, true)...)
			got := cloudfront.Batches(in, cloudfront.MaxPaths, cloudfront.MaxWildcards)
			var sizes []int
			seen := 0
			for _, b := range got {
				sizes = append(sizes, len(b))
				seen += len(b)
				w := 0
				for _, p := range b {
					if strings.HasSuffix(p, "*") {
						w++
					}
				}
				if w > cloudfront.MaxWildcards {
					t.Errorf("batch with %d wildcards, want at most %d", w, cloudfront.MaxWildcards)
				}
				if !slices.IsSorted(b) {
					t.Error("batch not sorted")
				}
			}
			if !slices.Equal(sizes, tt.want) || seen != len(in) {
				t.Errorf("got sizes %v (%d paths), want %v (%d)", sizes, seen, tt.want, len(in))
			}
		})
	}
}

func TestItemKinds(t *testing.T) {
	moto := awstest.SharedMoto(t)
	dist := distribution(t, moto)
	rec := &recorder{}
	c, _ := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(moto.Config(rec)), DistributionID: dist})
	items := []purge.Item{
		{Kind: purge.KindURL, Value: "https://www.example.com/docs/a%20b.html?v=2"},
		{Kind: purge.KindPrefix, Value: "/docs/"},
		{Kind: purge.KindAll},
		{Kind: purge.KindPath, Value: "/docs/a%20b.html?v=2"}, // the same path as the URL: sent once
	}
	res, err := c.Purge(context.Background(), purge.Request{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	all := rec.all()
	if len(all) != 1 {
		t.Fatalf("invalidations: got %d, want 1", len(all))
	}
	if want := []string{"/*", "/docs/*", "/docs/a%20b.html?v=2"}; !slices.Equal(all[0].Paths, want) {
		t.Errorf("paths: got %v, want %v", all[0].Paths, want)
	}
	for _, o := range res.Outcomes {
		if !o.OK || o.ID == "" {
			t.Errorf("outcome %v: got ok=%v id=%q, want ok with the invalidation id", o.Item, o.OK, o.ID)
		}
	}
}

// fakeAPI moves an invalidation from InProgress to Completed after some polls.
type fakeAPI struct {
	cloudfront.API
	mu    sync.Mutex
	polls int
}

func (f *fakeAPI) GetInvalidation(ctx context.Context, in *sdk.GetInvalidationInput, _ ...func(*sdk.Options)) (*sdk.GetInvalidationOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	st := "InProgress"
	if f.polls >= 3 {
		st = "Completed"
	}
	return &sdk.GetInvalidationOutput{Invalidation: &types.Invalidation{Id: in.Id, Status: aws.String(st)}}, nil
}

func TestWait(t *testing.T) {
	api := &fakeAPI{}
	sleeper := purgetest.NewSleeper()
	p := sleeper.Policy()
	c, _ := cloudfront.New(cloudfront.Options{Client: api, DistributionID: "E8F6HK73EP0LT", Retry: p, PollInterval: 5 * time.Second})
	st, err := c.Wait(context.Background(), "I2J0I21PCUYOIK")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Done || st.State != "Completed" {
		t.Errorf("got %+v, want Completed", st)
	}
	if got, want := sleeper.Waits(), []time.Duration{5 * time.Second, 5 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("waits: got %v, want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Wait(ctx, "I2J0I21PCUYOIK"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Wait: got %v, want context.Canceled", err)
	}
}

// A call that got no answer is repeated: the CallerReference makes that safe.
func TestRetryWithoutAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: every call is refused
	sleeper := purgetest.NewSleeper()
	p := sleeper.Policy()
	p.MaxAttempts = 3
	c, _ := cloudfront.New(cloudfront.Options{Client: sdk.NewFromConfig(awstest.Config("http://" + addr)), DistributionID: "E8F6HK73EP0LT", Retry: p})
	res, err := c.Purge(context.Background(), purge.Request{Items: purge.Paths("/a.html")})
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	if got := res.Calls[0].Attempts; got != 3 {
		t.Errorf("attempts: got %d, want 3 (%s)", got, res.Outcomes[0].Err)
	}
	if msg := res.Outcomes[0].Err; !strings.Contains(msg, "cloudfront: create invalidation for E8F6HK73EP0LT") || !strings.Contains(msg, "connection refused") {
		t.Errorf("got %q, want the distribution and the cause", msg)
	}
}

func BenchmarkBatches10k(b *testing.B) {
	paths := make([]string, 10000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/site/dir%03d/page %05d.html", i%100, i)
	}
	var n int
	for b.Loop() {
		enc := make([]string, len(paths))
		for i, p := range paths {
			enc[i] = cloudfront.EncodePath(p)
		}
		n = len(cloudfront.Batches(enc, cloudfront.MaxPaths, cloudfront.MaxWildcards))
	}
	b.ReportMetric(float64(n), "requests")
}
