// Package jsonstream writes a JSON object to an io.Writer member by member,
// a list item by item, byte for byte as encoding/json would write the whole
// value (its field order, escaping and omitempty; json.Indent's layout when
// indented): a plan of 100,000 changes goes out as it is made, not built in
// memory first.
package jsonstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Object writes one JSON object, then a newline, as json.Encoder's Encode
// does.
type Object struct {
	w       *bufio.Writer
	indent  bool
	members int
	enc     *jsontext.Encoder // marshals into val
	val     bytes.Buffer
	item    []byte
	err     error
}

// encoding/json's rules, through the faster encoder of its v2.
var v1 = []jsontext.Options{jsonv1.DefaultOptionsV1()}

// NewObject starts an object on w: compact, or indented by two spaces.
func NewObject(w io.Writer, indent bool) *Object {
	o := &Object{w: bufio.NewWriterSize(w, 64<<10), indent: indent}
	o.enc = jsontext.NewEncoder(&o.val, v1...)
	o.w.WriteByte('{')
	return o
}

func (o *Object) name(name string) {
	if o.members > 0 {
		o.w.WriteByte(',')
	}
	o.members++
	if o.indent {
		o.w.WriteString("\n  ")
	}
	o.w.WriteByte('"')
	o.w.WriteString(name) // the callers' names need no escaping
	o.w.WriteString(`":`)
	if o.indent {
		o.w.WriteByte(' ')
	}
}

// marshal returns v as encoding/json writes it, good until the next call.
func (o *Object) marshal(v any) []byte {
	o.val.Reset()
	o.enc.Reset(&o.val, v1...)
	if err := jsonv2.MarshalEncode(o.enc, v); err != nil && o.err == nil {
		o.err = err
	}
	return bytes.TrimSuffix(o.val.Bytes(), []byte{'\n'})
}

// write writes a value at depth 1 (a member) or 2 (a list item).
func (o *Object) write(v []byte, depth int) {
	if !o.indent {
		o.w.Write(v)
		return
	}
	o.item = o.item[:0]
	b := bytes.NewBuffer(o.item)
	json.Indent(b, v, "    "[:2*depth], "  ")
	o.item = b.Bytes()
	o.w.Write(o.item)
}

// Value writes a member.
func (o *Object) Value(name string, v any) {
	o.name(name)
	o.write(o.marshal(v), 1)
}

// List writes a member that is a list of n items, item(i) giving each
// ([] when there are none).
func List[T any](o *Object, name string, n int, item func(i int) *T) {
	ListAppend(o, name, n, func(b []byte, i int) []byte { return append(b, o.marshal(item(i))...) })
}

// ListAppend is List for items that append themselves, as encoding/json
// would write them, to b.
func ListAppend(o *Object, name string, n int, item func(b []byte, i int) []byte) {
	o.name(name)
	o.w.WriteByte('[')
	var b []byte
	for i := range n {
		if i > 0 {
			o.w.WriteByte(',')
		}
		if o.indent {
			o.w.WriteString("\n    ")
		}
		b = item(b[:0], i)
		o.write(b, 2)
	}
	if n > 0 && o.indent {
		o.w.WriteString("\n  ")
	}
	o.w.WriteByte(']')
}

// ListStream is ListAppend for items that may be long (a purge batch of
// 100,000 URLs): item may hand what it has appended so far to flush, which
// writes it and returns b[:0], so that the item is never held whole.
// Indented, flush keeps it: json.Indent takes a whole value.
func ListStream(o *Object, name string, n int, item func(b []byte, i int, flush func([]byte) []byte) []byte) {
	flush := func(b []byte) []byte { return b }
	if !o.indent {
		flush = func(b []byte) []byte {
			o.w.Write(b)
			return b[:0]
		}
	}
	ListAppend(o, name, n, func(b []byte, i int) []byte { return item(b, i, flush) })
}

// Close ends the object, flushes it, and returns the first error.
func (o *Object) Close() error {
	if o.indent && o.members > 0 {
		o.w.WriteByte('\n')
	}
	o.w.WriteString("}\n")
	if err := o.w.Flush(); err != nil && o.err == nil {
		o.err = err
	}
	return o.err
}

// Appenders for items that write themselves, each as encoding/json does.

// String appends s quoted as encoding/json quotes it: <, > and & escaped
// for HTML, invalid UTF-8 as U+FFFD.
func String(b []byte, s string) []byte {
	if !plain(s) {
		q, _ := json.Marshal(s) // rare: let it say how
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Joined appends a+b as String does, without joining them first.
func Joined(b []byte, a, c string) []byte {
	if !plain(a) || !plain(c) {
		return String(b, a+c)
	}
	b = append(b, '"')
	b = append(b, a...)
	b = append(b, c...)
	return append(b, '"')
}

// plain reports whether String writes s as it is, between quotes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			return false
		}
	}
	return true
}

// plainByte says which bytes encoding/json writes as they are: a table
// read a byte, not seven comparisons.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// Member appends `,"name":` (no comma first if first).
func Member(b []byte, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// OptString appends the member name with s, after a member before it, or
// nothing if s is empty, as encoding/json does for a string field marked
// omitempty.
func OptString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return String(Member(b, name, false), s)
}

// Int appends n.
func Int(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// Ints appends a list of ints; nil is null, as encoding/json has it.
func Ints(b []byte, ns []int) []byte {
	if ns == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

// Strings appends a list of strings; nil is null.
func Strings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = String(b, s)
	}
	return append(b, ']')
}

// Time appends t as time.Time's MarshalJSON does (RFC 3339, years 0 to
// 9999, as event times are).
func Time(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// flushAt is how much an appender that can flush holds before it does.
const flushAt = 32 << 10

// BatchMembers appends the members of a plan.Batch as encoding/json writes
// them, from "target" to "requests", without the braces, each of its URLs
// after base, handing what it has to flush as it goes: plan's and
// pipeline's writers share it. A nil changes is null, as encoding/json
// writes it.
func BatchMembers(out []byte, target, provider string, paths []string, base string, urls []string, changes []int, requests int, flush func([]byte) []byte) []byte {
	out = String(Member(out, "target", true), target)
	out = String(Member(out, "provider", false), provider)
	for _, l := range [...]struct {
		name, base string
		items      []string
	}{{"paths", "", paths}, {"urls", base, urls}} {
		if len(l.items) == 0 {
			continue
		}
		out = append(Member(out, l.name, false), '[')
		for i, it := range l.items {
			if i > 0 {
				out = append(out, ',')
			}
			out = Joined(out, l.base, it)
			if len(out) > flushAt {
				out = flush(out)
			}
		}
		out = append(out, ']')
	}
	out = Member(out, "changes", false)
	if changes == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '[')
		for i, c := range changes {
			if i > 0 {
				out = append(out, ',')
			}
			out = strconv.AppendInt(out, int64(c), 10)
			if len(out) > flushAt {
				out = flush(out)
			}
		}
		out = append(out, ']')
	}
	return Int(Member(out, "requests", false), int64(requests))
}

// Flushing reports whether out has grown to where an appender flushes it.
func Flushing(out []byte) bool { return len(out) > flushAt }
