package main

import (
	"context"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/akamai"
	"github.com/offload-dev/offload/purge/budget"
	purgecf "github.com/offload-dev/offload/purge/cloudfront"
	"github.com/offload-dev/offload/purge/fastly"
)

// Measurement 3's CDNs: offload's own provider clients (purge/cloudfront
// through the AWS SDK, purge/akamai, purge/fastly) against test servers
// that speak each provider's API on 127.0.0.1, with a fixed latency added
// to every request by the clients' transport.

// The targets of measurement 3, one of each way providers take purges.
var targetNames = []string{"cf", "ak", "fy"}

const (
	benchDistribution = "E2BENCHDIST0001"
	fastlyToken       = "bench-fastly-token-0123456789"
	akClientToken     = "akab-bench-client-token-000000000000"
	akAccessToken     = "akab-bench-access-token-000000000000"
	akClientSecret    = "YmVuY2gtY2xpZW50LXNlY3JldC1iZW5jaC1jbGllbnQ9"
)

// cdnEndpoints is where a process finds the test servers.
type cdnEndpoints struct {
	CloudFront string
	Akamai     string
	AkamaiCert []byte // the Fast Purge server's TLS certificate, DER
	Fastly     string
}

// cdnFakes are the test servers, started in the harness's process so that
// the CPU time of a pipeline child is its own.
type cdnFakes struct {
	cf *cloudFrontFake
	ak *akamaitest.FastPurge
	fy *fastlyFake
}

func startCDNFakes() *cdnFakes {
	f := &cdnFakes{cf: newCloudFrontFake(), fy: newFastlyFake()}
	f.ak = akamaitest.NewFastPurge(akamaitest.Credentials{ClientToken: akClientToken, ClientSecret: akClientSecret, AccessToken: akAccessToken})
	// Its token buckets (Fast Purge's account-wide rate limits) are kept
	// full: each request sees a clock an hour past the last one, so the
	// measurement times offload, not the account's quota.
	var hours atomic.Int64
	f.ak.Now = func() time.Time { return time.Now().Add(time.Duration(hours.Add(1)) * time.Hour) }
	return f
}

func (f *cdnFakes) Close() {
	f.cf.Close()
	f.ak.Close()
	f.fy.Close()
}

func (f *cdnFakes) endpoints() cdnEndpoints {
	return cdnEndpoints{CloudFront: f.cf.URL, Akamai: f.ak.URL, AkamaiCert: f.ak.Certificate().Raw, Fastly: f.fy.URL}
}

// counts are the requests each server answered with success, and the
// CloudFront paths.
type cdnCounts struct {
	Requests map[string]int
	CFPaths  int
	Refused  map[string]int // requests answered with an error, by target and status
}

func (f *cdnFakes) counts() cdnCounts {
	c := cdnCounts{Requests: map[string]int{}, Refused: map[string]int{}}
	var cfRefused, fyRefused int
	c.Requests["cf"], c.CFPaths, cfRefused = f.cf.counts()
	c.Refused["cf 400"] = cfRefused
	for _, r := range f.ak.Received() {
		if r.Status == http.StatusCreated {
			c.Requests["ak"]++
		} else {
			c.Refused[fmt.Sprintf("ak %d", r.Status)]++
		}
	}
	c.Requests["fy"], fyRefused = f.fy.counts()
	c.Refused["fy 404"] = fyRefused
	return c
}

// sub is what the servers answered between two counts.
func (c cdnCounts) sub(before cdnCounts) cdnCounts {
	out := cdnCounts{Requests: map[string]int{}, CFPaths: c.CFPaths - before.CFPaths, Refused: map[string]int{}}
	for k, v := range c.Requests {
		out.Requests[k] = v - before.Requests[k]
	}
	for k, v := range c.Refused {
		if d := v - before.Refused[k]; d > 0 {
			out.Refused[k] = d
		}
	}
	return out
}

// purgers builds offload's provider clients for the servers at ep, each
// over a transport that adds latency to every request, and the planner's
// view of them. All of measurement 3's calls into purge/... are here.
func purgers(ep cdnEndpoints, latency time.Duration) (map[string]purge.Purger, plan.Config, error) {
	plain := keepAliveTransport()
	pool := x509.NewCertPool()
	cert, err := x509.ParseCertificate(ep.AkamaiCert)
	if err != nil {
		return nil, plan.Config{}, fmt.Errorf("akamai test server's certificate: %w", err)
	}
	pool.AddCert(cert)
	tls := keepAliveTransport()
	tls.TLSClientConfig.RootCAs = pool

	cf, err := purgecf.New(purgecf.Options{Client: cloudFrontSDK(ep.CloudFront, latency), DistributionID: benchDistribution})
	if err != nil {
		return nil, plan.Config{}, err
	}
	ak, err := akamai.New(akamai.Options{
		Config: &edgegrid.Config{Host: strings.TrimPrefix(ep.Akamai, "https://"), ClientToken: akClientToken,
			ClientSecret: akClientSecret, AccessToken: akAccessToken},
		HTTPClient: &http.Client{Transport: &delayed{next: tls, d: latency}, Timeout: 30 * time.Second},
		BaseURL:    "https://www.example.com",
		// The account's rate limits are left out on this side too (see
		// startCDNFakes): the client's own budget of them, 12,000 URLs a
		// minute after a burst of 10,000, would otherwise set the wall time
		// of every batch past 10,000 URLs: 509 s a round at 100,000 records
		// in the report of 55f5aed, where it was not unlimited.
		Budget: budget.Unlimited(),
	})
	if err != nil {
		return nil, plan.Config{}, err
	}
	fy, err := fastly.New(fastly.Options{Token: fastlyToken, APIURL: ep.Fastly, BaseURL: "https://www.example.com",
		HTTPClient: &http.Client{Transport: &delayed{next: plain, d: latency}, Timeout: 30 * time.Second}})
	if err != nil {
		return nil, plan.Config{}, err
	}
	ps := map[string]purge.Purger{"cf": cf, "ak": ak, "fy": fy}
	cfg := plan.Config{Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: targetNames}}}
	providers := map[string]string{"cf": "cloudfront", "ak": "akamai", "fy": "fastly"}
	for _, n := range targetNames {
		t := plan.Target{Name: n, Provider: providers[n], Limits: ps[n].(purge.Limiter).Limits()}
		if n != "cf" {
			t.BaseURL = "https://www.example.com"
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	return ps, cfg, nil
}

// cloudFrontSDK is an AWS SDK CloudFront client of the server at endpoint,
// with latency added to every request.
func cloudFrontSDK(endpoint string, latency time.Duration) *cloudfront.Client {
	return cloudfront.NewFromConfig(awstest.Config(endpoint, &delayed{next: keepAliveTransport(), d: latency}))
}

// keepAliveTransport is the transport of every CDN client here: the
// standard library's defaults, with enough idle connections per host for
// the clients' concurrency.
func keepAliveTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// delayed waits d before sending each request: the network's share of a
// CDN API's answer time, the same for every provider.
type delayed struct {
	next http.RoundTripper
	d    time.Duration
}

func (t *delayed) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.d > 0 {
		timer := time.NewTimer(t.d)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return nil, r.Context().Err()
		}
	}
	return t.next.RoundTrip(r)
}

