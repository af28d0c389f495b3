// Package jsonstream writes a JSON object to an io.Writer member by member,
// a list item by item, the way encoding/json would write the whole value
// (its field order, escaping and omitempty): a plan of 100,000 changes goes
// out as it is written, not built in memory first.
package jsonstream

import (
	"io"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Object writes one JSON object, then a newline, as json.Encoder's Encode
// does.
type Object struct {
	enc *jsontext.Encoder
	err error
}

// NewObject starts an object on w: compact, or indented by two spaces.
func NewObject(w io.Writer, indent bool) *Object {
	opts := []jsontext.Options{jsonv1.DefaultOptionsV1()}
	if indent {
		opts = append(opts, jsontext.WithIndent("  "))
	}
	o := &Object{enc: jsontext.NewEncoder(w, opts...)}
	o.token(jsontext.BeginObject)
	return o
}

func (o *Object) token(t jsontext.Token) {
	if o.err == nil {
		o.err = o.enc.WriteToken(t)
	}
}

// Value writes a member.
func (o *Object) Value(name string, v any) {
	o.token(jsontext.String(name))
	if o.err == nil {
		o.err = json.MarshalEncode(o.enc, v)
	}
}

// List writes a member that is a list of n items, item(i) giving each:
// [] when there are none.
func List[T any](o *Object, name string, n int, item func(i int) *T) {
	o.token(jsontext.String(name))
	o.token(jsontext.BeginArray)
	for i := 0; i < n && o.err == nil; i++ {
		o.err = json.MarshalEncode(o.enc, item(i))
	}
	o.token(jsontext.EndArray)
}

// Close ends the object and returns the first error writing it.
func (o *Object) Close() error {
	o.token(jsontext.EndObject)
	return o.err
}
