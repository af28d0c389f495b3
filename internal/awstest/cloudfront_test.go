package awstest

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func invalidate(ctx context.Context, c *cloudfront.Client, dist, ref string, paths ...string) (string, error) {
	out, err := c.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(dist),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	}, func(o *cloudfront.Options) { o.Retryer = aws.NopRetryer{} })
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Invalidation.Id), nil
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// The stand-in answers a repeated CallerReference as CloudFront documents
// it; moto alone makes a new invalidation every time, which is why it
// exists.
func TestCloudFrontKeepsCallerReference(t *testing.T) {
	moto := SharedMoto(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		standIn   bool
		ref       string // of the second call; the first is "ref-1" for /a and /b
		paths     []string
		sameID    bool
		code      string // the second call's error code
		wantMoto  int    // invalidations at moto afterwards
		wantAgain int    // calls the stand-in answered with the first invalidation
	}{
		{"same reference and paths", true, "ref-1", []string{"/b", "/a"}, true, "", 1, 1},
		{"same reference, other paths", true, "ref-1", []string{"/a", "/c"}, false, "InvalidationBatchAlreadyExists", 1, 0},
		{"another reference", true, "ref-2", []string{"/a", "/b"}, false, "", 2, 0},
		{"moto alone, same reference and paths", false, "ref-1", []string{"/a", "/b"}, false, "", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist := moto.CreateDistribution(t)
			endpoint := moto.URL
			cf := NewCloudFront(moto.URL)
			defer cf.Close()
			if tt.standIn {
				endpoint = cf.URL
			}
			c := cloudfront.NewFromConfig(Config(endpoint))
			first, err := invalidate(ctx, c, dist, "ref-1", "/a", "/b")
			if err != nil {
				t.Fatal(err)
			}
			second, err := invalidate(ctx, c, dist, tt.ref, tt.paths...)
			if got := errorCode(err); got != tt.code || (err != nil && tt.code == "") {
				t.Fatalf("second call: got error %v (code %q), want code %q", err, got, tt.code)
			}
			if got := second == first; got != tt.sameID {
				t.Errorf("second call: got invalidation %s after %s; want the same: %v", second, first, tt.sameID)
			}
			if got := len(moto.Invalidations(t, dist)); got != tt.wantMoto {
				t.Errorf("got %d invalidations at moto, want %d", got, tt.wantMoto)
			}
			if tt.standIn {
				if got := cf.Repeated(); got != tt.wantAgain {
					t.Errorf("got %d calls answered with an earlier invalidation, want %d", got, tt.wantAgain)
				}
				if got := cf.Created(); got != tt.wantMoto {
					t.Errorf("got %d invalidations created through the stand-in, want %d", got, tt.wantMoto)
				}
			}
		})
	}
}

// A fault with Forward reaches moto before the client sees it fail; one
// without never does.
func TestFaultProxyLosesAnswers(t *testing.T) {
	moto := SharedMoto(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		fault    Fault
		code     string // the client's error code; "" for a broken connection
		wantMoto int
	}{
		{"refused before forwarding", Fault{Status: 503, Code: "ServiceUnavailable"}, "ServiceUnavailable", 0},
		{"dropped before forwarding", Fault{Drop: true}, "", 0},
		{"answer lost: 500 after forwarding", Fault{Forward: true, Status: 500, Code: "InternalError"}, "InternalError", 1},
		{"answer lost: connection closed after forwarding", Fault{Forward: true, Drop: true}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist := moto.CreateDistribution(t)
			proxy := NewFaultProxy(moto.URL)
			defer proxy.Close()
			tt.fault.Times = 1
			proxy.Inject(tt.fault)
			_, err := invalidate(ctx, cloudfront.NewFromConfig(Config(proxy.URL)), dist, "ref-1", "/a")
			switch {
			case err == nil:
				t.Fatal("got no error, want the fault")
			case tt.code != "" && errorCode(err) != tt.code:
				t.Fatalf("got %v, want code %s", err, tt.code)
			case tt.code == "" && !errors.As(err, new(*smithyhttp.RequestSendError)):
				t.Fatalf("got %v, want a broken connection (RequestSendError)", err)
			}
			if got := len(moto.Invalidations(t, dist)); got != tt.wantMoto {
				t.Errorf("got %d invalidations at moto, want %d", got, tt.wantMoto)
			}
			if got := proxy.Served(""); got != 1 {
				t.Errorf("got %d faults served, want 1", got)
			}
		})
	}
}
