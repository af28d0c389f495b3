package ssmcache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/internal/awstest"
)

// During an outage a batched load makes one GetParameters call per ten
// names, as when SSM is up: the fetcher asks name by name only for a
// failure one name may have caused (TestAccessDeniedNamesTheParameter).
// Before, 10 names while SSM answered 500 made 11 calls, 25 made 28.
func TestOutageCallsPerAttempt(t *testing.T) {
	faults := []awstest.Fault{
		{Status: 500, Code: "InternalServerError", Message: "We encountered an internal error. Please try again."},
		{Status: 503, Code: "ServiceUnavailable", Message: "Service unavailable"},
		{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"},
	}
	for _, fault := range faults {
		for _, n := range []int{10, 25} {
			t.Run(fmt.Sprint(fault.Code, "/", n), func(t *testing.T) {
				e := setup(t)
				proxy := awstest.NewFaultProxy(e.moto.URL)
				defer proxy.Close()
				counter := awstest.NewCounter()
				params := newParams(t, ssm.NewFromConfig(awstest.Config(proxy.URL, counter)))
				for i := range n {
					name := fmt.Sprintf("/prod/app/p%02d", i)
					e.put(t, name, "v", types.ParameterTypeString)
					cache.MustAdd(e.c, params.String(name))
				}
				fault.Op, fault.Times = "GetParameters", -1
				proxy.Inject(fault)
				err := e.c.Load(context.Background())
				if err == nil {
					t.Fatal("Load during the outage: got no error")
				}
				want := (n + 9) / 10
				if got := counter.Count("GetParameters"); got != want {
					t.Fatalf("GetParameters calls for %d names: got %d, want %d (%s)", n, got, want, counter)
				}
				// The next attempt waits for the backoff: no call at all.
				if err := e.c.Load(context.Background()); err == nil {
					t.Fatal("Load during the backoff: got no error")
				}
				if got := counter.Count("GetParameters"); got != want {
					t.Fatalf("GetParameters calls after a Load during the backoff: got %d, want still %d", got, want)
				}
				if fault.Code == "ThrottlingException" && !errors.Is(err, cache.ErrThrottled) {
					t.Fatalf("got %v, want ErrThrottled", err)
				}
			})
		}
	}
}
