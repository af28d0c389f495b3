package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Decode reads one payload — a Lambda event (S3, SNS, SQS or EventBridge)
// or a webhook body — and returns its changes in the order they appear. It
// never fails as a whole: what it cannot read comes back as KindInvalid
// changes, with the message id they came in where there is one. So does
// what no object store sends: a bucket name no S3-compatible store allows,
// a key that is not UTF-8 once URL-decoded, a negative size, a time that is
// not RFC 3339 (with or without a zone), and a message inside a batch (an
// SQS body, an SNS message) without records. A key is kept as stored,
// control characters included.
func Decode(payload []byte) []Change {
	var l list
	d := pooledDecoder(&l)
	d.bytes(payload, "", 0)
	d.release()
	return l
}

// DecodeMessage reads one message body that came with an id of its own (an
// SQS message, a webhook delivery): every change, and every error, carries
// that id.
func DecodeMessage(id string, body []byte) []Change {
	var l list
	d := pooledDecoder(&l)
	d.bytes(body, id, 0)
	d.release()
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
	all   []byte            // the strings of a change, before they are one
	names map[string]string // bucket and event names, interned
	fast  []fastRecord      // the records the fast path read

	// Where the payload being read is, for errors: how each nested one
	// was reached, and where the outermost is in a stream Read reads.
	hops     [maxDepth + 2]hop
	rootKind byte // 0: Decode's payload; 'l': line rootN; 'a': element rootN of an array
	rootN    int
}

// depthBufs hold the unescaped payloads found at one depth until the value
// that holds them ends and says what they are, and the record being read.
type depthBufs struct {
	body, recordMsg, envelopeMsg []byte // quoted
	unquoted                     []byte // the payload at this depth, unescaped
	rec                          record
	s3                           s3Entity
}

func newDecoder(s Sink) *decoder {
	return &decoder{sink: s, names: map[string]string{}}
}

// decoders are reused by Decode and DecodeMessage, which a server calls
// for every delivery and every inbox entry it applies: a decoder is a few
// kilobytes, and its JSON decoders and buffers are ready for the next.
var decoders = sync.Pool{New: func() any { return newDecoder(nil) }}

func pooledDecoder(s Sink) *decoder {
	d := decoders.Get().(*decoder)
	d.sink = s
	return d
}

// keepBuf bounds a buffer a pooled decoder keeps: one grown for a large
// payload is dropped rather than held.
const keepBuf = 64 << 10

// release returns d to the pool holding nothing of what it read: not the
// payload, not its names, not a large buffer.
func (d *decoder) release() {
	small := func(b []byte) []byte {
		if cap(b) > keepBuf {
			return nil
		}
		return b[:0]
	}
	for i := range d.in {
		d.in[i] = bytes.Buffer{}
		if d.decs[i] != nil {
			d.decs[i].Reset(&d.in[i], decodeOptions...) // empty now
		}
		b := &d.bufs[i]
		*b = depthBufs{body: small(b.body), recordMsg: small(b.recordMsg), envelopeMsg: small(b.envelopeMsg), unquoted: small(b.unquoted),
			rec: record{eventSource: small(b.rec.eventSource), rawTime: small(b.rec.rawTime)},
			s3:  s3Entity{key: small(b.s3.key), etag: small(b.s3.etag), versionID: small(b.s3.versionID), sequencer: small(b.s3.sequencer)}}
	}
	d.name, d.tmp, d.all = small(d.name), small(d.tmp), small(d.all)
	clear(d.fast[:cap(d.fast)]) // the fast path's records point into the payload
	d.fast = d.fast[:0]
	clear(d.names)
	d.sink, d.hops, d.rootKind, d.rootN = nil, [maxDepth + 2]hop{}, 0, 0
	decoders.Put(d)
}

func (d *decoder) add(c Change) {
	c.Record = d.sink.Len()
	d.sink.Add(c)
}

func (d *decoder) invalid(id, format string, args ...any) {
	d.add(Change{Kind: KindInvalid, MessageID: id, Err: fmt.Sprintf(format, args...)})
}

// hop is how a nested payload was reached: the body or SNS message of
// record rec of the Records array (field "body", "Sns.Message"), or, rec
// -1, the envelope's Message.
type hop struct {
	rec   int
	field string
}