// cloudFrontFake answers CreateInvalidation as CloudFront's API does for
// benchDistribution: it checks the batch (paths present, Quantity right,
// at most 3,000, a CallerReference) and answers 201 with the invalidation.
// moto, which the purge/cloudfront tests use, takes tens of milliseconds
// per call here, which would time moto rather than the pipeline.
type cloudFrontFake struct {
	*httptest.Server
	mu      sync.Mutex
	calls   int
	paths   int
	refused int
}

func newCloudFrontFake() *cloudFrontFake {
	f := &cloudFrontFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *cloudFrontFake) counts() (calls, paths, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.paths, f.refused
}

func (f *cloudFrontFake) serve(w http.ResponseWriter, r *http.Request) {
	var batch struct {
		CallerReference string   `xml:"CallerReference"`
		Quantity        int      `xml:"Paths>Quantity"`
		Paths           []string `xml:"Paths>Items>Path"`
	}
	// Only the harness's own clients count: on a shared machine a port
	// can be reached by a stray request meant for a server that had it.
	if !strings.Contains(r.Header.Get("Authorization"), "Credential=testing/") {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	err := errors.New("not found")
	if r.Method == http.MethodPost && r.URL.Path == "/2020-05-31/distribution/"+benchDistribution+"/invalidation" {
		err = xml.NewDecoder(r.Body).Decode(&batch)
	}
	if err == nil && (batch.CallerReference == "" || len(batch.Paths) == 0 || len(batch.Paths) != batch.Quantity || len(batch.Paths) > purgecf.MaxPaths) {
		err = fmt.Errorf("%d paths, quantity %d, caller reference %q", len(batch.Paths), batch.Quantity, batch.CallerReference)
	}
	f.mu.Lock()
	if err != nil {
		f.refused++
	} else {
		f.calls++
		f.paths += len(batch.Paths)
	}
	id := fmt.Sprintf("I%013d", f.calls)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>InvalidArgument</Code><Message>%s</Message></Error><RequestId>bench</RequestId></ErrorResponse>`, err)
		return
	}
	w.Header().Set("Location", "https://cloudfront.amazonaws.com/2020-05-31/distribution/"+benchDistribution+"/invalidation/"+id)
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>%s</Id><Status>InProgress</Status><CreateTime>%s</CreateTime></Invalidation>`,
		id, time.Now().UTC().Format(time.RFC3339))
}

// fastlyFake answers Fastly's single-URL purge, POST /purge/{url}, with
// the Fastly-Key token checked. (purge/fastly's own test server, with
// every check Fastly makes, is in its _test.go and cannot be imported.)
type fastlyFake struct {
	*httptest.Server
	calls, refused atomic.Int64
}

func newFastlyFake() *fastlyFake {
	f := &fastlyFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Only requests with the token count as the client's (see
		// cloudFrontFake.serve).
		if r.Header.Get("Fastly-Key") != fastlyToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"msg":"Provided credentials are missing or invalid"}`)
			return
		}
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/purge/") {
			f.refused.Add(1)
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"msg":"Record not found"}`)
			return
		}
		n := f.calls.Add(1)
		fmt.Fprintf(w, `{"status":"ok","id":"%d-1700000000-0"}`, n)
	}))
	return f
}

func (f *fastlyFake) counts() (calls, refused int) {
	return int(f.calls.Load()), int(f.refused.Load())
}

// perEvent is the baseline of measurement 3: for every decoded event, one
// CreateInvalidation of its path alone with a time-based CallerReference,
// one after another, through the AWS SDK to the same server with the same
// latency: what a handler that invalidates per record does.
func perEvent(ctx context.Context, c *cloudfront.Client, paths []string) error {
	for _, p := range paths {
		if _, err := c.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
			DistributionId: aws.String(benchDistribution),
			InvalidationBatch: &cftypes.InvalidationBatch{
				CallerReference: aws.String(fmt.Sprint(time.Now().UnixNano())),
				Paths:           &cftypes.Paths{Quantity: aws.Int32(1), Items: []string{p}},
			},
		}); err != nil {
			return err
		}
	}
	return nil
}
