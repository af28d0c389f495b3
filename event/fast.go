package event

import (
	"strconv"
	"unicode/utf8"
)

// The fast path reads the payload S3 sends, {"Records":[...]} of S3
// records, in one pass over its bytes, without the token machinery. It
// takes only what it can read exactly as the general decoder would: a
// payload with anything else in it (an escape in a value it keeps, a name
// that differs only in case, a repeated name, a null, a number that is not
// a plain integer, another envelope, a syntax error) is left to the
// general decoder, from the start. It adds nothing until the whole payload
// has been read, and then adds each record through s3Record, as the
// general decoder does, so the changes, and the errors, are the same.

// fastPath is off in tests that compare the two paths.
var fastPath = true

// fastRecord is where a record's values are in the payload.
type fastRecord struct {
	source, name, time         []byte
	bucket, key, etag, version []byte
	sequencer, size            []byte
	hasS3                      bool
	seen                       uint16 // the fields read, by bit: a repeat is not for the fast path
}

const (
	fSource = 1 << iota
	fName
	fTime
	fS3
	fBucket
	fObject
	fBucketName
	fKey
	fSize
	fETag
	fVersion
	fSequencer
)

// fastS3 reads data as bytes does, if it can: it reports whether it did.
// If quoted, data is a JSON string's contents, escaped, which the fast path
// reads as they are when the only escape in them is \" (a quote of the
// payload).
func (d *decoder) fastS3(data []byte, quoted bool, id string, depth int) bool {
	if !fastPath {
		return false
	}
	s := scanner{b: data, q: quoted}
	if !s.lit('{') || !s.name("Records") || !s.lit('[') {
		return false
	}
	recs := d.fast[:0]
	defer func() { d.fast = recs[:0] }()
	for {
		var r fastRecord
		if !s.record(&r) {
			return false
		}
		recs = append(recs, r)
		if s.lit(',') {
			continue
		}
		if !s.lit(']') || !s.lit('}') {
			return false
		}
		break
	}
	if s.ws(); s.i != len(s.b) {
		return false
	}
	// A record with a field of another kind than S3's, or from another
	// source, is read by the general decoder, which says what it is.
	for i := range recs {
		if string(recs[i].source) == "aws:sqs" || string(recs[i].source) == "aws:sns" {
			return false
		}
	}
	bufs := &d.bufs[depth]
	r, e := &bufs.rec, &bufs.s3
	for i := range recs {
		f := &recs[i]
		*r = record{eventSource: append(r.eventSource[:0], f.source...), rawTime: r.rawTime[:0]}
		if f.seen&fName != 0 {
			r.eventName = d.intern(f.name)
		}
		if f.seen&fTime != 0 {
			var ok bool
			r.eventTime, ok = parseTimeBytes(f.time)
			if r.timeBad = !ok; r.timeBad {
				r.rawTime = append(r.rawTime[:0], f.time...)
			}
		}
		if f.hasS3 {
			*e = s3Entity{key: e.key[:0], etag: e.etag[:0], versionID: e.versionID[:0], sequencer: e.sequencer[:0]}
			if f.seen&fBucketName != 0 {
				e.bucket = d.intern(f.bucket)
			}
			if f.seen&fKey != 0 {
				e.key, e.hasKey = append(e.key, f.key...), true
			}
			if f.seen&fSize != 0 {
				e.size, _ = strconv.ParseInt(string(f.size), 10, 64) // checked by the scanner
			}
			e.etag = append(e.etag, f.etag...)
			e.versionID = append(e.versionID, f.version...)
			e.sequencer = append(e.sequencer, f.sequencer...)
			r.s3 = e
		}
		d.s3Record(r, id, i, depth)
	}
	return true
}

// scanner reads JSON from b at i. Each method reports false for what the
// fast path does not take, which may be valid JSON. If q, b is escaped, as
// in a JSON string: a quote is \", and another escape is not taken.
type scanner struct {
	b []byte
	i int
	q bool
}

// quote reads the quote that opens a string, after white space.
func (s *scanner) quote() bool {
	if !s.q {
		return s.lit('"')
	}
	s.ws()
	if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == '"' {
		s.i += 2
		return true
	}
	return false
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// lit reads c after white space.
func (s *scanner) lit(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// name reads the member name n and its colon.
func (s *scanner) name(n string) bool {
	v, ok := s.plainString()
	return ok && string(v) == n && s.lit(':')
}

// plainString reads a string with no escape and no control character (if
// q, no escape but its quotes), and returns what is between its quotes.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.quote() {
		return nil, false
	}
	for j := s.i; j < len(s.b); j++ {
		c := s.b[j]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		// The closing quote, as it is or escaped; anything else here is
		// not for the fast path.
		width := 0
		switch {
		case !s.q && c == '"':
			width = 1
		case s.q && c == '\\' && j+1 < len(s.b) && s.b[j+1] == '"':
			width = 2
		default:
			return nil, false
		}
		v := s.b[s.i:j]
		s.i = j + width
		return v, true
	}
	return nil, false
}

