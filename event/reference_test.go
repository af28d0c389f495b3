package event

// The encoding/json decoder Decode replaced, kept as the reference its
// semantics are checked against (FuzzDecodeAsBefore).

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
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
	Records []refRecord `json:"Records"`

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
		d.add(Change{Kind: KindTest, Bucket: env.Bucket, EventName: env.Event, MessageID: id, Time: parseTime(env.Time)})
	case env.Type == "Notification" && env.Message != nil:
		if id == "" {
			id = env.MessageID
		}
		d.payload([]byte(*env.Message), id, depth+1)
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

// refRecord is one element of a Records array: an S3 record, an SQS message or
// an SNS record.
type refRecord struct {
	EventSource string `json:"eventSource"` // also matches SNS's "EventSource"
	EventName   string `json:"eventName"`
	EventTime   string `json:"eventTime"`
	S3          *struct {
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
	} `json:"s3"`

	// SQS
	SQSMessageID string  `json:"messageId"`
	Body         *string `json:"body"`

	// SNS
	Sns *struct {
		MessageID string  `json:"MessageId"`
		Message   *string `json:"Message"`
	} `json:"Sns"`
}

func (d *refDecoder) refRecord(r refRecord, id string, i, depth int) {
	switch {
	case r.EventSource == "aws:sqs" || (r.Body != nil && r.S3 == nil):
		mid := r.SQSMessageID
		if r.Body == nil {
			d.invalid(mid, "SQS message %d has no body", i)
			return
		}
		d.payload([]byte(*r.Body), mid, depth+1)
	case r.EventSource == "aws:sns" || r.Sns != nil:
		if r.Sns == nil || r.Sns.Message == nil {
			d.invalid(id, "SNS record %d has no Sns.Message", i)
			return
		}
		mid := id
		if mid == "" {
			mid = r.Sns.MessageID
		}
		d.payload([]byte(*r.Sns.Message), mid, depth+1)
	default:
		d.s3Record(r, id, i)
	}
}

func (d *refDecoder) s3Record(r refRecord, id string, i int) {
	switch {
	case r.S3 == nil:
		d.invalid(id, "record %d: no s3 field (eventSource %q)", i, r.EventSource)
		return
	case r.S3.Bucket.Name == "":
		d.invalid(id, "record %d: s3.bucket.name is empty", i)
		return
	case r.S3.Object.Key == nil || *r.S3.Object.Key == "":
		d.invalid(id, "record %d: s3.object.key is missing", i)
		return
	case r.EventName == "":
		d.invalid(id, "record %d: eventName is missing", i)
		return
	}
	// S3 form-encodes keys ("a b+c" arrives as "a+b%2Bc"); MinIO escapes
	// "/" as "%2F" the same way.
	key, err := url.QueryUnescape(*r.S3.Object.Key)
	if err != nil {
		d.invalid(id, "record %d: s3.object.key %q is not URL-encoded: %v", i, *r.S3.Object.Key, err)
		return
	}
	o := r.S3.Object
	d.add(Change{
		Bucket: r.S3.Bucket.Name, Key: key, Kind: kindOf(r.EventName),
		ETag: trimETag(o.ETag), Size: o.Size, VersionID: o.VersionID, Sequencer: o.Sequencer,
		Time: parseTime(r.EventTime), EventName: r.EventName, MessageID: id,
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
	d.add(Change{
		Bucket: det.Bucket.Name, Key: *o.Key, Kind: kindOfEventBridge(env.DetailType, det.Reason),
		ETag: trimETag(o.ETag), Size: o.Size, VersionID: o.VersionID, Sequencer: o.Sequencer,
		Time: parseTime(env.EventTime), EventName: env.DetailType, MessageID: id,
	})
}

// RefDecode is what Decode did.
func RefDecode(payload []byte) []Change {
	d := &refDecoder{}
	d.payload(payload, "", 0)
	return d.out
}

func refJSONError(err error) string { return strings.TrimPrefix(err.Error(), "json: ") }
