package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Decode reads one payload — a Lambda event (S3, SNS, SQS or EventBridge)
// or a webhook body — and returns its changes in the order they appear. It
// never fails as a whole: what it cannot read comes back as KindInvalid
// changes, with the message id they came in where there is one.
func Decode(payload []byte) []Change {
	var l list
	newDecoder(&l).bytes(payload, "", 0)
	return l
}

// DecodeMessage reads one message body that came with an id of its own (an
// SQS message, a webhook delivery): every change, and every error, carries
// that id.
func DecodeMessage(id string, body []byte) []Change {
	var l list
	newDecoder(&l).bytes(body, id, 0)
	// The message is the unit that is retried: ids of envelopes inside it
	// (an SQS batch posted as one webhook) must not stand in for it.
	for i := range l {
		l[i].MessageID = id
	}
	return l
}

// maxDepth bounds envelopes within envelopes (SQS holding SNS holding S3 is 3).
const maxDepth = 4

// decodeOptions read JSON as encoding/json does: a repeated name's last
// value wins, and invalid UTF-8 becomes U+FFFD.
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// decoder reads payloads token by token into a sink: no reflection, no
// generic values, and no allocation but the strings a Change keeps. An SQS
// body or SNS message, a JSON string holding JSON, is unescaped once into a
// buffer kept for its depth and read from there.
type decoder struct {
	sink  Sink
	decs  [maxDepth + 2]*jsontext.Decoder // nested payloads, by depth
	in    [maxDepth + 2]bytes.Buffer      // what they read
	bufs  [maxDepth + 2]depthBufs
	name  []byte            // the member name just read, unescaped
	tmp   []byte            // a string value just read, unescaped
	names map[string]string // bucket and event names, interned
}

// depthBufs hold the unescaped payloads found at one depth until the value
// that holds them ends and says what they are, and the record being read.
type depthBufs struct {
	body, recordMsg, envelopeMsg []byte
	rec                          record
	s3                           s3Entity
}

func newDecoder(s Sink) *decoder {
	return &decoder{sink: s, names: map[string]string{}}
}

func (d *decoder) add(c Change) {
	c.Record = d.sink.Len()
	d.sink.Add(c)
}

func (d *decoder) invalid(id, format string, args ...any) {
	d.add(Change{Kind: KindInvalid, MessageID: id, Err: fmt.Sprintf(format, args...)})
}

// bytes reads data as one payload, as Decode does: if it is not JSON, what
// it added so far is dropped and it is one invalid change.
func (d *decoder) bytes(data []byte, id string, depth int) {
	if depth > maxDepth {
		d.invalid(id, "envelopes nested more than %d deep", maxDepth)
		return
	}
	// A bytes.Buffer is read in place, not copied.
	in := &d.in[depth]
	*in = *bytes.NewBuffer(data)
	dec := d.decs[depth]
	if dec == nil {
		dec = jsontext.NewDecoder(in, decodeOptions...)
		d.decs[depth] = dec
	} else {
		dec.Reset(in, decodeOptions...)
	}
	mark := d.sink.Len()
	err := d.payload(dec, id, depth)
	if err == nil {
		err = atEOF(dec)
	}
	if err != nil {
		d.sink.Truncate(mark)
		d.invalid(id, "not a JSON object: %s", jsonError(err))
	}
}

var errTrailing = errors.New("data after the payload")

// atEOF reports what follows a payload other than white space.
func atEOF(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errTrailing
		}
		return err
	}
	return nil
}

// noEnvelope is the reason given for a JSON object that is no event.
const noEnvelope = "not an S3, SNS, SQS, EventBridge or webhook event: no Records, Message or detail-type"

// envelope holds the top-level fields of every shape Decode recognises but
// Records, which are decoded as they come.
type envelope struct {
	event, bucket, time string // s3:TestEvent
	typ, messageID      string // SNS notification (the body of an SQS message subscribed to a topic)
	hasMessage          bool   // its Message is in bufs[depth].envelopeMsg
	id, detailType      string // EventBridge
	source, eventTime   string
	detail              ebDetail
}

