package event_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

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

func TestDecodeRefusesWhatNoStoreSends(t *testing.T) {
	long := strings.Repeat("b", 256)
	tests := []struct {
		name    string
		payload string
		want    []want
	}{
		// Sizes are byte counts.
		{"negative size", records(goodRec, s3Rec(`"my-site"`, `"a"`, `-5`, `"2026-11-20T10:00:00Z"`)),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[1].s3.object.size: want 0 or more, got -5"}}},
		{"negative size, EventBridge", ebEvent(`"my-site"`, `"a"`, `-1`, `"2026-11-20T10:00:00Z"`),
			[]want{{kind: event.KindInvalid, err: "detail.object.size: want 0 or more, got -1"}}},
		// S3 writes sizes as integers; 12.0 is a sender's float, not a size.
		{"whole number written as a float", records(s3Rec(`"my-site"`, `"a"`, `12.0`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: "Records[0].s3.object.size: want an integer, got 12.0"}}},
		{"whole number with an exponent", records(s3Rec(`"my-site"`, `"a"`, `1e3`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: "Records[0].s3.object.size: want an integer, got 1e3"}}},

		// Keys are UTF-8 in every store.
		{"key not UTF-8 once decoded", records(goodRec, s3Rec(`"my-site"`, `"%FF%FE"`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{okPut, {kind: event.KindInvalid, err: `Records[1].s3.object.key "%FF%FE" is not UTF-8 once URL-decoded`}}},
		{"key with a cut UTF-8 sequence", records(s3Rec(`"my-site"`, `"caf%C3"`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: `Records[0].s3.object.key "caf%C3" is not UTF-8 once URL-decoded`}}},

		// Times are RFC 3339, as every source writes them.
		{"unreadable eventTime", records(s3Rec(`"my-site"`, `"a"`, `1`, `"yesterday"`), goodRec),
			[]want{{kind: event.KindInvalid, err: `Records[0].eventTime "yesterday" is not an RFC 3339 time`}, okPut}},
		{"unreadable time, EventBridge", ebEvent(`"my-site"`, `"a"`, `1`, `"yesterday"`),
			[]want{{kind: event.KindInvalid, err: `time "yesterday" is not an RFC 3339 time`}}},
		{"unreadable Time, test event", `{"Event":"s3:TestEvent","Bucket":"my-site","Time":"soon"}`,
			[]want{{kind: event.KindInvalid, err: `Time "soon" is not an RFC 3339 time`}}},

		// Bucket names: what no S3-compatible store allows.
		{"bucket with a path and spaces", records(s3Rec(`"../B u c k e t"`, `"a"`, `1`, `"2026-11-20T10:00:00Z"`), goodRec),
			[]want{{kind: event.KindInvalid, err: `Records[0].s3.bucket.name "../B u c k e t" is not a bucket name`}, okPut}},
		{"bucket of 256 characters", records(s3Rec(`"`+long+`"`, `"a"`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: `Records[0].s3.bucket.name "bbbb`}}},
		{"bucket with a slash", records(s3Rec(`"a/b"`, `"a"`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: `Records[0].s3.bucket.name "a/b" is not a bucket name`}}},
		{"bucket with a control character", records(s3Rec(`"a\nb"`, `"a"`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: `Records[0].s3.bucket.name "a\nb" is not a bucket name`}}},
		{"bucket that is not ASCII", records(s3Rec(`"bücket"`, `"a"`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: `Records[0].s3.bucket.name "bücket" is not a bucket name`}}},
		{"bucket ..", records(s3Rec(`".."`, `"a"`, `1`, `"2026-11-20T10:00:00Z"`)),
			[]want{{kind: event.KindInvalid, err: `Records[0].s3.bucket.name ".." is not a bucket name`}}},
		{"bucket with a path, EventBridge", ebEvent(`"../b"`, `"a"`, `1`, `"2026-11-20T10:00:00Z"`),
			[]want{{kind: event.KindInvalid, err: `detail.bucket.name "../b" is not a bucket name`}}},
		{"bucket with a space, test event", `{"Event":"s3:TestEvent","Bucket":"my site","Time":"2026-11-20T10:00:00Z"}`,
			[]want{{kind: event.KindInvalid, err: `Bucket "my site" is not a bucket name`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDecode(t, event.Decode([]byte(tt.payload)), tt.want)
		})
	}
}

// Bucket names S3-compatible stores do allow are kept: S3's own, legacy
// us-east-1 names with capitals and underscores (up to 255), and Ceph's
// relaxed names.
func TestDecodeKeepsBucketNames(t *testing.T) {
	for _, name := range []string{"my-site", "my.site.example.com", "Legacy_Bucket", "a", strings.Repeat("b", 255), "0-9"} {
		t.Run(name[:min(len(name), 20)], func(t *testing.T) {
			got := event.Decode([]byte(records(s3Rec(`"`+name+`"`, `"k"`, `0`, `"2026-11-20T10:00:00Z"`))))
			if len(got) != 1 || got[0].Kind != event.KindPut || got[0].Bucket != name {
				t.Errorf("got %+v, want one put in bucket %q", briefs(got), name)
			}
		})
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

// Times are read as the sources write them: RFC 3339 (S3, MinIO,
// EventBridge), or without a zone as moto writes S3's, in UTC as S3's are.
// A missing time is no time.
func TestDecodeReadsEventTimes(t *testing.T) {
	tests := []struct {
		name, eventTime string
		want            time.Time
	}{
		{"S3", `"2026-11-20T10:00:00.123Z"`, time.Date(2026, 11, 20, 10, 0, 0, 123e6, time.UTC)},
		{"an offset", `"2026-11-20T11:00:00+01:00"`, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{"moto, no zone", `"2026-11-30T07:59:15.045116"`, time.Date(2026, 11, 30, 7, 59, 15, 45116e3, time.UTC)},
		{"none", `null`, time.Time{}},
		{"empty", `""`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, payload := range []string{
				records(s3Rec(`"my-site"`, `"k"`, `1`, tt.eventTime)),
				ebEvent(`"my-site"`, `"k"`, `1`, tt.eventTime),
				`{"Event":"s3:TestEvent","Bucket":"my-site","Time":` + tt.eventTime + `}`,
			} {
				got := event.Decode([]byte(payload))
				if len(got) != 1 || got[0].Kind == event.KindInvalid || !got[0].Time.Equal(tt.want) || got[0].Time.Location() != time.UTC {
					t.Errorf("Decode(%s): got %+v, want one change at %s", payload, got, tt.want)
				}
			}
		})
	}
}

// A message inside a batch that holds no records is an invalid change with
// its id: S3 never sends one, and without a change it would be taken as
// done and deleted unseen. A whole payload without records is the caller's
// to judge (POST /v1/events refuses it; Lambda has nothing to do).
func TestDecodeMessageWithoutRecords(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    []want
		id      string // of the invalid change
	}{
		{"SQS message", sqs(records(goodRec), `{"Records":[]}`),
			[]want{okPut, {kind: event.KindInvalid, err: "Records[1].body has no records"}}, "m1"},
		{"SNS in SQS", sqs(snsEnvelope(`{"Records":[]}`)),
			[]want{{kind: event.KindInvalid, err: "Records[0].body.Message has no records"}}, "m0"},
		{"SNS notification", snsEnvelope(`{"Records":[]}`),
			[]want{{kind: event.KindInvalid, err: "Message has no records"}}, "n1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := event.Decode([]byte(tt.payload))
			checkDecode(t, got, tt.want)
			if last := got[len(got)-1]; last.MessageID != tt.id {
				t.Errorf("got message id %q, want %q", last.MessageID, tt.id)
			}
		})
	}
	if got := event.Decode([]byte(`{"Records":[]}`)); len(got) != 0 {
		t.Errorf("a payload without records: got %+v, want no changes", briefs(got))
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

// An error quotes what was sent cut short: enough to find it, not all of a
// crafted 40,000-byte key.
func TestDecodeErrorsAreShort(t *testing.T) {
	huge := strings.Repeat("a", 40000)
	tests := []struct{ name, payload string }{
		{"a key that is not URL-encoded", records(s3Rec(`"my-site"`, `"%ZZ`+huge+`"`, `1`, `"2026-11-20T10:00:00Z"`))},
		{"a key that is not UTF-8", records(s3Rec(`"my-site"`, `"%FF`+huge+`"`, `1`, `"2026-11-20T10:00:00Z"`))},
		{"a bucket", records(s3Rec(`"`+huge+`"`, `"k"`, `1`, `"2026-11-20T10:00:00Z"`))},
		{"a time", records(s3Rec(`"my-site"`, `"k"`, `1`, `"`+huge+`"`))},
		{"a size", records(s3Rec(`"my-site"`, `"k"`, `1`+strings.Repeat("0", 40000), `"2026-11-20T10:00:00Z"`))},
		{"an eventSource", `{"Records":[{"eventSource":"` + huge + `"}]}`},
		{"an SQS message id", `{"Records":[{"eventSource":"aws:sqs","messageId":"` + huge + `"}]}`},
		{"an EventBridge source", `{"detail-type":"Object Created","source":"` + huge + `","detail":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := event.Decode([]byte(tt.payload))
			if len(got) != 1 || got[0].Kind != event.KindInvalid {
				t.Fatalf("got %d changes, want one invalid", len(got))
			}
			if n := len(got[0].Err); n > 300 || !strings.Contains(got[0].Err, `aaaa`) && !strings.Contains(got[0].Err, `0000`) {
				t.Errorf("got an error of %d bytes %.300q, want at most 300 quoting the start of the value", n, got[0].Err)
			}
		})
	}
}
