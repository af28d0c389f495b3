package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/offload-dev/offload/internal/awstest"
)

func TestMain(m *testing.M) { os.Exit(awstest.RunMain(m)) }

// sqsOf is an SQS event of one message per body.
func sqsOf(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b})
	}
	return ev
}

// s3Body is an S3 notification of one put of key, as S3 encodes it.
func s3Body(key string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
		"s3": map[string]any{"bucket": map[string]any{"name": "my-site"}, "object": map[string]any{"key": key}},
	}}})
	return string(b)
}

func TestHandler(t *testing.T) {
	moto := awstest.SharedMoto(t)
	cf := cloudfront.NewFromConfig(moto.Config())
	for _, tc := range []struct {
		name    string
		ev      events.SQSEvent
		want    [][]string // the distribution's invalidations after it
		wantErr bool
	}{
		{name: "batch in one call", ev: sqsOf(s3Body("a.html"), s3Body("docs/a+b%C3%A9.html")),
			want: [][]string{{"/a.html", "/docs/a%20b%C3%A9.html"}}},
		{name: "no records, no call", ev: sqsOf(), want: nil},
		{name: "body not an S3 notification", ev: sqsOf(s3Body("a.html"), "not json"), want: nil, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dist := moto.CreateDistribution(t)
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-" + dist})
			resp, err := handler(cf, dist)(ctx, tc.ev)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && (resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0) {
				t.Errorf("got failures %#v, want an empty list", resp.BatchItemFailures)
			}
			got := moto.Invalidations(t, dist)
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("got invalidations %q, want %q", got, tc.want)
			}
		})
	}
}
