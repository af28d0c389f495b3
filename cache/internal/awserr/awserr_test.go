package awserr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/offload-dev/offload/cache"
)

// httpError is an API error with the HTTP status the SDK's response errors
// carry.
type httpError struct {
	smithy.GenericAPIError
	status int
}

func (e *httpError) HTTPStatusCode() int { return e.status }

func apiErr(code string, status int) error {
	return &httpError{GenericAPIError: smithy.GenericAPIError{Code: code, Message: "m"}, status: status}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{apiErr("ParameterNotFound", 400), cache.ErrNotFound},
		{apiErr("ResourceNotFoundException", 400), cache.ErrNotFound},
		{apiErr("NoSuchKey", 404), cache.ErrNotFound},
		{apiErr("AccessDeniedException", 400), cache.ErrAccessDenied},
		{apiErr("ThrottlingException", 400), cache.ErrThrottled},
		{apiErr("ProvisionedThroughputExceededException", 400), cache.ErrThrottled},
		{apiErr("InternalServerError", 500), nil},
		{errors.New("dial tcp: connection refused"), nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			got := Classify(tt.err)
			for _, s := range []error{cache.ErrNotFound, cache.ErrAccessDenied, cache.ErrThrottled} {
				if errors.Is(got, s) != (s == tt.want) {
					t.Fatalf("got %v, want it to wrap %v only", got, tt.want)
				}
			}
			if !errors.Is(got, tt.err) {
				t.Fatalf("got %v, want it to keep the SDK's error", got)
			}
		})
	}
	if Classify(nil) != nil {
		t.Fatal("Classify(nil): got an error, want nil")
	}
}

func TestItemFault(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{apiErr("AccessDeniedException", 400), true},
		{apiErr("ValidationException", 400), true},
		{apiErr("InternalServerError", 500), false},
		{apiErr("ServiceUnavailable", 503), false},
		{apiErr("ThrottlingException", 400), false},
		{&smithy.GenericAPIError{Code: "Weird", Fault: smithy.FaultClient}, true},
		{&smithy.GenericAPIError{Code: "Weird", Fault: smithy.FaultServer}, false},
		{errors.New("read: connection reset by peer"), false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			if got := ItemFault(tt.err); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
