package event

// The encoding/json decoder Decode replaced, kept as the reference its
// semantics are checked against (FuzzDecodeAsBefore), with the rules added
// since (refRules): what no object store sends is invalid.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

type refDecoder struct {
	out []Change
}

func (d *refDecoder) add(c Change) {
	c.Record = len(d.out)
	d.out = append(d.out, c)
}

func (d *refDecoder) invalid(id, format string, args ...any) {
	d.add(Change{Kind: KindInvalid, MessageID: id, Err: fmt.Sprintf(format, args...)})
}

// refEnvelope holds the top-level fields of every shape Decode recognises.
type refEnvelope struct {
	Records refRecords `json:"Records"`

	// s3:TestEvent
	Event  string `json:"Event"`
	Bucket string `json:"Bucket"`
	Time   string `json:"Time"`

	// SNS notification (the body of an SQS message subscribed to a topic)
	Type      string  `json:"Type"`
	MessageID string  `json:"MessageId"`
	Message   *string `json:"Message"`

	// EventBridge
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	EventTime  string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`

	// MinIO webhook
	EventName string `json:"EventName"`
}

func (d *refDecoder) payload(data []byte, id string, depth int) {
	if depth > maxDepth {
		d.invalid(id, "envelopes nested more than %d deep", maxDepth)
		return
	}
	var env refEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		// Decoded in one pass when every record is well formed; else one
		// record at a time, to say which is bad and keep the others.
		var raw struct {
			Records []json.RawMessage `json:"Records"`
		}
		if err2 := json.Unmarshal(data, &raw); err2 != nil || raw.Records == nil {
			d.invalid(id, "not a JSON object: %s", refJSONError(err))
			return
		}
		for i, r := range raw.Records {
			var rec refRecord
			if err := json.Unmarshal(r, &rec); err != nil {
				d.invalid(id, "record %d: %s", i, refJSONError(err))
				continue
			}
			d.refRecord(rec, id, i, depth)
		}
		return
	}
	switch {
	case env.Event == "s3:TestEvent":
		t, err := refTime(env.Time)
		switch {
		case env.Bucket != "" && !refBucket.MatchString(env.Bucket):
			d.invalid(id, "Bucket %q is not a bucket name", env.Bucket)
		case err != nil:
			d.invalid(id, "Time %q: %v", env.Time, err)
		default:
			d.add(Change{Kind: KindTest, Bucket: env.Bucket, EventName: env.Event, MessageID: id, Time: t})
		}
	case env.Type == "Notification" && env.Message != nil:
		if id == "" {
			id = env.MessageID
		}
		d.nested([]byte(*env.Message), id, depth+1)
	case env.DetailType != "" && env.Source != "":
		if id == "" {
			id = env.ID
		}
		d.eventBridge(env, id)
	case env.Records != nil:
		if d.out == nil {
			d.out = make([]Change, 0, len(env.Records)) // one change per record, mostly
		}
		for i, r := range env.Records {
			d.refRecord(r, id, i, depth)
		}
	default:
		d.invalid(id, "not an S3, SNS, SQS, EventBridge or webhook event: no Records, Message or detail-type")
	}
}

// nested reads a payload inside another, an SQS body or an SNS message: one
// that holds no change is invalid.
func (d *refDecoder) nested(data []byte, id string, depth int) {
	n := len(d.out)
	d.payload(data, id, depth)
	if len(d.out) == n {
		d.invalid(id, "no records")
	}
}

// refRecord is one element of a Records array: an S3 record, an SQS message or
// an SNS record.
type refRecord struct {
	EventSource string `json:"eventSource"` // also matches SNS's "EventSource"
	EventName   string `json:"eventName"`
	EventTime   string `json:"eventTime"`
	S3          refOpt[struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       *string `json:"key"`
			Size      int64   `json:"size"`
			ETag      string  `json:"eTag"`
			VersionID string  `json:"versionId"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	}] `json:"s3"`

	// SQS
	SQSMessageID string  `json:"messageId"`
	Body         *string `json:"body"`

	// SNS
	Sns refOpt[struct {
		MessageID string  `json:"MessageId"`
		Message   *string `json:"Message"`
	}] `json:"Sns"`
}

// A repeated name's last value wins whole, in Decode: encoding/json would
// decode a second Records array into the elements of the first, and a
// second s3 or Sns object into the first, merging them. refRecords and
// refOpt decode each value afresh. An error inside one ends the decoding of
// all of it, where encoding/json would note a type error and go on; either
// way the whole fails, and its records are then read one by one.
type refRecords []refRecord

func (r *refRecords) UnmarshalJSON(b []byte) error {
	var v []refRecord
	err := json.Unmarshal(b, &v)
	*r = v
	return err
}

// refOpt is an optional object: p is nil when it is missing or null.
type refOpt[T any] struct{ p *T }

func (o *refOpt[T]) UnmarshalJSON(b []byte) error {
	var p *T
	err := json.Unmarshal(b, &p)
	o.p = p
	return err
}

