package event

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A pooled decoder gives what a new one does, whatever it decoded before:
// each payload decoded after every other equals its decoding by a decoder
// of its own.
func TestPooledDecoderForgetsThePreviousPayload(t *testing.T) {
	names, err := filepath.Glob("testdata/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("testdata: got %v, %v", names, err)
	}
	payloads := map[string][]byte{
		"not JSON":  []byte(`{"Records": [`),
		"no events": []byte(`{"a": 1}`),
		// An SQS body larger than keepBuf: its buffer is not kept.
		"large SQS body": []byte(`{"Records":[{"messageId":"m1","eventSource":"aws:sqs","body":` +
			fmt.Sprintf("%q", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-01-02T03:04:05Z","s3":{"bucket":{"name":"b"},"object":{"key":"`+strings.Repeat("k", 2*keepBuf)+`","size":1,"sequencer":"01"}}}]}`) + `}]}`),
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		payloads[filepath.Base(n)] = b
	}
	fresh := func(p []byte) []Change {
		var l list
		newDecoder(&l).bytes(p, "m", 0)
		return l
	}
	for before, pb := range payloads {
		for name, p := range payloads {
			t.Run(before+" then "+name, func(t *testing.T) {
				var l0, l list
				d := pooledDecoder(&l0)
				d.bytes(pb, "m", 0)
				d.release()
				d.sink = &l
				d.bytes(p, "m", 0)
				d.release()
				if want := fresh(p); !reflect.DeepEqual([]Change(l), want) {
					t.Errorf("got %+v, want %+v", l, want)
				}
			})
		}
	}
}

// A released decoder holds nothing of the payload: no reader on it, no
// buffer larger than keepBuf, no names, no sink.
func TestReleasedDecoderHoldsNoPayload(t *testing.T) {
	key := strings.Repeat("k", 2*keepBuf)
	body := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-01-02T03:04:05Z",` +
		`"s3":{"bucket":{"name":"b"},"object":{"key":"` + key + `","size":1,"eTag":"` + key + `","sequencer":"01"}}}]}`
	payload := []byte(`{"Records":[{"messageId":"m1","eventSource":"aws:sqs","body":` + fmt.Sprintf("%q", body) + `}]}`)
	var l list
	d := pooledDecoder(&l)
	d.bytes(payload, "m", 0)
	if len(l) != 1 || l[0].Key != key {
		t.Fatalf("decoded: got %d changes, want 1 with the long key", len(l))
	}
	d.release()
	for i := range d.in {
		if n := d.in[i].Len(); n != 0 {
			t.Errorf("in[%d]: got %d bytes unread, want 0", i, n)
		}
		b := d.bufs[i]
		for _, buf := range [][]byte{b.body, b.recordMsg, b.envelopeMsg, b.unquoted, b.rec.eventSource, b.rec.rawTime, b.s3.key, b.s3.etag, b.s3.versionID, b.s3.sequencer} {
			if cap(buf) > keepBuf {
				t.Errorf("bufs[%d]: got a buffer of %d bytes kept, want at most %d", i, cap(buf), keepBuf)
			}
		}
	}
	for _, buf := range [][]byte{d.name, d.tmp, d.all} {
		if cap(buf) > keepBuf {
			t.Errorf("got a buffer of %d bytes kept, want at most %d", cap(buf), keepBuf)
		}
	}
	for i, r := range d.fast[:cap(d.fast)] {
		if r.key != nil || r.source != nil || r.etag != nil {
			t.Errorf("fast[%d]: got a record pointing into the payload kept, want none", i)
		}
	}
	if len(d.names) != 0 || d.sink != nil {
		t.Errorf("got %d names and sink %v kept, want none", len(d.names), d.sink)
	}
}
