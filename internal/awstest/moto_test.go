package awstest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

func TestMain(m *testing.M) { os.Exit(RunMain(m)) }

func TestMotoCountsAndFaults(t *testing.T) {
	moto := SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	proxy := NewFaultProxy(moto.URL)
	defer proxy.Close()
	counter := NewCounter()
	client := ssm.NewFromConfig(Config(proxy.URL, counter))
	ctx := context.Background()

	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/a/b"), Value: aws.String("v"), Type: "String"}); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/a/b")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Parameter.Value); got != "v" {
		t.Fatalf("got %q, want %q", got, "v")
	}

	proxy.Inject(Fault{Op: "GetParameter", Times: 1, Code: "ThrottlingException", Message: "Rate exceeded"})
	_, err = client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/a/b")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("got %v, want a ThrottlingException", err)
	}
	if _, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/a/b")}); err != nil {
		t.Fatalf("after the fault: %v", err)
	}
	if got, want := counter.Count("GetParameter"), 3; got != want {
		t.Fatalf("GetParameter calls: got %d, want %d (%s)", got, want, counter)
	}
	if got := proxy.Served("GetParameter"); got != 1 {
		t.Fatalf("faults served: got %d, want 1", got)
	}
}
