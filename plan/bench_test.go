package plan_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// sqsBatch builds an SQS event of n messages, each an S3 notification of
// one put, as a Lambda function behind SQS receives it.
func sqsBatch(n int) []byte {
	type rec = map[string]any
	records := make([]rec, n)
	for i := range n {
		s3 := rec{"Records": []rec{{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
			"eventTime": "2026-11-20T10:00:00.000Z", "eventName": "ObjectCreated:Put",
			"s3": rec{"bucket": rec{"name": "my-site"}, "object": rec{
				"key": fmt.Sprintf("assets/dir%02d/file+%05d.js", i%50, i), "size": 1024,
				"eTag": fmt.Sprintf("%032x", i), "sequencer": fmt.Sprintf("0065A1%012X", i)}},
		}}}
		body, _ := json.Marshal(s3)
		records[i] = rec{"messageId": fmt.Sprintf("m-%05d", i), "eventSource": "aws:sqs", "body": string(body)}
	}
	b, _ := json.Marshal(rec{"Records": records})
	return b
}

var benchConfig = plan.Config{
	Sites: []plan.Site{{Name: "www", Bucket: "my-site", Index: "index.html", PurgeNew: true, Targets: []string{"cf", "ak", "fy", "cfl"}}},
	Targets: []plan.Target{
		{Name: "cf", Provider: "cloudfront", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindPath: 3000}, Wildcards: 15}},
		{Name: "ak", Provider: "akamai", BaseURL: "https://www.example.com", Limits: purge.Limits{BodyBytes: 50000}},
		{Name: "fy", Provider: "fastly", BaseURL: "https://www.example.com", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindURL: 1}}},
		{Name: "cfl", Provider: "cloudflare", BaseURL: "https://www.example.com", Limits: purge.Limits{ItemsPerCall: map[purge.Kind]int{purge.KindURL: 30}}},
	},
}

// Decoding and planning a 10,000-record SQS batch: the time, allocations
// and purge requests per provider.
func BenchmarkDecodeAndPlan10000(b *testing.B) {
	payload := sqsBatch(10000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	var p *plan.Plan
	for b.Loop() {
		changes := event.Decode(payload)
		p = plan.Make(benchConfig, changes, nil)
	}
	if p.Stats.Purge != 10000 {
		b.Fatalf("purged %d changes, want 10000", p.Stats.Purge)
	}
	for _, t := range []string{"cf", "ak", "fy", "cfl"} {
		b.ReportMetric(float64(p.Stats.Requests[t]), t+"-requests")
	}
}

func BenchmarkDecode10000(b *testing.B) {
	payload := sqsBatch(10000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if n := len(event.Decode(payload)); n != 10000 {
			b.Fatalf("decoded %d", n)
		}
	}
}

func BenchmarkPlan10000(b *testing.B) {
	changes := event.Decode(sqsBatch(10000))
	b.ReportAllocs()
	for b.Loop() {
		plan.Make(benchConfig, changes, nil)
	}
}

// What `offload plan` does with a 10,000-record SQS batch: read it into a
// Builder as a stream and write the plan, compact, as it is made.
func BenchmarkReadAndWritePlan10000(b *testing.B) {
	payload := sqsBatch(10000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		var pb plan.Builder
		if err := event.Read(bytes.NewReader(payload), &pb); err != nil {
			b.Fatal(err)
		}
		if err := pb.WriteJSON(io.Discard, benchConfig, nil, nil, false); err != nil {
			b.Fatal(err)
		}
	}
}
