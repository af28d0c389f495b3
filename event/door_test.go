package event_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/offload-dev/offload/event"
)

// What Decode accepts is what POST /v1/events stores: a value no object
// store sends is an invalid change, saying where it is and what is wrong,
// and the records beside it decode as usual.

// s3Rec is an S3 record with the given bucket, key (as S3 sends it,
// URL-encoded), size and event time, each written into the JSON as it is.
func s3Rec(bucket, key, size, eventTime string) string {
	return `{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":` + eventTime + `,` +
		`"s3":{"bucket":{"name":` + bucket + `},"object":{"key":` + key + `,"size":` + size + `,"sequencer":"0A"}}}`
}

// goodRec is a record every rule accepts.
var goodRec = s3Rec(`"my-site"`, `"ok.html"`, `1`, `"2026-11-20T10:00:00Z"`)

func records(rs ...string) string { return `{"Records":[` + strings.Join(rs, ",") + `]}` }

// ebEvent is an EventBridge "Object Created" event.
func ebEvent(bucket, key, size, eventTime string) string {
	return `{"id":"eb-1","detail-type":"Object Created","source":"aws.s3","time":` + eventTime + `,` +
		`"detail":{"bucket":{"name":` + bucket + `},"object":{"key":` + key + `,"size":` + size + `,"sequencer":"0A"}}}`
}

// sqs is an SQS event of one message per body, with ids m0, m1, ...
func sqs(bodies ...string) string {
	ms := make([]string, len(bodies))
	for i, b := range bodies {
		q, _ := json.Marshal(b)
		ms[i] = `{"eventSource":"aws:sqs","messageId":"m` + string(rune('0'+i)) + `","body":` + string(q) + `}`
	}
	return records(ms...)
}

// snsEnvelope is an SNS notification whose Message is msg.
func snsEnvelope(msg string) string {
	q, _ := json.Marshal(msg)
	return `{"Type":"Notification","MessageId":"n1","Message":` + string(q) + `}`
}

// want is one change Decode should return: its kind, and for a valid one
// its key, for an invalid one what its error must say.
type want struct {
	kind event.Kind
	key  string
	err  string
}

var okPut = want{kind: event.KindPut, key: "ok.html"}

func checkDecode(t *testing.T, got []event.Change, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d changes %+v, want %d", len(got), briefs(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		switch {
		case g.Kind != w.kind:
			t.Errorf("change %d: got kind %s (key %q, error %q), want %s", i, g.Kind, g.Key, g.Err, w.kind)
		case w.kind == event.KindInvalid && !strings.Contains(g.Err, w.err):
			t.Errorf("change %d: got error %q, want one saying %q", i, g.Err, w.err)
		case w.kind != event.KindInvalid && g.Key != w.key:
			t.Errorf("change %d: got key %q, want %q", i, g.Key, w.key)
		}
	}
}

// A key is kept as it is stored, control characters and all: S3 allows any
// UTF-8 in a key, and every path and URL made of one (plan.URLPath,
// cloudfront.EncodePath, NetStorage's path) percent-encodes them.
func TestDecodeKeepsKeysAsStored(t *testing.T) {
	tests := []struct {
		name, payload, key string
	}{
		{"CR LF and NUL, URL-encoded", records(s3Rec(`"my-site"`, `"a%0D%0Ab%00"`, `1`, `"2026-11-20T10:00:00Z"`)), "a\r\nb\x00"},
		{"DEL and a tab", records(s3Rec(`"my-site"`, `"a%7F%09b"`, `1`, `"2026-11-20T10:00:00Z"`)), "a\x7f\tb"},
		{"NUL, EventBridge", ebEvent(`"my-site"`, `"a\u0000b"`, `1`, `"2026-11-20T10:00:00Z"`), "a\x00b"},
		{"no event time", records(s3Rec(`"my-site"`, `"k"`, `1`, `null`)), "k"},
		{"an empty event time", records(s3Rec(`"my-site"`, `"k"`, `1`, `""`)), "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := event.Decode([]byte(tt.payload))
			if len(got) != 1 || got[0].Kind != event.KindPut || got[0].Key != tt.key {
				t.Errorf("got %+v, want one put of %q", briefs(got), tt.key)
			}
		})
	}
}

