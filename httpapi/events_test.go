package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
)

// tinyEvent is the smallest event the webhook accepts: one record, 97
// bytes.
const tinyEvent = `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`

// tinyEventKey is tinyEvent with the key k.
func tinyEventKey(k string) string {
	return strings.Replace(tinyEvent, `"key":"k"`, `"key":"`+k+`"`, 1)
}

// minioEvent is a MinIO webhook body with one record whose key and size
// are as given, written into the JSON as they are.
func minioEvent(key, size string) string {
	return `{"EventName":"s3:ObjectCreated:Put","Key":"my-site/x","Records":[` + minioRecord(key, size) + `]}`
}

func minioRecord(key, size string) string {
	return `{"eventVersion":"2.0","eventSource":"minio:s3","eventTime":"2026-11-20T10:00:07Z","eventName":"s3:ObjectCreated:Put",` +
		`"s3":{"bucket":{"name":"my-site"},"object":{"key":"` + key + `","size":` + size + `,"eTag":"e1","sequencer":"17A8F3B5F1C6E0A8"}}}`
}

// A change the planner can neither plan nor record (plan.Check) is refused
// at the door too: a key longer than S3 allows, a sequencer no store gives
// (it would pin the key: every real change after it would look stale).
func TestEventsRefusedByPlanCheck(t *testing.T) {
	withSeq := func(key, seq string) string {
		return `{"Records":[{"eventVersion":"2.0","eventSource":"minio:s3","eventTime":"2026-11-20T10:00:07Z","eventName":"s3:ObjectCreated:Put",` +
			`"s3":{"bucket":{"name":"my-site"},"object":{"key":"` + key + `","size":1,"eTag":"e1","sequencer":"` + seq + `"}}}]}`
	}
	tests := []struct{ name, body, says string }{
		{"key of 40,000 bytes", withSeq(strings.Repeat("k", 40000), "17A8F3B5F1C6E0A8"), "S3 keys are at most 1024 bytes"},
		{"sequencer of 40 hex digits", withSeq("a", strings.Repeat("F", 40)), "sequencer"},
		{"sequencer not hex", withSeq("a", "ZZZZZZZZZZZZZZZZ"), "sequencer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(req{method: "POST", target: "/v1/events", body: tt.body})
			if rec.Code != http.StatusBadRequest || errorCode(t, rec) != "invalid_event" {
				t.Fatalf("got %d %s, want 400 invalid_event", rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.says) {
				t.Errorf("got %s, want the message to say %q", rec.Body, tt.says)
			}
			if d := e.inbox.Depth(); d != 0 {
				t.Errorf("inbox depth: got %d, want 0 (nothing stored)", d)
			}
		})
	}
}

// A body that can never become a change is refused at the door with 400
// invalid_event, saying what is wrong and where, and nothing is stored:
// kept, it would fail in the inbox forever.
func TestEventsRefusedAtTheDoor(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty object", `{}`},
		{"array", `[]`},
		{"number", `1`},
		{"string", `"x"`},
		{"null", `null`},
		{"null Records", `{"Records":null}`},
		{"no records", `{"Records":[]}`},
		{"bad %-encoding", minioEvent("a%ZZb", "1")},
		{"size out of range", minioEvent("a", "1e400")},
		{"one bad record among good ones", `{"Records":[` + minioRecord("ok", "1") + `,` + minioRecord("b%", "1") + `]}`},
		{"record without s3", `{"Records":[{"eventSource":"aws:s3"}]}`},
		{"SQS message without a body", `{"Records":[{"eventSource":"aws:sqs","messageId":"m1"}]}`},
		{"SQS batch with a bad message", testdata(t, "sqs-mixed.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(req{method: "POST", target: "/v1/events", body: tt.body})
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", rec.Code, rec.Body)
			}
			if got := errorCode(t, rec); got != "invalid_event" {
				t.Errorf("got code %q, want invalid_event", got)
			}
			// The message says what event.Decode found wrong, and where.
			want := "no changes"
			for _, c := range event.Decode([]byte(tt.body)) {
				if c.Kind == event.KindInvalid {
					want = c.Err
					break
				}
			}
			if !strings.Contains(rec.Body.String(), jsonEscaped(want)) {
				t.Errorf("got %s, want the message to say %q", rec.Body, want)
			}
			if d := e.inbox.Depth(); d != 0 {
				t.Errorf("got inbox depth %d, want 0: nothing stored", d)
			}
		})
	}
}

// jsonEscaped is s as it appears inside a JSON string.
func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// Every envelope offload reads is accepted and stored, an s3:TestEvent
// too: the pipeline skips it, and the dashboard shows it arrived.
func TestEventsAccepted(t *testing.T) {
	for _, file := range []string{"minio-webhook.json", "s3-put.json", "sns.json", "eventbridge-created.json", "eventbridge-deleted.json", "s3-test-event.json"} {
		t.Run(file, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(req{method: "POST", target: "/v1/events", body: testdata(t, file)})
			if rec.Code != http.StatusAccepted {
				t.Fatalf("got %d %s, want 202", rec.Code, rec.Body)
			}
			if d := e.inbox.Depth(); d != 1 {
				t.Errorf("got inbox depth %d, want 1", d)
			}
		})
	}
}

// The body is read only after auth: a caller without a token learns
// nothing about what it sent.
func TestEventsRefusedAfterAuth(t *testing.T) {
	e := newEnv(t, withTokens)
	e.clock.Advance(time.Second)
	rec := e.do(req{method: "POST", target: "/v1/events", body: `{}`, remote: "192.0.2.9:4000"})
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: got %d %s, want 401", rec.Code, rec.Body)
	}
}
