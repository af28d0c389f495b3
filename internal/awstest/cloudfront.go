package awstest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// CreateDistribution makes a CloudFront distribution in moto for tests that
// purge through it, and returns its id.
func (m *Moto) CreateDistribution(tb testing.TB) string {
	tb.Helper()
	id, err := NewDistribution(context.Background(), cloudfront.NewFromConfig(m.Config()))
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// NewDistribution makes a CloudFront distribution through c (a client of
// moto) and returns its id; for the benchmark harness, outside tests.
func NewDistribution(ctx context.Context, c *cloudfront.Client) (string, error) {
	out, err := c.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{
		DistributionConfig: &types.DistributionConfig{
			CallerReference: aws.String(fmt.Sprintf("test-%d", time.Now().UnixNano())),
			Comment:         aws.String("offload test"),
			Enabled:         aws.Bool(true),
			Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
				Id:             aws.String("site"),
				DomainName:     aws.String("my-site.s3.amazonaws.com"),
				S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String("")},
			}}},
			DefaultCacheBehavior: &types.DefaultCacheBehavior{
				TargetOriginId:       aws.String("site"),
				ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps,
				MinTTL:               aws.Int64(0),
				ForwardedValues: &types.ForwardedValues{
					QueryString: aws.Bool(false),
					Cookies:     &types.CookiePreference{Forward: types.ItemSelectionNone},
				},
				TrustedSigners: &types.TrustedSigners{Enabled: aws.Bool(false), Quantity: aws.Int32(0)},
			},
		},
	})
	if err != nil {
		return "", fmt.Errorf("awstest: create a distribution in moto: %w", err)
	}
	return aws.ToString(out.Distribution.Id), nil
}

// Invalidations lists the paths of every invalidation of a distribution in
// moto, one slice per invalidation.
func (m *Moto) Invalidations(tb testing.TB, distributionID string) [][]string {
	tb.Helper()
	c := cloudfront.NewFromConfig(m.Config())
	ctx := context.Background()
	list, err := c.ListInvalidations(ctx, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(distributionID)})
	if err != nil {
		tb.Fatalf("awstest: list invalidations: %v", err)
	}
	var out [][]string
	for _, s := range list.InvalidationList.Items {
		inv, err := c.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: aws.String(distributionID), Id: s.Id})
		if err != nil {
			tb.Fatalf("awstest: get invalidation %s: %v", aws.ToString(s.Id), err)
		}
		out = append(out, inv.Invalidation.InvalidationBatch.Paths.Items)
	}
	return out
}

// CloudFront is an endpoint in front of moto that keeps CloudFront's
// promise about an invalidation's CallerReference, which moto does not
// (moto 5 makes a new invalidation for every CreateInvalidation): the same
// reference with the same paths returns the invalidation it made before
// and makes none; the same reference with other paths is refused with
// InvalidationBatchAlreadyExists. Everything else is forwarded as it is, so
// moto stays the record of what was invalidated.
//
// Put it behind a FaultProxy to lose answers after the work was done:
// retries with the same reference then create nothing more, as at CloudFront.
type CloudFront struct {
	*httptest.Server

	mu      sync.Mutex
	made    map[string]*madeInvalidation // by distribution and reference
	created int                          // invalidations moto made through it
	again   int                          // CreateInvalidation answered with an earlier one
}

type madeInvalidation struct {
	paths  []string // sorted
	status int
	header http.Header
	body   []byte
}

// invalidationBatch is CreateInvalidation's body, as the SDK writes it.
type invalidationBatch struct {
	CallerReference string
	Paths           []string `xml:"Paths>Items>Path"`
}

// NewCloudFront starts the endpoint on 127.0.0.1 in front of target (moto).
// Close it when done.
func NewCloudFront(target string) *CloudFront {
	u, err := url.Parse(target)
	if err != nil {
		panic(fmt.Sprintf("awstest: cloudfront target %q: %v", target, err))
	}
	cf := &CloudFront{made: map[string]*madeInvalidation{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = Transport()
	create := regexp.MustCompile(`^/20\d\d-\d\d-\d\d/distribution/([^/]+)/invalidation$`)
	cf.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := create.FindStringSubmatch(r.URL.Path)
		if r.Method != http.MethodPost || m == nil {
			rp.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		var batch invalidationBatch
		if err == nil {
			err = xml.Unmarshal(body, &batch)
		}
		if err != nil || batch.CallerReference == "" {
			writeFault(w, r, &Fault{Status: http.StatusBadRequest, Code: "MalformedInput", Message: "awstest: not an InvalidationBatch with a CallerReference"})
			return
		}
		slices.Sort(batch.Paths)
		key := m[1] + "\x00" + batch.CallerReference

		// One create at a time: a retry waits for the call it repeats.
		cf.mu.Lock()
		defer cf.mu.Unlock()
		if prev, ok := cf.made[key]; ok {
			if !slices.Equal(prev.paths, batch.Paths) {
				writeFault(w, r, &Fault{Status: http.StatusConflict, Code: "InvalidationBatchAlreadyExists",
					Message: "CallerReference " + batch.CallerReference + " was sent before with other paths"})
				return
			}
			cf.again++
			prev.write(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		got := &madeInvalidation{paths: batch.Paths, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if rec.Code/100 == 2 {
			cf.made[key] = got
			cf.created++
		}
		got.write(w)
	}))
	return cf
}

func (m *madeInvalidation) write(w http.ResponseWriter) {
	for k, v := range m.header {
		w.Header()[k] = v
	}
	w.WriteHeader(m.status)
	w.Write(m.body)
}

// Created returns how many invalidations moto made through the endpoint.
func (cf *CloudFront) Created() int {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return cf.created
}

// Repeated returns how many CreateInvalidation calls were answered with an
// invalidation made before, for a CallerReference sent again.
func (cf *CloudFront) Repeated() int {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return cf.again
}
