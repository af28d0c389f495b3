// Package event decodes object-store change notifications, in every
// envelope they arrive in, into Changes: S3 event notifications delivered
// directly to Lambda, wrapped in SNS (Message is a JSON string), in SQS (each
// message a notification or an SNS envelope), EventBridge "Object Created"
// and "Object Deleted" events, and S3-compatible webhooks such as MinIO's.
//
// Decoding never stops at a bad record: a record that cannot be read
// becomes a Change of KindInvalid that says which message it came in, what
// was wrong and where, as a path from the top of the payload through every
// envelope ("Records[1].body.Records[0].s3.object.key is missing"), and the
// rest of the batch is decoded as usual.
package event

import (
	"strings"
	"time"
)

// Kind is what happened to an object.
type Kind string

const (
	KindPut     Kind = "put"     // created or overwritten (PUT, POST, multipart upload)
	KindCopy    Kind = "copy"    // created by a copy: may change only metadata, with the same ETag
	KindRemove  Kind = "remove"  // deleted, or hidden by a delete marker
	KindTest    Kind = "test"    // s3:TestEvent, sent when notifications are configured
	KindOther   Kind = "other"   // an event offload does not act on (restore, tagging, ACL, ...)
	KindInvalid Kind = "invalid" // a record that could not be decoded; Err says why
)

// Change is one change to one object: the one shape the rest of offload
// works on.
type Change struct {
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"` // decoded: "a b.html", not "a+b.html"
	Kind      Kind      `json:"kind"`
	ETag      string    `json:"etag,omitempty"` // without quotes
	Size      int64     `json:"size,omitempty"`
	VersionID string    `json:"version_id,omitempty"`
	Sequencer string    `json:"sequencer,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	EventName string    `json:"event,omitempty"`      // as the source named it: "ObjectCreated:Put", "Object Created"
	MessageID string    `json:"message_id,omitempty"` // the SQS/SNS/EventBridge message it came in, for partial batch failures
	Record    int       `json:"record"`               // its position in the decoded batch
	Err       string    `json:"error,omitempty"`      // KindInvalid: what was wrong, and where
}

// kindOf maps an S3 event name ("ObjectCreated:Put", MinIO's
// "s3:ObjectCreated:Put") to a Kind.
func kindOf(name string) Kind {
	name = strings.TrimPrefix(name, "s3:")
	switch {
	case name == "ObjectCreated:Copy":
		return KindCopy
	case strings.HasPrefix(name, "ObjectCreated:Put"), name == "ObjectCreated:Post",
		name == "ObjectCreated:CompleteMultipartUpload", name == "ObjectCreated:*":
		// MinIO's ObjectCreated:PutRetention and PutLegalHold change no bytes.
		if name == "ObjectCreated:PutRetention" || name == "ObjectCreated:PutLegalHold" ||
			name == "ObjectCreated:PutTagging" {
			return KindOther
		}
		return KindPut
	case strings.HasPrefix(name, "ObjectRemoved:"), strings.HasPrefix(name, "LifecycleExpiration:"):
		return KindRemove
	case name == "TestEvent":
		return KindTest
	}
	return KindOther
}

// kindOfEventBridge maps an EventBridge detail-type and reason to a Kind.
func kindOfEventBridge(detailType, reason string) Kind {
	switch detailType {
	case "Object Created":
		if reason == "CopyObject" {
			return KindCopy
		}
		return KindPut
	case "Object Deleted":
		return KindRemove
	}
	return KindOther
}

func trimETag(s string) string { return strings.Trim(s, `"`) }