func (d *refDecoder) refRecord(r refRecord, id string, i, depth int) {
	sns := r.Sns.p
	switch {
	case r.EventSource == "aws:sqs" || (r.Body != nil && r.S3.p == nil):
		mid := r.SQSMessageID
		if r.Body == nil {
			d.invalid(mid, "SQS message %d has no body", i)
			return
		}
		d.nested([]byte(*r.Body), mid, depth+1)
	case r.EventSource == "aws:sns" || sns != nil:
		if sns == nil || sns.Message == nil {
			d.invalid(id, "SNS record %d has no Sns.Message", i)
			return
		}
		mid := id
		if mid == "" {
			mid = sns.MessageID
		}
		d.nested([]byte(*sns.Message), mid, depth+1)
	default:
		d.s3Record(r, id, i)
	}
}

func (d *refDecoder) s3Record(r refRecord, id string, i int) {
	s3 := r.S3.p
	switch {
	case s3 == nil:
		d.invalid(id, "record %d: no s3 field (eventSource %q)", i, r.EventSource)
		return
	case s3.Bucket.Name == "":
		d.invalid(id, "record %d: s3.bucket.name is empty", i)
		return
	case s3.Object.Key == nil || *s3.Object.Key == "":
		d.invalid(id, "record %d: s3.object.key is missing", i)
		return
	case r.EventName == "":
		d.invalid(id, "record %d: eventName is missing", i)
		return
	}
	// S3 form-encodes keys ("a b+c" arrives as "a+b%2Bc"); MinIO escapes
	// "/" as "%2F" the same way.
	key, err := url.QueryUnescape(*s3.Object.Key)
	if err != nil {
		d.invalid(id, "record %d: s3.object.key %q is not URL-encoded: %v", i, *s3.Object.Key, err)
		return
	}
	o := s3.Object
	if msg := refRules(s3.Bucket.Name, key, o.Size, r.EventTime); msg != "" {
		d.invalid(id, "record %d: %s", i, msg)
		return
	}
	t, _ := refTime(r.EventTime)
	d.add(Change{
		Bucket: s3.Bucket.Name, Key: key, Kind: kindOf(r.EventName),
		ETag: trimETag(o.ETag), Size: o.Size, VersionID: o.VersionID, Sequencer: o.Sequencer,
		Time: t, EventName: r.EventName, MessageID: id,
	})
}

type refEbDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       *string `json:"key"`
		Size      int64   `json:"size"`
		ETag      string  `json:"etag"`
		VersionID string  `json:"version-id"`
		Sequencer string  `json:"sequencer"`
	} `json:"object"`
	Reason string `json:"reason"`
}

// eventBridge reads an S3 event from EventBridge. Its keys are not
// form-encoded: they arrive as stored.
func (d *refDecoder) eventBridge(env refEnvelope, id string) {
	if env.Source != "aws.s3" {
		d.invalid(id, "EventBridge event from %q, not aws.s3", env.Source)
		return
	}
	var det refEbDetail
	if err := json.Unmarshal(env.Detail, &det); err != nil {
		d.invalid(id, "EventBridge detail: %s", refJSONError(err))
		return
	}
	switch {
	case det.Bucket.Name == "":
		d.invalid(id, "EventBridge detail.bucket.name is empty")
		return
	case det.Object.Key == nil || *det.Object.Key == "":
		d.invalid(id, "EventBridge detail.object.key is missing")
		return
	}
	o := det.Object
	if msg := refRules(det.Bucket.Name, *o.Key, o.Size, env.EventTime); msg != "" {
		d.invalid(id, "EventBridge: %s", msg)
		return
	}
	t, _ := refTime(env.EventTime)
	d.add(Change{
		Bucket: det.Bucket.Name, Key: *o.Key, Kind: kindOfEventBridge(env.DetailType, det.Reason),
		ETag: trimETag(o.ETag), Size: o.Size, VersionID: o.VersionID, Sequencer: o.Sequencer,
		Time: t, EventName: env.DetailType, MessageID: id,
	})
}

// refBucket is what a bucket name may be in some S3-compatible store: S3's
// rules, widened by legacy us-east-1 and Ceph's relaxed names.
var refBucket = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$`)

// refRules says what is wrong with a record's values that no store sends:
// a bucket that cannot be one, a key that is not UTF-8, a negative size, a
// time that is not RFC 3339 ("" is no time).
func refRules(bucket, key string, size int64, eventTime string) string {
	switch {
	case !refBucket.MatchString(bucket):
		return fmt.Sprintf("bucket %q", bucket)
	case !utf8.ValidString(key):
		return fmt.Sprintf("key %q is not UTF-8", key)
	case size < 0:
		return fmt.Sprintf("size %d", size)
	}
	if _, err := refTime(eventTime); err != nil {
		return err.Error()
	}
	return ""
}

// refTime reads RFC 3339, or the same without a zone (UTC); "" is no time.
func refTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05.999999999", s)
	}
	return t.UTC(), err
}

// RefDecode is what Decode does.
func RefDecode(payload []byte) []Change {
	d := &refDecoder{}
	d.payload(payload, "", 0)
	return d.out
}

func refJSONError(err error) string { return strings.TrimPrefix(err.Error(), "json: ") }
