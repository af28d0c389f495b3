// Package jsoncmp compares JSON decoders on the input `offload plan` reads
// most: an SQS event of 10,000 messages, each an S3 notification. It is a
// module of its own so that the decoders it measures are not dependencies
// of offload:
//
//	cd event/jsoncmp && go test -bench . -benchmem
package jsoncmp

import (
	"bytes"
	stdjson "encoding/json"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	sonic "github.com/bytedance/sonic"
	v2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	goccy "github.com/goccy/go-json"
	"github.com/offload-dev/offload/event"

	"github.com/offload-dev/offload/internal/eventgen"
)

type sqsRec struct {
	MessageID   string `json:"messageId"`
	Body        string `json:"body"`
	EventSource string `json:"eventSource"`
}
type s3Obj struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"eTag"`
	VersionID string `json:"versionId"`
	Sequencer string `json:"sequencer"`
}
type s3Rec struct {
	EventName string `json:"eventName"`
	EventTime string `json:"eventTime"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object s3Obj `json:"object"`
	} `json:"s3"`
}
type s3Env struct {
	Records []s3Rec `json:"Records"`
}

func toChanges(out []event.Change, id string, env *s3Env) []event.Change {
	for _, r := range env.Records {
		key, _ := url.QueryUnescape(r.S3.Object.Key)
		t, _ := time.Parse(time.RFC3339Nano, r.EventTime)
		out = append(out, event.Change{Bucket: r.S3.Bucket.Name, Key: key, Kind: event.KindPut, ETag: strings.Trim(r.S3.Object.ETag, `"`),
			Size: r.S3.Object.Size, VersionID: r.S3.Object.VersionID, Sequencer: r.S3.Object.Sequencer, Time: t, EventName: r.EventName, MessageID: id, Record: len(out)})
	}
	return out
}

type decodeFunc func(data []byte) ([]event.Change, error)

// offload is event.Decode: jsontext token by token, every envelope.
func offload(data []byte) ([]event.Change, error) { return event.Decode(data), nil }

// offloadStream is event.Read, as `offload plan` reads a file.
func offloadStream(data []byte) ([]event.Change, error) { return event.ReadAll(bytes.NewReader(data)) }

// v1Whole is encoding/json's Unmarshal of the whole batch, then of each
// body: what event.Decode did before (without the json.Valid pass).
func v1Whole(data []byte) ([]event.Change, error) {
	var batch struct {
		Records []sqsRec `json:"Records"`
	}
	if err := stdjson.Unmarshal(data, &batch); err != nil {
		return nil, err
	}
	var out []event.Change
	for _, r := range batch.Records {
		var env s3Env
		if err := stdjson.Unmarshal([]byte(r.Body), &env); err != nil {
			return nil, err
		}
		out = toChanges(out, r.MessageID, &env)
	}
	return out, nil
}

func v1Stream(data []byte) ([]event.Change, error) {
	dec := stdjson.NewDecoder(bytes.NewReader(data))
	for range 3 { // { "Records" [
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
	}
	var out []event.Change
	for dec.More() {
		var r sqsRec
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		var env s3Env
		if err := stdjson.Unmarshal([]byte(r.Body), &env); err != nil {
			return nil, err
		}
		out = toChanges(out, r.MessageID, &env)
	}
	return out, nil
}

var v2opts = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

func v2Reflect(data []byte) ([]event.Change, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data), v2opts...)
	for range 3 {
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
	}
	var out []event.Change
	var body []byte
	for dec.PeekKind() != ']' {
		var r struct {
			MessageID   string         `json:"messageId"`
			Body        jsontext.Value `json:"body"`
			EventSource string         `json:"eventSource"`
		}
		if err := v2.UnmarshalDecode(dec, &r); err != nil {
			return nil, err
		}
		body, _ = jsontext.AppendUnquote(body[:0], r.Body)
		var env s3Env
		if err := v2.Unmarshal(body, &env, v2opts...); err != nil {
			return nil, err
		}
		out = toChanges(out, r.MessageID, &env)
	}
	return out, nil
}

func goccyStream(data []byte) ([]event.Change, error) {
	dec := goccy.NewDecoder(bytes.NewReader(data))
	for range 3 {
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
	}
	var out []event.Change
	for dec.More() {
		var r sqsRec
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		var env s3Env
		if err := goccy.Unmarshal([]byte(r.Body), &env); err != nil {
			return nil, err
		}
		out = toChanges(out, r.MessageID, &env)
	}
	return out, nil
}

// sonicWhole: sonic has no token API; the whole batch in one Unmarshal.
func sonicWhole(data []byte) ([]event.Change, error) {
	var batch struct {
		Records []sqsRec `json:"Records"`
	}
	if err := sonic.Unmarshal(data, &batch); err != nil {
		return nil, err
	}
	var out []event.Change
	for _, r := range batch.Records {
		var env s3Env
		if err := sonic.UnmarshalString(r.Body, &env); err != nil {
			return nil, err
		}
		out = toChanges(out, r.MessageID, &env)
	}
	return out, nil
}

var candidates = []struct {
	name string
	fn   decodeFunc
}{
	{"offload-Decode", offload},
	{"offload-Read", offloadStream},
	{"v1-whole", v1Whole},
	{"v1-stream", v1Stream},
	{"v2-reflect", v2Reflect},
	{"goccy-stream", goccyStream},
	{"sonic-whole", sonicWhole},
}

func TestSame(t *testing.T) {
	data := eventgen.SQS(100, eventgen.Options{})
	want, _ := v1Whole(data)
	for _, c := range candidates {
		got, err := c.fn(data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: got %d, want %d", c.name, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Time != w.Time || g.Bucket != w.Bucket || g.Key != w.Key || g.ETag != w.ETag || g.Size != w.Size || g.VersionID != w.VersionID || g.Sequencer != w.Sequencer || g.MessageID != w.MessageID || g.EventName != w.EventName || g.Record != w.Record {
				t.Fatalf("%s: change %d: got %+v, want %+v", c.name, i, g, w)
			}
		}
	}
}

func BenchmarkDecodeSQS10k(b *testing.B) {
	for _, shape := range []struct {
		name string
		o    eventgen.Options
	}{{"full", eventgen.Options{}}, {"lean", eventgen.Options{Lean: true}}} {
		data := eventgen.SQS(10000, shape.o)
		for _, c := range candidates {
			b.Run(shape.name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				// CPU time, the process's own: on a machine shared with
				// others, wall time says more about them than about this.
				start := cpuTime()
				for b.Loop() {
					out, err := c.fn(data)
					if err != nil || len(out) != 10000 {
						b.Fatal(err, len(out))
					}
				}
				b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