var envelopeFields = []string{"Records", "Event", "Bucket", "Time", "Type", "MessageId", "Message", "id", "detail-type", "source", "time", "detail"}

// payload reads one JSON value from dec and adds its changes. It returns
// only errors of the JSON text (and of reading it): the caller drops what
// the payload added and reports it. Everything else is an invalid change.
func (d *decoder) payload(dec *jsontext.Decoder, id string, depth int) error {
	if depth > maxDepth {
		d.invalid(id, "envelopes nested more than %d deep", maxDepth)
		return dec.SkipValue()
	}
	switch k := dec.PeekKind(); k {
	case '{':
	case 'n': // encoding/json leaves the envelope empty
		_, err := dec.ReadToken()
		if err == nil {
			d.invalid(id, noEnvelope)
		}
		return err
	case 0:
		_, err := dec.ReadToken()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		d.invalid(id, "not a JSON object: %s", kindName(k))
		return nil
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	mark := d.sink.Len()
	var (
		e           envelope
		bad         string // the first field of the wrong type: as if encoding/json failed
		recordsMark = -1   // where the Records array's changes start; -1: none
		recordsBad  bool   // Records is not an array
		badRecord   bool   // a record did not decode
		detailSeen  bool
		detailErr   string
		msgBuf      = &d.bufs[depth].envelopeMsg
	)
	str := func(f string, dst *string) error { return d.readString(dec, f, dst, &bad) }
	for dec.PeekKind() != '}' {
		name, err := d.readName(dec, envelopeFields)
		if err != nil {
			return err
		}
		switch name {
		case "Records":
			// A repeated name's last value wins.
			if recordsMark >= 0 {
				d.sink.Truncate(recordsMark)
			}
			recordsMark, recordsBad = -1, false
			switch k := dec.PeekKind(); k {
			case '[':
				recordsMark = d.sink.Len()
				var b bool
				b, err = d.records(dec, id, depth)
				badRecord = badRecord || b
			case 'n':
				_, err = dec.ReadToken()
			default:
				err = dec.SkipValue()
				recordsBad = true
				note(&bad, "Records: want an array, got %s", kindName(k))
			}
		case "Event":
			err = str("Event", &e.event)
		case "Bucket":
			err = str("Bucket", &e.bucket)
		case "Time":
			err = str("Time", &e.time)
		case "Type":
			err = str("Type", &e.typ)
		case "MessageId":
			err = str("MessageId", &e.messageID)
		case "Message":
			e.hasMessage, err = d.readPayloadString(dec, "Message", msgBuf, &bad)
		case "id":
			err = str("id", &e.id)
		case "detail-type":
			err = str("detail-type", &e.detailType)
		case "source":
			err = str("source", &e.source)
		case "time":
			err = str("time", &e.eventTime)
		case "detail":
			detailSeen, detailErr, e.detail = true, "", ebDetail{}
			err = d.ebDetail(dec, &e.detail, &detailErr)
		default:
			err = dec.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if bad != "" || badRecord {
		// encoding/json failed on the envelope: the records are read one
		// at a time, the bad ones failing alone, if there is an array of
		// them; else the payload is unreadable.
		if recordsMark < 0 || recordsBad {
			note(&bad, "Records: a record does not decode")
			d.sink.Truncate(mark)
			d.invalid(id, "not a JSON object: %s", bad)
		}
		return nil
	}
	switch {
	case e.event == "s3:TestEvent":
		d.sink.Truncate(mark)
		d.add(Change{Kind: KindTest, Bucket: e.bucket, EventName: e.event, MessageID: id, Time: parseTime(e.time)})
	case e.typ == "Notification" && e.hasMessage:
		d.sink.Truncate(mark)
		if id == "" {
			id = e.messageID
		}
		d.bytes(*msgBuf, id, depth+1)
	case e.detailType != "" && e.source != "":
		d.sink.Truncate(mark)
		if id == "" {
			id = e.id
		}
		d.eventBridge(&e, detailSeen, detailErr, id)
	case recordsMark >= 0:
	default:
		d.invalid(id, noEnvelope)
	}
	return nil
}

// records reads a Records array, reporting whether a record did not decode.
func (d *decoder) records(dec *jsontext.Decoder, id string, depth int) (bool, error) {
	if _, err := dec.ReadToken(); err != nil {
		return false, err
	}
	anyBad := false
	for i := 0; dec.PeekKind() != ']'; i++ {
		bad, err := d.record(dec, id, i, depth)
		if err != nil {
			return false, err
		}
		anyBad = anyBad || bad
	}
	_, err := dec.ReadToken()
	return anyBad, err
}

// s3Entity is a record's s3 field.
type s3Entity struct {
	bucket                     string
	key                        []byte // as it came, form-encoded
	hasKey                     bool
	size                       int64
	etag, versionID, sequencer string
}

// record is one element of a Records array: an S3 record, an SQS message or
// an SNS record.
type record struct {
	eventSource []byte // also matches SNS's "EventSource"
	eventName   string
	eventTime   time.Time
	s3          *s3Entity

	// SQS
	sqsMessageID string
	hasBody      bool // in bufs[depth].body

	// SNS
	hasSns        bool
	snsMessageID  string
	hasSnsMessage bool // in bufs[depth].recordMsg
}

var (
	recordFields = []string{"eventSource", "eventName", "eventTime", "s3", "messageId", "body", "Sns"}
	s3Fields     = []string{"bucket", "object"}
	bucketFields = []string{"name"}
	objectFields = []string{"key", "size", "eTag", "versionId", "sequencer"}
	snsFields    = []string{"MessageId", "Message"}
)

// record reads record i of a Records array and adds its changes; a record
// that does not decode is one invalid change, and it reports that.
func (d *decoder) record(dec *jsontext.Decoder, id string, i, depth int) (bool, error) {
	bufs := &d.bufs[depth]
	r, s3 := &bufs.rec, &bufs.s3
	*r = record{eventSource: r.eventSource[:0]}
	var bad string
	ok, err := d.beginObject(dec, "", &bad)
	if err != nil {
		return false, err
	}
	for ok && dec.PeekKind() != '}' {
		name, err := d.readName(dec, recordFields)
		if err != nil {
			return false, err
		}
		switch name {
		case "eventSource":
			var v []byte
			var present bool
			if v, present, err = d.readStringBytes(dec, "eventSource", &bad); present {
				r.eventSource = append(r.eventSource[:0], v...)
			}
		case "eventName":
			var v []byte
			var present bool
			if v, present, err = d.readStringBytes(dec, "eventName", &bad); present {
				r.eventName = d.intern(v)
			}
		case "eventTime":
			var v []byte
			var present bool
			if v, present, err = d.readStringBytes(dec, "eventTime", &bad); present {
				r.eventTime = parseTimeBytes(v)
			}
		case "s3":
			r.s3 = nil
			var present bool
			if present, err = d.s3Entity(dec, s3, &bad); present {
				r.s3 = s3
			}
		case "messageId":
			err = d.readString(dec, "messageId", &r.sqsMessageID, &bad)
		case "body":
			r.hasBody, err = d.readPayloadString(dec, "body", &bufs.body, &bad)
		case "Sns":
			r.hasSns, err = d.beginObject(dec, "Sns", &bad)
			r.snsMessageID, r.hasSnsMessage = "", false
			for err == nil && r.hasSns && dec.PeekKind() != '}' {
				var n string
				if n, err = d.readName(dec, snsFields); err != nil {
					break
				}
				switch n {
				case "MessageId":
					err = d.readString(dec, "Sns.MessageId", &r.snsMessageID, &bad)
				case "Message":
					r.hasSnsMessage, err = d.readPayloadString(dec, "Sns.Message", &bufs.recordMsg, &bad)
				default:
					err = dec.SkipValue()
				}
			}
			if err == nil && r.hasSns {
				_, err = dec.ReadToken()
			}
		default:
			err = dec.SkipValue()
		}
		if err != nil {
			return false, err
		}
	}
	if ok {
		if _, err := dec.ReadToken(); err != nil {
			return false, err
		}
	}
	if bad != "" {
		d.invalid(id, "record %d: %s", i, bad)
		return true, nil
	}
	switch src := string(r.eventSource); {
	case src == "aws:sqs" || (r.hasBody && r.s3 == nil):
		mid := r.sqsMessageID
		if !r.hasBody {
			d.invalid(mid, "SQS message %d has no body", i)
			return false, nil
		}
		d.bytes(bufs.body, mid, depth+1)
	case src == "aws:sns" || r.hasSns:
		if !r.hasSns || !r.hasSnsMessage {
			d.invalid(id, "SNS record %d has no Sns.Message", i)
			return false, nil
		}
		mid := id
		if mid == "" {
			mid = r.snsMessageID
		}
		d.bytes(bufs.recordMsg, mid, depth+1)
	default:
		d.s3Record(r, id, i)
	}
	return false, nil
}

// s3Entity reads a record's s3 field into s, reporting whether it was
// there (not null).
func (d *decoder) s3Entity(dec *jsontext.Decoder, s *s3Entity, bad *string) (bool, error) {
	*s = s3Entity{key: s.key[:0]}
	ok, err := d.beginObject(dec, "s3", bad)
	for err == nil && ok && dec.PeekKind() != '}' {
		var n string
		if n, err = d.readName(dec, s3Fields); err != nil {
			break
		}
		switch n {
		case "bucket":
			err = d.object(dec, "s3.bucket", bucketFields, bad, func(f string) error {
				v, present, err := d.readStringBytes(dec, "s3.bucket.name", bad)
				if present {
					s.bucket = d.intern(v)
				}
				return err
			})
		case "object":
			err = d.object(dec, "s3.object", objectFields, bad, func(f string) error {
				switch f {
				case "key":
					v, present, err := d.readStringBytes(dec, "s3.object.key", bad)
					s.key, s.hasKey = append(s.key[:0], v...), present
					return err
				case "size":
					return d.readInt(dec, "s3.object.size", &s.size, bad)
				case "eTag":
					return d.readString(dec, "s3.object.eTag", &s.etag, bad)
				case "versionId":
					return d.readString(dec, "s3.object.versionId", &s.versionID, bad)
				case "sequencer":
					return d.readString(dec, "s3.object.sequencer", &s.sequencer, bad)
				}
				return dec.SkipValue()
			})
		default:
			err = dec.SkipValue()
		}
	}
	if err == nil && ok {
		_, err = dec.ReadToken()
	}
	return ok, err
}

func (d *decoder) s3Record(r *record, id string, i int) {
	switch {
	case r.s3 == nil:
		d.invalid(id, "record %d: no s3 field (eventSource %q)", i, r.eventSource)
		return
	case r.s3.bucket == "":
		d.invalid(id, "record %d: s3.bucket.name is empty", i)
		return
	case !r.s3.hasKey || len(r.s3.key) == 0:
		d.invalid(id, "record %d: s3.object.key is missing", i)
		return
	case r.eventName == "":
		d.invalid(id, "record %d: eventName is missing", i)
		return
	}
	// S3 form-encodes keys ("a b+c" arrives as "a+b%2Bc"); MinIO escapes
	// "/" as "%2F" the same way.
	key, ok := queryUnescape(r.s3.key, &d.tmp)
	if !ok {
		_, err := url.QueryUnescape(string(r.s3.key))
		d.invalid(id, "record %d: s3.object.key %q is not URL-encoded: %v", i, r.s3.key, err)
		return
	}
	o := r.s3
	d.add(Change{
		Bucket: o.bucket, Key: key, Kind: kindOf(r.eventName),
		ETag: trimETag(o.etag), Size: o.size, VersionID: o.versionID, Sequencer: o.sequencer,
		Time: r.eventTime, EventName: r.eventName, MessageID: id,
	})
}

type ebDetail struct {
	bucket                     string
	key                        string
	size                       int64
	etag, versionID, sequencer string
	reason                     string
}

var (
	ebFields       = []string{"bucket", "object", "reason"}
	ebObjectFields = []string{"key", "size", "etag", "version-id", "sequencer"}
)

// ebDetail reads an EventBridge detail; what is wrong with it goes to bad,
// to be reported only if the event is an EventBridge event.
func (d *decoder) ebDetail(dec *jsontext.Decoder, det *ebDetail, bad *string) error {
	ok, err := d.beginObject(dec, "", bad)
	for err == nil && ok && dec.PeekKind() != '}' {
		var n string
		if n, err = d.readName(dec, ebFields); err != nil {
			break
		}
		switch n {
		case "bucket":
			err = d.object(dec, "bucket", bucketFields, bad, func(string) error {
				v, present, err := d.readStringBytes(dec, "bucket.name", bad)
				if present {
					det.bucket = d.intern(v)
				}
				return err
			})
		case "object":
			err = d.object(dec, "object", ebObjectFields, bad, func(f string) error {
				switch f {
				case "key":
					return d.readString(dec, "object.key", &det.key, bad)
				case "size":
					return d.readInt(dec, "object.size", &det.size, bad)
				case "etag":
					return d.readString(dec, "object.etag", &det.etag, bad)
				case "version-id":
					return d.readString(dec, "object.version-id", &det.versionID, bad)
				case "sequencer":
					return d.readString(dec, "object.sequencer", &det.sequencer, bad)
				}
				return dec.SkipValue()
			})
		case "reason":
			err = d.readString(dec, "reason", &det.reason, bad)
		default:
			err = dec.SkipValue()
		}
	}
	if err == nil && ok {
		_, err = dec.ReadToken()
	}
	return err
}

// eventBridge reads an S3 event from EventBridge. Its keys are not
// form-encoded: they arrive as stored.
func (d *decoder) eventBridge(e *envelope, detailSeen bool, detailErr, id string) {
	if e.source != "aws.s3" {
		d.invalid(id, "EventBridge event from %q, not aws.s3", e.source)
		return
	}
	det := &e.detail
	switch {
	case !detailSeen:
		d.invalid(id, "EventBridge detail: missing")
		return
	case detailErr != "":
		d.invalid(id, "EventBridge detail: %s", detailErr)
		return
	case det.bucket == "":
		d.invalid(id, "EventBridge detail.bucket.name is empty")
		return
	case det.key == "":
		d.invalid(id, "EventBridge detail.object.key is missing")
		return
	}
	d.add(Change{
		Bucket: det.bucket, Key: det.key, Kind: kindOfEventBridge(e.detailType, det.reason),
		ETag: trimETag(det.etag), Size: det.size, VersionID: det.versionID, Sequencer: det.sequencer,
		Time: parseTime(e.eventTime), EventName: e.detailType, MessageID: id,
	})
}

// Reading values. A value of the wrong kind is skipped and noted in bad, as
// encoding/json goes on past a type error; null reads as absent.

// note keeps the first problem found.
func note(bad *string, format string, args ...any) {
	if *bad == "" {
		*bad = fmt.Sprintf(format, args...)
	}
}

// readName reads an object member's name and returns the field of fields
// it stands for: the same name, else one equal under case folding (as
// encoding/json matches), else "".
func (d *decoder) readName(dec *jsontext.Decoder, fields []string) (string, error) {
	v, err := dec.ReadValue()
	if err != nil {
		return "", err
	}
	n := unquote(v, &d.name)
	for _, f := range fields {
		if string(n) == f {
			return f, nil
		}
	}
	if ascii(n) {
		// Names are ASCII: only one as long can fold to it.
		for _, f := range fields {
			if len(f) == len(n) && asciiEqualFold(n, f) {
				return f, nil
			}
		}
		return "", nil
	}
	for _, f := range fields {
		if strings.EqualFold(string(n), f) {
			return f, nil
		}
	}
	return "", nil
}

func asciiEqualFold(a []byte, b string) bool {
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// readStringBytes reads a string; the bytes are good until the next read.
func (d *decoder) readStringBytes(dec *jsontext.Decoder, field string, bad *string) ([]byte, bool, error) {
	v, err := dec.ReadValue()
	if err != nil {
		return nil, false, err
	}
	switch v[0] {
	case '"':
		return unquote(v, &d.tmp), true, nil
	case 'n':
		return nil, false, nil
	}
	note(bad, "%s: want a string, got %s", field, kindName(jsontext.Kind(v[0])))
	return nil, false, nil
}

func (d *decoder) readString(dec *jsontext.Decoder, field string, dst *string, bad *string) error {
	v, present, err := d.readStringBytes(dec, field, bad)
	if present {
		*dst = string(v)
	}
	return err
}

// readPayloadString reads a string holding JSON (an SQS body, an SNS
// message) unescaped into buf, reporting whether it was there.
func (d *decoder) readPayloadString(dec *jsontext.Decoder, field string, buf *[]byte, bad *string) (bool, error) {
	v, err := dec.ReadValue()
	if err != nil {
		return false, err
	}
	switch v[0] {
	case '"':
		*buf, _ = jsontext.AppendUnquote((*buf)[:0], v) // valid already; only U+FFFD substitutions err
		return true, nil
	case 'n':
		return false, nil
	}
	note(bad, "%s: want a string, got %s", field, kindName(jsontext.Kind(v[0])))
	return false, nil
}

func (d *decoder) readInt(dec *jsontext.Decoder, field string, dst *int64, bad *string) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch k := jsontext.Kind(v[0]); {
	case k == 'n':
	case k == '-' || ('0' <= k && k <= '9'):
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			note(bad, "%s: want an integer, got %s", field, v)
			break
		}
		*dst = n
	default:
		note(bad, "%s: want an integer, got %s", field, kindName(k))
	}
	return nil
}

// beginObject reads the '{' of an object, reporting false for null or a
// value of another kind (skipped, and noted in bad).
func (d *decoder) beginObject(dec *jsontext.Decoder, field string, bad *string) (bool, error) {
	switch k := dec.PeekKind(); k {
	case '{':
		_, err := dec.ReadToken()
		return err == nil, err
	case 'n':
		_, err := dec.ReadToken()
		return false, err
	case 0:
		_, err := dec.ReadToken()
		return false, err
	default:
		if field == "" {
			note(bad, "want an object, got %s", kindName(k))
		} else {
			note(bad, "%s: want an object, got %s", field, kindName(k))
		}
		return false, dec.SkipValue()
	}
}

// object reads an object, calling member for each member named in fields
// and skipping the others.
func (d *decoder) object(dec *jsontext.Decoder, field string, fields []string, bad *string, member func(f string) error) error {
	ok, err := d.beginObject(dec, field, bad)
	for err == nil && ok && dec.PeekKind() != '}' {
		var n string
		if n, err = d.readName(dec, fields); err != nil {
			break
		}
		if n == "" {
			err = dec.SkipValue()
		} else {
			err = member(n)
		}
	}
	if err == nil && ok {
		_, err = dec.ReadToken()
	}
	return err
}

// unquote returns a JSON string's contents: in place when it needs no
// unescaping, else unescaped into buf.
func unquote(v []byte, buf *[]byte) []byte {
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') < 0 && (ascii(s) || utf8.Valid(s)) {
		return s
	}
	*buf, _ = jsontext.AppendUnquote((*buf)[:0], v) // valid already; only U+FFFD substitutions err
	return *buf
}

func ascii(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// intern returns b as a string, shared with earlier equal ones: a batch
// names few buckets and event names, many times.
func (d *decoder) intern(b []byte) string {
	if s, ok := d.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.names) < 256 {
		d.names[s] = s
	}
	return s
}

// queryUnescape is url.QueryUnescape of b, without a copy of the input.
func queryUnescape(b []byte, buf *[]byte) (string, bool) {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return string(b), true
	}
	out := (*buf)[:0]
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '+':
			out = append(out, ' ')
		case '%':
			if i+2 >= len(b) || !ishex(b[i+1]) || !ishex(b[i+2]) {
				return "", false
			}
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	*buf = out
	return string(out), true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// parseTimeBytes is parseTime without a string to parse: the strict
// RFC 3339 of time.Time's UnmarshalText, which time.Parse agrees with where
// it succeeds, is tried first.
func parseTimeBytes(b []byte) time.Time {
	var t time.Time
	if len(b) > 0 && t.UnmarshalText(b) == nil {
		return t.UTC()
	}
	return parseTime(string(b))
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// jsonError shortens the decoder's errors to what a reader needs.
func jsonError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "jsontext: ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