// where returns the path to field ("s3.object.key"; "" for the record
// itself) of record rec (-1: of the envelope) of the payload at depth, from
// the top of what was sent: "Records[1].body.Records[0].s3.object.key".
// Only errors call it.
func (d *decoder) where(depth, rec int, field string) string {
	var b strings.Builder
	step := func(rec int, field string) {
		if rec >= 0 {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprintf(&b, "Records[%d]", rec)
		}
		if field != "" {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(field)
		}
	}
	for _, h := range d.hops[:depth] {
		step(h.rec, h.field)
	}
	step(rec, field)
	path := b.String()
	switch d.rootKind {
	case 'l':
		return prefixed("line "+strconv.Itoa(d.rootN), path)
	case 'a':
		if path == "" {
			return "[" + strconv.Itoa(d.rootN) + "]"
		}
		return "[" + strconv.Itoa(d.rootN) + "]." + path
	}
	return path
}

// prefixed is msg after where it is about, if it is about a part.
func prefixed(where, msg string) string {
	switch {
	case where == "":
		return msg
	case msg == "":
		return where
	}
	return where + ": " + msg
}

// at says what p is about, in the payload at depth: in record rec (-1: the
// envelope), under field.
func (d *decoder) at(p problem, depth, rec int, field string) string {
	f := p.field
	if field != "" {
		f = field
		if p.field != "" {
			f += "." + p.field
		}
	}
	return prefixed(d.where(depth, rec, f), p.msg)
}

// quoted reads the payload in v, a JSON string readPayloadString read, as
// bytes does: by the fast path from the string as it is, if it can, else
// unescaped.
func (d *decoder) quoted(v []byte, id string, depth int) {
	if depth <= maxDepth && d.fastS3(v[1:len(v)-1], true, id, depth) {
		return
	}
	u := &d.bufs[depth].unquoted
	*u, _ = jsontext.AppendUnquote((*u)[:0], v) // valid already; only U+FFFD substitutions err
	d.bytes(*u, id, depth)
}