// An error names the path to what is wrong from the top of the payload,
// through every envelope, so it can be found in what was sent.
func TestDecodeErrorPaths(t *testing.T) {
	noKey := `{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{"size":3}}}`
	floatSize := s3Rec(`"my-site"`, `"a"`, `1.5`, `"2026-11-20T10:00:00Z"`)
	lambdaSNS := func(msg string) string {
		q, _ := json.Marshal(msg)
		return `{"Records":[{"EventSource":"aws:sns","Sns":{"MessageId":"s1","Message":` + string(q) + `}}]}`
	}
	tests := []struct {
		name    string
		payload string
		want    []want
	}{
		{"S3 record", records(goodRec, noKey),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[1].s3.object.key is missing"}}},
		{"S3 in SQS", sqs(records(goodRec), records(goodRec, noKey)),
			[]want{okPut, okPut, {kind: event.KindInvalid, err: "Records[1].body.Records[1].s3.object.key is missing"}}},
		{"S3 in SNS in SQS", sqs(snsEnvelope(records(noKey))),
			[]want{{kind: event.KindInvalid, err: "Records[0].body.Message.Records[0].s3.object.key is missing"}}},
		{"S3 in SNS to Lambda", lambdaSNS(records(goodRec, noKey)),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[0].Sns.Message.Records[1].s3.object.key is missing"}}},
		{"EventBridge in SQS", sqs(records(goodRec), ebEvent(`"my-site"`, `null`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[1].body.detail.object.key is missing"}}},
		{"a value of the wrong type in SQS", sqs(records(goodRec, floatSize)),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[0].body.Records[1].s3.object.size: want an integer, got 1.5"}}},
		{"a record that is not an object", records(goodRec, `42`),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[1]: want an object, got a number"}}},
		{"a body that is not JSON", sqs(records(goodRec), `{"Records":`),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[1].body: not a JSON object: "}}},
		{"a body that is no event", sqs(`{"hello":1}`),
			[]want{{kind: event.KindInvalid, err: "Records[0].body: not an S3, SNS, SQS, EventBridge or webhook event"}}},
		{"Records of the wrong type in SQS", sqs(`{"Records":5}`),
			[]want{{kind: event.KindInvalid, err: "Records[0].body.Records: want an array, got a number"}}},
		{"an SQS message without a body", `{"Records":[{"eventSource":"aws:sqs","messageId":"q1"}]}`,
			[]want{{kind: event.KindInvalid, err: `Records[0].body is missing (SQS message "q1")`}}},
		{"an SNS record without a message", `{"Records":[{"EventSource":"aws:sns","Sns":{"MessageId":"s1"}}]}`,
			[]want{{kind: event.KindInvalid, err: "Records[0].Sns.Message is missing"}}},
		{"a bad EventBridge detail in SQS", sqs(`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":5}}}`),
			[]want{{kind: event.KindInvalid, err: "Records[0].body.detail.object.key: want a string, got a number"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDecode(t, event.Decode([]byte(tt.payload)), tt.want)
		})
	}
}

// Read puts where a payload is in the stream in front of the path: its
// line, or its place in an array of payloads.
func TestReadErrorPaths(t *testing.T) {
	noKey := records(`{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-site"},"object":{}}}`)
	tests := []struct {
		name, input string
		want        []want
	}{
		{"one payload a line", records(goodRec) + "\n" + records(goodRec) + "\n\n" + noKey + "\n",
			[]want{okPut, okPut, {kind: event.KindInvalid, err: "line 4: Records[0].s3.object.key is missing"}}},
		{"a line that is not JSON", records(goodRec) + "\n{\n",
			[]want{okPut, {kind: event.KindInvalid, err: "line 2: not a JSON object"}}},
		{"an array of payloads", "[" + records(goodRec) + ",\n" + sqs(noKey) + "]",
			[]want{okPut, {kind: event.KindInvalid, err: "[1].Records[0].body.Records[0].s3.object.key is missing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := event.ReadAll(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			checkDecode(t, got, tt.want)
		})
	}
}
