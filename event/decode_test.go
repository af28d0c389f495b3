package event_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offload-dev/offload/event"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// brief is the part of a Change the tables compare.
type brief struct {
	Bucket, Key string
	Kind        event.Kind
	ETag, Seq   string
	MessageID   string
	ErrHas      string
}

func briefs(cs []event.Change) []brief {
	out := make([]brief, len(cs))
	for i, c := range cs {
		out[i] = brief{c.Bucket, c.Key, c.Kind, c.ETag, c.Sequencer, c.MessageID, c.Err}
	}
	return out
}

func TestDecodeEnvelopes(t *testing.T) {
	tests := []struct {
		file string
		want []brief
	}{
		{"s3-put.json", []brief{
			{"my-site", "docs/a b+c ü~*.html", event.KindPut, "0123456789abcdef0123456789abcdef", "0A1B2C3D4E5F678901", "", ""},
			{"my-site", "index.html", event.KindRemove, "", "0A1B2C3D4E5F678902", "", ""},
			{"my-site", "css/site.css", event.KindCopy, "abc", "0A1B2C3D4E5F678903", "", ""},
			{"my-site", "css/site.css", event.KindOther, "", "0A1B2C3D4E5F678904", "", ""},
		}},
		{"s3-test-event.json", []brief{{"my-site", "", event.KindTest, "", "", "", ""}}},
		{"sns.json", []brief{
			{"my-site", "docs/a b+c ü~*.html", event.KindPut, "0123456789abcdef0123456789abcdef", "0A1B2C3D4E5F678901", "sns-lambda-1", ""},
		}},
		{"eventbridge-created.json", []brief{
			{"my-site", "img/a b+c.png", event.KindPut, "b1946ac92492d2347c6235b4d2611184", "617f08299329d189", "17793124-05d4-b198-2fde-7ededc63b103", ""},
		}},
		{"eventbridge-deleted.json", []brief{
			{"my-site", "old/page.html", event.KindRemove, "", "617f0837b476e463", "2ee9cc15-d022-99ea-1fb8-1b1bac4850f9", ""},
		}},
		{"minio-webhook.json", []brief{
			{"my-site", "docs/a b.html", event.KindPut, "6f5902ac237024bdd0c176cb93063dc4", "17A8F3B5F1C6E0A8", "", ""},
		}},
		{"sqs-mixed.json", []brief{
			{"my-site", "docs/a b+c ü~*.html", event.KindPut, "0123456789abcdef0123456789abcdef", "0A1B2C3D4E5F678901", "m-s3", ""},
			{"my-site", "docs/a b+c ü~*.html", event.KindPut, "0123456789abcdef0123456789abcdef", "0A1B2C3D4E5F678901", "m-sns", ""},
			{"my-site", "", event.KindTest, "", "", "m-test", ""},
			{"", "", event.KindInvalid, "", "", "m-bad", "s3.object.key is missing"},
			{"", "", event.KindInvalid, "", "", "m-junk", "not a JSON object"},
			{"my-site", "img/a b+c.png", event.KindPut, "b1946ac92492d2347c6235b4d2611184", "617f08299329d189", "m-eb", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := event.Decode(load(t, tt.file))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d changes, want %d: %+v", len(got), len(tt.want), briefs(got))
			}
			for i, g := range briefs(got) {
				w := tt.want[i]
				errOK := (w.ErrHas == "" && g.ErrHas == "") || (w.ErrHas != "" && strings.Contains(g.ErrHas, w.ErrHas))
				g.ErrHas, w.ErrHas = "", ""
				if g != w || !errOK {
					t.Errorf("change %d: got %+v (err %q), want %+v (err containing %q)", i, g, got[i].Err, w, tt.want[i].ErrHas)
				}
				if got[i].Record != i {
					t.Errorf("change %d: Record = %d", i, got[i].Record)
				}
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	c := event.Decode(load(t, "s3-put.json"))[0]
	if c.Size != 1024 || c.VersionID != "096fKKXTRTtl3on89fVO.nfljtsv6qko" || c.EventName != "ObjectCreated:Put" {
		t.Fatalf("got %+v", c)
	}
	if want := time.Date(2026, 11, 20, 10, 0, 0, 123e6, time.UTC); !c.Time.Equal(want) {
		t.Fatalf("time: got %s, want %s", c.Time, want)
	}
}

func TestDecodeMessageCarriesItsID(t *testing.T) {
	got := event.DecodeMessage("inbox-42", load(t, "minio-webhook.json"))
	if len(got) != 1 || got[0].MessageID != "inbox-42" {
		t.Fatalf("got %+v", got)
	}
	bad := event.DecodeMessage("inbox-43", []byte(`{"Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"x"}}}]}`))
	if len(bad) != 1 || bad[0].Kind != event.KindInvalid || bad[0].MessageID != "inbox-43" || !strings.Contains(bad[0].Err, "bucket.name is empty") {
		t.Fatalf("got %+v", bad)
	}
}

func TestDecodeBadInput(t *testing.T) {
	for _, tt := range []struct{ payload, err string }{
		{``, "not a JSON object"},
		{`[]`, "not a JSON object"},
		{`{"hello":"world"}`, "no Records, Message or detail-type"},
		{`{"Records":[42]}`, "Records[0]: want an object, got a number"},
		{`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%zz"}}}]}`, `Records[0].s3.object.key "%zz" is not URL-encoded`},
		{`{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "Records[0].eventName is missing"},
		{`{"Records":[{"eventSource":"aws:sqs","messageId":"q1"}]}`, `Records[0].body is missing (SQS message "q1")`},
		{`{"Type":"Notification","MessageId":"n1","Message":"{\"Records\":[{}]}"}`, `Message.Records[0].s3 is missing (eventSource "")`},
		{`{"detail-type":"Object Created","source":"aws.ec2","detail":{}}`, `source: EventBridge event from "aws.ec2", not aws.s3`},
		{`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{}}}`, "detail.object.key is missing"},
	} {
		got := event.Decode([]byte(tt.payload))
		if len(got) != 1 || got[0].Kind != event.KindInvalid || !strings.Contains(got[0].Err, tt.err) {
			t.Errorf("Decode(%s): got %+v, want one invalid change saying %q", tt.payload, got, tt.err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"s3-put.json", "s3-test-event.json", "sns.json", "sqs-mixed.json", "eventbridge-created.json", "eventbridge-deleted.json", "minio-webhook.json"} {
		f.Add(load(f, name))
	}
	f.Add([]byte(`{"Records":[{"body":"{\"Records\":[{\"body\":\"x\"}]}"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, c := range event.Decode(data) {
			switch c.Kind {
			case event.KindPut, event.KindCopy, event.KindRemove, event.KindOther:
				if c.Bucket == "" || c.Key == "" {
					t.Fatalf("change %d: a %s without bucket or key: %+v", i, c.Kind, c)
				}
			case event.KindInvalid:
				if c.Err == "" {
					t.Fatalf("change %d: invalid without a reason", i)
				}
			case event.KindTest:
			default:
				t.Fatalf("change %d: unknown kind %q", i, c.Kind)
			}
			if c.Record != i {
				t.Fatalf("change %d: Record %d", i, c.Record)
			}
		}
	})
}

// A whole SQS batch posted as one message keeps the message's id on every
// change, so a failure of any of them keeps the message.
func TestDecodeMessageIDWinsOverInnerIDs(t *testing.T) {
	got := event.DecodeMessage("inbox-7", load(t, "sqs-mixed.json"))
	if len(got) != 6 {
		t.Fatalf("got %d changes", len(got))
	}
	for _, c := range got {
		if c.MessageID != "inbox-7" {
			t.Fatalf("change %d carries message id %q, want inbox-7", c.Record, c.MessageID)
		}
	}
}

// same reports whether two decodings agree: the same changes, and invalid
// changes in the same places (their reasons are worded differently).
func same(a, b []event.Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if (x.Err == "") != (y.Err == "") {
			return false
		}
		x.Err, y.Err = "", ""
		if !x.Time.Equal(y.Time) {
			return false
		}
		x.Time, y.Time = time.Time{}, time.Time{}
		if x != y {
			return false
		}
	}
	return true
}

// Decode reads every payload as the encoding/json decoder it replaced did.
func FuzzDecodeAsBefore(f *testing.F) {
	for _, name := range []string{"s3-put.json", "s3-test-event.json", "sns.json", "sqs-mixed.json", "eventbridge-created.json", "eventbridge-deleted.json", "minio-webhook.json"} {
		f.Add(load(f, name))
	}
	for _, s := range asBefore {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := event.Decode(data), event.RefDecode(data)
		if !same(got, want) {
			t.Fatalf("Decode(%s):\ngot  %+v\nwant %+v", data, got, want)
		}
	})
}

// asBefore are payloads where encoding/json's ways show: type errors,
// nulls, repeated and differently cased names, escapes.
var asBefore = []string{
	`{"Records":[{"body":"{\"Records\":[{\"body\":\"x\"}]}"}]}`,
	`null`, `[]`, `42`, `"x"`, ``, `{`, `{} {}`, `{}x`,
	`{"Records":null}`, `{"Records":[]}`, `{"Records":5}`, `{"Records":[null]}`, `{"Records":[42,{"eventSource":"aws:s3"}]}`,
	`{"records":[{"EVENTSOURCE":"aws:s3","EventName":"ObjectCreated:Put","S3":{"Bucket":{"Name":"b"},"Object":{"Key":"k","Size":3,"ETAG":"\"e\""}}}]}`,
	`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"3"}}}]}`,
	`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":1.5}}}]}`,
	`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k\u00e9+%2B","size":null}}}]}`,
	`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}],"Event":"s3:TestEvent"}`,
	`{"Event":"s3:TestEvent","Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}],"Type":5}`,
	`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}],"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"j"}}}]}`,
	// A repeated name's last value wins whole: nothing of the first is kept.
	`{"ReCords":[{"eventNAme":"0"}],"ReCords":[{"s3":{"BuCket":{"nAme":"0"},"oBjeCt":{"keY":"0"}}}]}`,
	`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}},"s3":{"object":{"key":"k"}}}]}`,
	`{"Records":[{"Sns":{"MessageId":"s","Message":"{\"Event\":\"s3:TestEvent\"}"},"Sns":{"MessageId":"t"}}]}`,
	`{"Type":"Notification","MessageId":"n","Message":null}`,
	`{"Type":"Notification","MessageId":"n","Message":"{\"Type\":\"Notification\",\"Message\":\"{\\\"Records\\\":[]}\"}"}`,
	`{"Records":[{"eventSource":"aws:sqs","messageId":"q","body":"{\"Type\":\"Notification\",\"MessageId\":\"n\",\"Message\":\"{\\\"Records\\\":[{\\\"body\\\":\\\"{}\\\"}]}\"}"}]}`,
	`{"Records":[{"EventSource":"aws:sns","Sns":{"MessageId":"s","Message":"{\"Event\":\"s3:TestEvent\",\"Bucket\":\"b\",\"Time\":\"2026-01-02T03:04:05Z\"}"}}]}`,
	`{"Records":[{"Sns":null}]}`, `{"Records":[{"Sns":{"Message":5}}]}`, `{"Records":[{"body":null,"s3":null}]}`,
	`{"detail-type":"Object Created","source":"aws.s3","id":"e","time":"2026-01-02T03:04:05.5+01:00","detail":{"bucket":{"name":"b"},"object":{"key":"a b","etag":"x","version-id":"v","size":7},"reason":"CopyObject"}}`,
	`{"detail-type":"Object Created","source":"aws.s3","detail":null}`, `{"detail-type":"Object Created","source":"aws.s3"}`,
	`{"detail-type":"Object Created","source":"aws.s3","detail":[1]}`, `{"detail-type":"Object Created","source":"aws.s3","detail":{"object":{"key":5},"bucket":{"name":"b"}}}`,
	"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\\ud800\"},\"object\":{\"key\":\"\xff\"}}}]}",
	`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-11-20T10:00:00.123456789Z","s3":{"bucket":{"name":"b"},"object":{"key":"k","eTag":"\"\"x\"\"","sequencer":"0A"}}}]}`,
	`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-11-20 10:00:00Z","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
}