// value reads a string value the decoder keeps: as it is between the
// quotes, which must be valid UTF-8 (the general decoder writes U+FFFD for
// what is not).
func (s *scanner) value() ([]byte, bool) {
	v, ok := s.plainString()
	if !ok {
		return nil, false
	}
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return v, utf8.Valid(v)
		}
	}
	return v, true
}

// member reads a member name and its colon, returning which of fields it
// is (-1: none). A name that is one of them but for case, or not ASCII, or
// escaped, is not for the fast path.
func (s *scanner) member(fields []string) (int, bool) {
	n, ok := s.plainString()
	if !ok || !s.lit(':') {
		return 0, false
	}
	for i, f := range fields {
		if string(n) == f {
			return i, true
		}
	}
	for _, c := range n {
		if c >= utf8.RuneSelf {
			return 0, false
		}
	}
	for _, f := range fields {
		if len(f) == len(n) && asciiEqualFold(n, f) {
			return 0, false
		}
	}
	return -1, true
}

// object reads the members of an object whose '{' was read, calling m
// for each, until its '}'.
func (s *scanner) object(fields []string, m func(i int) bool) bool {
	if s.lit('}') {
		return true
	}
	for {
		i, ok := s.member(fields)
		if !ok {
			return false
		}
		if i < 0 {
			ok = s.skip(0)
		} else {
			ok = m(i)
		}
		if !ok {
			return false
		}
		if s.lit(',') {
			continue
		}
		return s.lit('}')
	}
}

// once marks field f read, reporting false if it was already.
func once(seen *uint16, f uint16) bool {
	if *seen&f != 0 {
		return false
	}
	*seen |= f
	return true
}

// record reads one S3 record into r.
func (s *scanner) record(r *fastRecord) bool {
	// keep reads the string value of field f into dst; obj reads the
	// members of object f. Each field is read once.
	keep := func(dst *[]byte, f uint16) bool {
		v, ok := s.value()
		*dst = v
		return ok && once(&r.seen, f)
	}
	obj := func(f uint16, fields []string, member func(i int) bool) bool {
		return once(&r.seen, f) && s.lit('{') && s.object(fields, member)
	}
	if !s.lit('{') {
		return false
	}
	return s.object(recordFields, func(i int) bool {
		switch recordFields[i] {
		case "eventSource":
			return keep(&r.source, fSource)
		case "eventName":
			return keep(&r.name, fName)
		case "eventTime":
			return keep(&r.time, fTime)
		case "s3":
			r.hasS3 = true
			return obj(fS3, s3Fields, func(i int) bool {
				if s3Fields[i] == "bucket" {
					return obj(fBucket, bucketFields, func(int) bool { return keep(&r.bucket, fBucketName) })
				}
				return obj(fObject, objectFields, func(i int) bool {
					switch objectFields[i] {
					case "key":
						return keep(&r.key, fKey)
					case "size":
						var ok bool
						r.size, ok = s.integer()
						return ok && once(&r.seen, fSize)
					case "eTag":
						return keep(&r.etag, fETag)
					case "versionId":
						return keep(&r.version, fVersion)
					}
					return keep(&r.sequencer, fSequencer)
				})
			})
		}
		return false // messageId, body, Sns: an SQS or SNS record
	})
}

// integer reads a JSON number that is an integer int64 holds.
func (s *scanner) integer() ([]byte, bool) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.b[start:s.i]
	switch {
	case s.i == digits, s.b[digits] == '0' && s.i-digits > 1:
		return nil, false
	case s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E'):
		return nil, false
	}
	if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
		return nil, false
	}
	return n, true
}

// maxSkipDepth bounds the nesting of a value the fast path skips; deeper
// ones go to the general decoder.
const maxSkipDepth = 32

// skip reads a value the decoder does not keep, checking its syntax as
// the general decoder does.
func (s *scanner) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"' || c == '\\':
		return s.skipString()
	case c == '{':
		s.i++
		if s.lit('}') {
			return true
		}
		for {
			if s.ws(); !s.skipString() || !s.lit(':') || !s.skip(depth+1) {
				return false
			}
			if s.lit(',') {
				continue
			}
			return s.lit('}')
		}
	case c == '[':
		s.i++
		if s.lit(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.lit(',') {
				continue
			}
			return s.lit(']')
		}
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	}
	return false
}

func (s *scanner) word(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// skipString reads a string whose escapes are all valid; a \u escape of
// a surrogate is left to the general decoder. If q, it takes no escape.
func (s *scanner) skipString() bool {
	if s.q {
		_, ok := s.plainString() // it takes no escape but the quotes
		return ok
	}
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if j+1 >= len(s.b) {
				return false
			}
			switch s.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+6 > len(s.b) {
					return false
				}
				v, err := strconv.ParseUint(string(s.b[j+2:j+6]), 16, 16)
				if err != nil || (0xD800 <= v && v <= 0xDFFF) {
					return false
				}
				j += 5
			default:
				return false
			}
		}
	}
	return false
}

// number reads a JSON number.
func (s *scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
