package pipeline_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awscloudfront "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/purge"
	"github.com/offload-dev/offload/purge/cloudfront"
)

// The path S3 → SQS → offload, all in moto through the real SDK: the bucket
// notifies the queue, the messages are handed over as Lambda's event source
// mapping hands them (an SQS event), the succeeded ones are deleted and the
// failed ones come back, until every change is purged, each once.
func TestS3NotificationsThroughSQS(t *testing.T) {
	moto := awstest.SharedMoto(t)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := moto.Config()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg)

	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("offload-events")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("my-site")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String("my-site"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(attrs.Attributes["QueueArn"]),
			Events:   []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"index.html", "docs/a b.html", "docs/ü+.css", "old.html"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("my-site"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("my-site"), Key: aws.String("old.html")}); err != nil {
		t.Fatal(err)
	}

	dist := moto.CreateDistribution(t)
	proxy := awstest.NewFaultProxy(moto.URL)
	defer proxy.Close()
	cf, err := cloudfront.New(cloudfront.Options{Client: awscloudfront.NewFromConfig(awstest.Config(proxy.URL)), DistributionID: dist, Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, pipeline.Options{Plan: cfConfig("cf"), Ledger: ledger.NewMemory(), Purgers: map[string]purge.Purger{"cf": cf}})
	// CloudFront is down for the first delivery: three failed attempts.
	proxy.Inject(awstest.Fault{Times: 3, Status: 503, Code: "ServiceUnavailable", Message: "down"})

	deliveries := 0
	for round := 0; round < 6; round++ {
		got, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			break
		}
		deliveries++
		// The SQS event Lambda's event source mapping would send.
		var ev events.SQSEvent
		for _, m := range got.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body), EventSource: "aws:sqs"})
		}
		payload, _ := json.Marshal(ev)
		res, err := p.Apply(ctx, event.Decode(payload))
		if err != nil {
			t.Fatal(err)
		}
		failed := res.FailedMessages()
		if round == 0 {
			// CloudFront is down: every message with a purge fails; the
			// test event and the put superseded by its remove succeed.
			var purging []string
			for _, c := range res.Changes {
				if c.Decision.Decision == "purge" && !slices.Contains(purging, c.MessageID) {
					purging = append(purging, c.MessageID)
				}
			}
			slices.Sort(purging)
			slices.Sort(failed)
			if len(purging) != 4 || !slices.Equal(failed, purging) {
				t.Fatalf("first delivery: failed %v, want the messages that purge %v", failed, purging)
			}
		}
		for _, m := range got.Messages {
			if slices.Contains(failed, aws.ToString(m.MessageId)) {
				// Back to the queue at once, as after a visibility timeout.
				_, err = sqsc.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
			} else {
				_, err = sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if deliveries < 2 {
		t.Fatalf("deliveries: got %d, want a redelivery after the failure", deliveries)
	}
	left, _ := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
	if len(left.Messages) != 0 {
		t.Fatalf("%d messages left in the queue", len(left.Messages))
	}
	seen := map[string]int{}
	for _, inv := range moto.Invalidations(t, dist) {
		for _, path := range inv {
			seen[path]++
		}
	}
	want := map[string]int{"/": 1, "/index.html": 1, "/docs/a%20b.html": 1, "/docs/%C3%BC+.css": 1, "/old.html": 1}
	if len(seen) != len(want) {
		t.Fatalf("invalidated paths: got %v, want %v", seen, want)
	}
	for path, n := range want {
		if seen[path] != n {
			t.Fatalf("%s invalidated %d times, want %d (all: %v)", path, seen[path], n, seen)
		}
	}
}