// bytes reads data as one payload, as Decode does: if it is not JSON, what
// it added so far is dropped and it is one invalid change.
func (d *decoder) bytes(data []byte, id string, depth int) {
	if depth > maxDepth {
		d.invalid(id, "%s", prefixed(d.where(depth, -1, ""), fmt.Sprintf("envelopes nested more than %d deep", maxDepth)))
		return
	}
	if d.fastS3(data, false, id, depth) {
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
	switch {
	case err != nil:
		d.sink.Truncate(mark)
		d.invalid(id, "%s", prefixed(d.where(depth, -1, ""), "not a JSON object: "+jsonError(err)))
	case depth > 0 && d.sink.Len() == mark:
		// A message in a batch with no change would be taken as done and
		// dropped unseen; S3 sends none, so it was sent here by mistake.
		d.invalid(id, "%s has no records: an S3 event notification has at least one", d.where(depth, -1, ""))
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
		d.invalid(id, "%s", prefixed(d.where(depth, -1, ""), fmt.Sprintf("envelopes nested more than %d deep", maxDepth)))
		return dec.SkipValue()
	}
	switch k := dec.PeekKind(); k {
	case '{':
	case 'n': // encoding/json leaves the envelope empty
		_, err := dec.ReadToken()
		if err == nil {
			d.invalid(id, "%s", prefixed(d.where(depth, -1, ""), noEnvelope))
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
		d.invalid(id, "%s", prefixed(d.where(depth, -1, ""), "not a JSON object: "+kindName(k)))
		return nil
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	mark := d.sink.Len()
	var (
		e           envelope
		bad         problem // the first field of the wrong type: as if encoding/json failed
		recordsMark = -1    // where the Records array's changes start; -1: none
		recordsBad  bool    // Records is not an array
		badRecord   bool    // a record did not decode
		detailSeen  bool
		detailErr   problem
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
				note(&bad, "Records", "want an array, got %s", kindName(k))
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
			detailSeen, detailErr, e.detail = true, problem{}, ebDetail{}
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
	if bad.msg != "" || badRecord {
		// encoding/json failed on the envelope: the records are read one
		// at a time, the bad ones failing alone, if there is an array of
		// them; else the payload is unreadable.
		if recordsMark < 0 || recordsBad {
			note(&bad, "Records", "a record does not decode")
			d.sink.Truncate(mark)
			d.invalid(id, "%s", d.at(bad, depth, -1, ""))
		}
		return nil
	}
	switch {
	case e.event == "s3:TestEvent":
		d.sink.Truncate(mark)
		t, ok := parseTime(e.time)
		switch {
		case e.bucket != "" && !validBucket(e.bucket):
			d.invalid(id, "%s %s %s", d.where(depth, -1, "Bucket"), quote([]byte(e.bucket)), notBucket)
		case !ok:
			d.invalid(id, "%s %s %s", d.where(depth, -1, "Time"), quote([]byte(e.time)), notTime)
		default:
			d.add(Change{Kind: KindTest, Bucket: e.bucket, EventName: e.event, MessageID: id, Time: t})
		}
	case e.typ == "Notification" && e.hasMessage:
		d.sink.Truncate(mark)
		if id == "" {
			id = e.messageID
		}
		d.hops[depth] = hop{rec: -1, field: "Message"}
		d.quoted(*msgBuf, id, depth+1)
	case e.detailType != "" && e.source != "":
		d.sink.Truncate(mark)
		if id == "" {
			id = e.id
		}
		d.eventBridge(&e, detailSeen, detailErr, id, depth)
	case recordsMark >= 0:
	default:
		d.invalid(id, "%s", prefixed(d.where(depth, -1, ""), noEnvelope))
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
	etag, versionID, sequencer []byte
}

// record is one element of a Records array: an S3 record, an SQS message or
// an SNS record.
type record struct {
	eventSource []byte // also matches SNS's "EventSource"
	eventName   string
	eventTime   time.Time
	timeBad     bool // eventTime does not parse: it is in rawTime
	rawTime     []byte
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
	*r = record{eventSource: r.eventSource[:0], rawTime: r.rawTime[:0]}
	var bad problem
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
				var ok bool
				r.eventTime, ok = parseTimeBytes(v)
				if r.timeBad = !ok; r.timeBad {
					r.rawTime = append(r.rawTime[:0], v...)
				}
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
	if bad.msg != "" {
		d.invalid(id, "%s", d.at(bad, depth, i, ""))
		return true, nil
	}
	switch src := string(r.eventSource); {
	case src == "aws:sqs" || (r.hasBody && r.s3 == nil):
		mid := r.sqsMessageID
		if !r.hasBody {
			d.invalid(mid, "%s is missing (SQS message %s)", d.where(depth, i, "body"), quote([]byte(mid)))
			return false, nil
		}
		d.hops[depth] = hop{rec: i, field: "body"}
		d.quoted(bufs.body, mid, depth+1)
	case src == "aws:sns" || r.hasSns:
		if !r.hasSns || !r.hasSnsMessage {
			d.invalid(id, "%s is missing", d.where(depth, i, "Sns.Message"))
			return false, nil
		}
		mid := id
		if mid == "" {
			mid = r.snsMessageID
		}
		d.hops[depth] = hop{rec: i, field: "Sns.Message"}
		d.quoted(bufs.recordMsg, mid, depth+1)
	default:
		d.s3Record(r, id, i, depth)
	}
	return false, nil
}

// s3Entity reads a record's s3 field into s, reporting whether it was
// there (not null).
func (d *decoder) s3Entity(dec *jsontext.Decoder, s *s3Entity, bad *problem) (bool, error) {
	*s = s3Entity{key: s.key[:0], etag: s.etag[:0], versionID: s.versionID[:0], sequencer: s.sequencer[:0]}
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
					return d.readBytes(dec, "s3.object.eTag", &s.etag, bad)
				case "versionId":
					return d.readBytes(dec, "s3.object.versionId", &s.versionID, bad)
				case "sequencer":
					return d.readBytes(dec, "s3.object.sequencer", &s.sequencer, bad)
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

func (d *decoder) s3Record(r *record, id string, i, depth int) {
	switch {
	case r.s3 == nil:
		d.invalid(id, "%s is missing (eventSource %s)", d.where(depth, i, "s3"), quote(r.eventSource))
		return
	case r.s3.bucket == "":
		d.invalid(id, "%s is empty", d.where(depth, i, "s3.bucket.name"))
		return
	case !r.s3.hasKey || len(r.s3.key) == 0:
		d.invalid(id, "%s is missing", d.where(depth, i, "s3.object.key"))
		return
	case r.eventName == "":
		d.invalid(id, "%s is missing", d.where(depth, i, "eventName"))
		return
	}
	// S3 form-encodes keys ("a b+c" arrives as "a+b%2Bc"); MinIO escapes
	// "/" as "%2F" the same way.
	key, ok := queryUnescape(r.s3.key, &d.tmp)
	if !ok {
		_, err := url.QueryUnescape(string(r.s3.key))
		d.invalid(id, "%s %s is not URL-encoded: %v", d.where(depth, i, "s3.object.key"), quote(r.s3.key), err)
		return
	}
	o := r.s3
	switch {
	case !validBucket(o.bucket):
		d.invalid(id, "%s %s %s", d.where(depth, i, "s3.bucket.name"), quote([]byte(o.bucket)), notBucket)
		return
	case !utf8.Valid(key):
		// Every store keeps keys in UTF-8: these bytes name no object.
		d.invalid(id, "%s %s is not UTF-8 once URL-decoded", d.where(depth, i, "s3.object.key"), quote(o.key))
		return
	case o.size < 0:
		d.invalid(id, "%s: want 0 or more, got %d", d.where(depth, i, "s3.object.size"), o.size)
		return
	case r.timeBad:
		d.invalid(id, "%s %s %s", d.where(depth, i, "eventTime"), quote(r.rawTime), notTime)
		return
	}
	// The key, ETag, version id and sequencer cut from one string: one
	// allocation for the four.
	etag := bytes.Trim(o.etag, `"`)
	all := append(append(append(append(d.all[:0], key...), etag...), o.versionID...), o.sequencer...)
	d.all = all
	str := string(all)
	k, e, v := len(key), len(key)+len(etag), len(key)+len(etag)+len(o.versionID)
	d.add(Change{
		Bucket: o.bucket, Key: str[:k], Kind: kindOf(r.eventName),
		ETag: str[k:e], Size: o.size, VersionID: str[e:v], Sequencer: str[v:],
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
func (d *decoder) ebDetail(dec *jsontext.Decoder, det *ebDetail, bad *problem) error {
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
func (d *decoder) eventBridge(e *envelope, detailSeen bool, detailErr problem, id string, depth int) {
	if e.source != "aws.s3" {
		d.invalid(id, "%s: EventBridge event from %s, not aws.s3", d.where(depth, -1, "source"), quote([]byte(e.source)))
		return
	}
	det := &e.detail
	switch {
	case !detailSeen:
		d.invalid(id, "%s is missing (EventBridge)", d.where(depth, -1, "detail"))
		return
	case detailErr.msg != "":
		d.invalid(id, "%s", d.at(detailErr, depth, -1, "detail"))
		return
	case det.bucket == "":
		d.invalid(id, "%s is empty", d.where(depth, -1, "detail.bucket.name"))
		return
	case det.key == "":
		d.invalid(id, "%s is missing", d.where(depth, -1, "detail.object.key"))
		return
	case !validBucket(det.bucket):
		d.invalid(id, "%s %s %s", d.where(depth, -1, "detail.bucket.name"), quote([]byte(det.bucket)), notBucket)
		return
	case det.size < 0:
		d.invalid(id, "%s: want 0 or more, got %d", d.where(depth, -1, "detail.object.size"), det.size)
		return
	}
	t, ok := parseTime(e.eventTime)
	if !ok {
		d.invalid(id, "%s %s %s", d.where(depth, -1, "time"), quote([]byte(e.eventTime)), notTime)
		return
	}
	d.add(Change{
		Bucket: det.bucket, Key: det.key, Kind: kindOfEventBridge(e.detailType, det.reason),
		ETag: trimETag(det.etag), Size: det.size, VersionID: det.versionID, Sequencer: det.sequencer,
		Time: t, EventName: e.detailType, MessageID: id,
	})
}

// Reading values. A value of the wrong kind is skipped and noted in bad, as
// encoding/json goes on past a type error; null reads as absent.

// problem is the first value of the wrong kind in a record, an envelope or
// a detail: the field it is in, relative to that, and what is wrong.
type problem struct{ field, msg string }

// note keeps the first problem found.
func note(bad *problem, field, format string, args ...any) {
	if bad.msg == "" {
		*bad = problem{field, fmt.Sprintf(format, args...)}
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
func (d *decoder) readStringBytes(dec *jsontext.Decoder, field string, bad *problem) ([]byte, bool, error) {
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
	note(bad, field, "want a string, got %s", kindName(jsontext.Kind(v[0])))
	return nil, false, nil
}

// readBytes is readString into a buffer of the caller's.
func (d *decoder) readBytes(dec *jsontext.Decoder, field string, dst *[]byte, bad *problem) error {
	v, present, err := d.readStringBytes(dec, field, bad)
	if present {
		*dst = append((*dst)[:0], v...)
	}
	return err
}

func (d *decoder) readString(dec *jsontext.Decoder, field string, dst *string, bad *problem) error {
	v, present, err := d.readStringBytes(dec, field, bad)
	if present {
		*dst = string(v)
	}
	return err
}

// readPayloadString reads a string holding JSON (an SQS body, an SNS
// message) into buf as it is, quoted (quoted decodes it), reporting
// whether it was there.
func (d *decoder) readPayloadString(dec *jsontext.Decoder, field string, buf *[]byte, bad *problem) (bool, error) {
	v, err := dec.ReadValue()
	if err != nil {
		return false, err
	}
	switch v[0] {
	case '"':
		*buf = append((*buf)[:0], v...)
		return true, nil
	case 'n':
		return false, nil
	}
	note(bad, field, "want a string, got %s", kindName(jsontext.Kind(v[0])))
	return false, nil
}

func (d *decoder) readInt(dec *jsontext.Decoder, field string, dst *int64, bad *problem) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch k := jsontext.Kind(v[0]); {
	case k == 'n':
	case k == '-' || ('0' <= k && k <= '9'):
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			note(bad, field, "want an integer, got %s", cut(v))
			break
		}
		*dst = n
	default:
		note(bad, field, "want an integer, got %s", kindName(k))
	}
	return nil
}

// beginObject reads the '{' of an object, reporting false for null or a
// value of another kind (skipped, and noted in bad).
func (d *decoder) beginObject(dec *jsontext.Decoder, field string, bad *problem) (bool, error) {
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
		note(bad, field, "want an object, got %s", kindName(k))
		return false, dec.SkipValue()
	}
}

// object reads an object, calling member for each member named in fields
// and skipping the others.
func (d *decoder) object(dec *jsontext.Decoder, field string, fields []string, bad *problem, member func(f string) error) error {
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

// queryUnescape is url.QueryUnescape of b: b itself if nothing in it is
// escaped, else its unescaped bytes in buf.
func queryUnescape(b []byte, buf *[]byte) ([]byte, bool) {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return b, true
	}
	out := (*buf)[:0]
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '+':
			out = append(out, ' ')
		case '%':
			if i+2 >= len(b) || !ishex(b[i+1]) || !ishex(b[i+2]) {
				return nil, false
			}
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	*buf = out
	return out, true
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
func parseTimeBytes(b []byte) (time.Time, bool) {
	var t time.Time
	if len(b) > 0 && t.UnmarshalText(b) == nil {
		return t.UTC(), true
	}
	return parseTime(string(b))
}

// parseTime reads an event's time, reporting false for one that does not
// parse. S3, MinIO and EventBridge write RFC 3339; moto, standing in for
// S3, leaves out the zone, and S3's times are UTC. "" is no time (zero), as
// a missing one is.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse(zoneless, s)
	}
	return t.UTC(), err == nil
}

const (
	zoneless = "2006-01-02T15:04:05.999999999"
	notTime  = "is not an RFC 3339 time"
)

// notBucket says what validBucket wants.
const notBucket = `is not a bucket name: want 1 to 255 letters, digits, ".", "-" or "_", not starting with "."`

// validBucket reports whether s can name a bucket in an S3-compatible
// store. S3's rules (3 to 63 of a-z 0-9 . -, as MinIO's) are the
// strictest; legacy us-east-1 buckets and Ceph's relaxed names add
// capitals and "_" and go to 255. Only what none of them allows is
// refused: a "/", white space, a control character or any other byte, a
// name too long, or one that starts with "." (".." is a path segment).
func validBucket(s string) bool {
	if s == "" || len(s) > 255 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// quote quotes a value for an error message, cut short: enough to find it,
// not all of a crafted 40,000-byte key.
func quote(b []byte) string {
	const max = 100
	if len(b) <= max {
		return strconv.Quote(string(b))
	}
	n := max
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return strconv.Quote(string(b[:n])) + "..."
}

// cut is a JSON number for an error message, cut short as quote cuts.
func cut(num []byte) string {
	if len(num) > 100 {
		return string(num[:100]) + "..."
	}
	return string(num)
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
