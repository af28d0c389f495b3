// Package eventgen writes S3 event notifications in bulk, delivered through
// SQS as a Lambda function receives them, for benchmarks and tests of
// decoding and planning at scale. The output is deterministic, and the
// writers hold one message at a time, so a million records cost no memory.
package eventgen

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Options shape the records. The zero value is every message a put of a
// different object, with every field AWS sends.
type Options struct {
	// Bucket is the bucket every record names. Default "my-site".
	Bucket string
	// Redeliver makes every Redeliver-th message (i%Redeliver ==
	// Redeliver-1) a redelivery of the message before it, as S3's
	// at-least-once delivery does. 0: none.
	Redeliver int
	// Index makes every object o with o%Index == 1 an index document,
	// "docs/pNNNNNN/index.html", which purges two CDN paths. 0: none.
	Index int
	// Lean leaves out what offload does not read (userIdentity,
	// requestParameters, receiptHandle, attributes, ...): about half the
	// bytes of a real delivery.
	Lean bool
}

// Start is the eventTime of the first record; record i is i milliseconds
// later.
var Start = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Object returns the object message i puts: its key as offload decodes it
// (not form-encoded), and its number (the same for a redelivery and the
// message it repeats).
func (o Options) Object(i int) (key string, obj int) {
	obj = i
	if o.Redeliver > 0 && i%o.Redeliver == o.Redeliver-1 && i > 0 {
		obj = i - 1
	}
	if o.Index > 0 && obj%o.Index == 1 {
		return fmt.Sprintf("docs/p%06d/index.html", obj), obj
	}
	return fmt.Sprintf("assets/dir%02d/file %06d.js", obj%50, obj), obj
}

// Body returns the body of SQS message i: an S3 event notification
// holding one record.
func (o Options) Body(i int) []byte {
	key, obj := o.Object(i)
	bucket := o.bucket()
	// S3 form-encodes keys: the space arrives as "+".
	wireKey := formEncode(key)
	t := Start.Add(time.Duration(obj) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	etag := fmt.Sprintf("%032x", obj)
	seq := fmt.Sprintf("0065A1%012X", obj)
	if o.Lean {
		return fmt.Appendf(nil, `{"Records":[{"eventSource":"aws:s3","eventTime":%s,"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%s},"object":{"key":%s,"size":1024,"eTag":%s,"sequencer":%s}}}]}`,
			q(t), q(bucket), q(wireKey), q(etag), q(seq))
	}
	return fmt.Appendf(nil, `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":%s,"eventName":"ObjectCreated:Put",`+
		`"userIdentity":{"principalId":"AWS:AIDAJDPLRKLG7UEXAMPLE"},"requestParameters":{"sourceIPAddress":"203.0.113.7"},`+
		`"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},`+
		`"s3":{"s3SchemaVersion":"1.0","configurationId":"offload","bucket":{"name":%s,"ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":%s},`+
		`"object":{"key":%s,"size":1024,"eTag":%s,"versionId":"%032d","sequencer":%s}}}]}`,
		q(t), q(bucket), q("arn:aws:s3:::"+bucket), q(wireKey), q(etag), obj, q(seq))
}

// Message returns SQS message i as the Lambda event's Records element.
func (o Options) Message(i int) []byte {
	body := o.Body(i)
	quoted := q(string(body))
	id := fmt.Sprintf("m-%06d", i)
	if o.Lean {
		return fmt.Appendf(nil, `{"messageId":%s,"body":%s,"eventSource":"aws:sqs"}`, q(id), quoted)
	}
	sum := md5.Sum(body)
	sent := Start.Add(time.Duration(i) * time.Millisecond).UnixMilli()
	return fmt.Appendf(nil, `{"messageId":%s,"receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a%06dZdNFkc3aVYV5NVXVpfdgiRnsDoGq2GqKmsdBNDKMA","body":%s,`+
		`"attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"%d","SenderId":"AIDAIENQZJOLO23YVJ4VO","ApproximateFirstReceiveTimestamp":"%d"},`+
		`"messageAttributes":{},"md5OfBody":%s,"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:offload","awsRegion":"us-east-1"}`,
		q(id), i, quoted, sent, sent+3, q(hex.EncodeToString(sum[:])))
}

// WriteSQS writes one SQS event of n messages, {"Records":[...]}, each
// message's body an S3 event notification of one put.
func WriteSQS(w io.Writer, n int, o Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(o.Message(i))
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// WriteLines writes n SQS events of one message each, one a line: the
// newline-delimited form `offload plan` also reads.
func WriteLines(w io.Writer, n int, o Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := range n {
		bw.WriteString(`{"Records":[`)
		bw.Write(o.Message(i))
		bw.WriteString("]}\n")
	}
	return bw.Flush()
}

// SQS returns what WriteSQS writes.
func SQS(n int, o Options) []byte {
	var b bytes.Buffer
	WriteSQS(&b, n, o)
	return b.Bytes()
}

// q quotes s as a JSON string.
func q(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func (o Options) bucket() string {
	if o.Bucket != "" {
		return o.Bucket
	}
	return "my-site"
}

// formEncode encodes a key as S3 does in event notifications: "+" for a
// space, %XX for what is not unreserved or "/".
func formEncode(key string) string {
	const hexDigits = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == ' ':
			b = append(b, '+')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
			b = append(b, c)
		default:
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}
