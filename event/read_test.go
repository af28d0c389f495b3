package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/internal/eventgen"
)

// decodeAll is what Read should give for payloads read one by one with
// Decode: their changes in order, numbered across all of them.
func decodeAll(payloads ...[]byte) []event.Change {
	var out []event.Change
	for _, p := range payloads {
		for _, c := range event.Decode(p) {
			c.Record = len(out)
			out = append(out, c)
		}
	}
	return out
}

func TestReadForms(t *testing.T) {
	sqs, sns, put := load(t, "sqs-mixed.json"), load(t, "sns.json"), load(t, "s3-put.json")
	compact := func(b []byte) []byte {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name  string
		input string
		want  []event.Change
	}{
		{"one document over many lines", string(sqs), decodeAll(sqs)},
		{"one document on one line, no newline at the end", string(compact(sqs)), decodeAll(sqs)},
		{"white space around it", "\n\n  " + string(sns) + "\n\n", decodeAll(sns)},
		{"an array of payloads over many lines", "[\n" + string(sqs) + ",\n" + string(sns) + "\n]\n", decodeAll(sqs, sns)},
		{"an empty array", "[]", nil},
		{"one payload a line", string(compact(sqs)) + "\n" + string(compact(sns)) + "\r\n\n" + string(compact(put)), decodeAll(sqs, sns, put)},
		{"a payload that is not an envelope fails alone", string(compact(sns)) + "\n{\"hello\":1}\n" + string(compact(put)) + "\n", decodeAll(sns, []byte(`{"hello":1}`), put)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := event.ReadAll(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !same(got, tt.want) {
				t.Errorf("got %+v,\nwant %+v", briefs(got), briefs(tt.want))
			}
			for i, c := range got {
				if c.Record != i {
					t.Errorf("change %d: got Record %d, want %d", i, c.Record, i)
				}
			}
		})
	}
}

// A line of newline-delimited input that is not JSON fails alone, as an
// invalid change that names its line; the lines around it are read.
func TestReadBadLineFailsAlone(t *testing.T) {
	sns, put := compactFixture(t, "sns.json"), compactFixture(t, "s3-put.json")
	tests := []struct {
		name    string
		input   string
		wantErr string // of the invalid change
		before  []byte // the payloads around it
		after   []byte
	}{
		{"cut short in the middle", sns + "\n" + `{"Records":[{"eventSource":"aws:s3",` + "\n" + put + "\n", "line 2: not a JSON object", []byte(sns), []byte(put)},
		{"not JSON at all, in the middle", sns + "\n\nhello\n" + put, "line 3: not a JSON object", []byte(sns), []byte(put)},
		{"two values on a line", sns + "\n{} {}\n" + put, "line 2: not a JSON object", []byte(sns), []byte(put)},
		{"the first line", "hello\n" + sns + "\n" + put, "line 1: not a JSON object", nil, []byte(sns + "\n" + put)},
		{"the first line, cut short inside a record", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},{"x` + "\n" + sns, "line 1: not a JSON object", nil, []byte(sns)},
		{"the last line, cut short", sns + "\n" + put + "\n" + `{"Records":[`, "line 3: not a JSON object", []byte(sns + "\n" + put), nil},
		{"one line only, cut short, a newline after it", `{"Records":[` + "\n", "line 1: not a JSON object", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := event.ReadAll(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			before, after := readLines(t, tt.before), readLines(t, tt.after)
			if len(got) != len(before)+1+len(after) {
				t.Fatalf("got %d changes %+v, want %d before the bad line, 1 for it, %d after", len(got), briefs(got), len(before), len(after))
			}
			bad := got[len(before)]
			if bad.Kind != event.KindInvalid || !strings.Contains(bad.Err, tt.wantErr) {
				t.Errorf("the bad line: got %s %q, want invalid, saying %q", bad.Kind, bad.Err, tt.wantErr)
			}
			if !same(got[:len(before)], before) {
				t.Errorf("before it: got %+v, want %+v", briefs(got[:len(before)]), briefs(before))
			}
			for i := range after {
				after[i].Record += len(before) + 1
			}
			if !same(got[len(before)+1:], after) {
				t.Errorf("after it: got %+v, want %+v", briefs(got[len(before)+1:]), briefs(after))
			}
		})
	}
}

// readLines reads newline-delimited payloads the way Read should.
func readLines(t *testing.T, b []byte) []event.Change {
	var ps [][]byte
	for l := range bytes.Lines(b) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			ps = append(ps, l)
		}
	}
	return decodeAll(ps...)
}

func TestReadErrors(t *testing.T) {
	sqs := load(t, "sqs-mixed.json")
	broken := bytes.Replace(sqs, []byte(`"m-test"`), []byte(`"m-test" x`), 1)
	tests := []struct {
		name  string
		input io.Reader
		want  string
	}{
		{"nothing", strings.NewReader(""), event.ErrEmpty.Error()},
		{"white space", strings.NewReader(" \n\t\r\n"), event.ErrEmpty.Error()},
		{"a document over many lines, broken on one", bytes.NewReader(broken), `event: not JSON: invalid character 'x' after object value (expecting ',' or '}') within "/Records/2"`},
		{"an array, broken", strings.NewReader("[{}, x]"), "event: not JSON: invalid character 'x'"},
		{"an array, cut short", strings.NewReader("[{}, "), "event: not JSON: unexpected EOF"},
		{"an array with more after it", strings.NewReader("[{}]\n{}"), "event: more after the array"},
		{"a read that fails", io.MultiReader(bytes.NewReader(sqs[:100]), iotest.ErrReader(errors.New("disk on fire"))), "event: read: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := event.ReadAll(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one saying %q", err, tt.want)
			}
		})
	}
	_, err := event.ReadAll(strings.NewReader(""))
	if !errors.Is(err, event.ErrEmpty) {
		t.Errorf("empty input: got %v, want ErrEmpty", err)
	}
}

// counter is a Sink that keeps nothing but a count, and samples the heap.
type counter struct {
	n, peak int
}

func (c *counter) Add(event.Change) {
	c.n++
	if c.n%5000 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		c.peak = max(c.peak, int(ms.HeapAlloc))
	}
}
func (c *counter) Len() int       { return c.n }
func (c *counter) Truncate(n int) { c.n = n }

// Read holds one record of its input at a time: 100,000 SQS messages
// (tens of megabytes) streamed through a pipe into a sink that keeps
// nothing never make the heap a fraction of the input's size.
func TestReadStreams(t *testing.T) {
	const n = 100000
	o := eventgen.Options{Lean: true}
	for _, tt := range []struct {
		name  string
		write func(io.Writer, int, eventgen.Options) error
	}{{"one document", eventgen.WriteSQS}, {"one payload a line", eventgen.WriteLines}} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			cw := &countWriter{w: pw}
			go func() { pw.CloseWithError(tt.write(cw, n, o)) }()
			runtime.GC()
			var c counter
			if err := event.Read(pr, &c); err != nil {
				t.Fatal(err)
			}
			if c.n != n {
				t.Fatalf("got %d changes, want %d", c.n, n)
			}
			t.Logf("peak heap %d, input %d", c.peak, cw.n)
			if limit := cw.n / 4; c.peak > limit {
				t.Errorf("got a heap of %d bytes while reading %d, want at most %d", c.peak, cw.n, limit)
			}
		})
	}
}

type countWriter struct {
	w io.Writer
	n int
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// The changes a line added before it turned out to be unreadable are
// dropped from the sink, not left beside the invalid change.
func TestReadTruncatesTheSink(t *testing.T) {
	line := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},`
	got, err := event.ReadAll(strings.NewReader(compactFixture(t, "sns.json") + "\n" + line + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Kind != event.KindInvalid {
		t.Errorf("got %+v, want the SNS change and one invalid change", briefs(got))
	}
}

func compactFixture(t *testing.T, name string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, load(t, name)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Decoding one SQS event of 10,000 messages, each an S3 notification: the
// jsontext decoder, and the encoding/json one it replaced (with the
// json.Valid pass `offload plan` made before it), side by side.
func BenchmarkDecodeSQS10k(b *testing.B) {
	for _, shape := range []struct {
		name string
		o    eventgen.Options
	}{{"full", eventgen.Options{}}, {"lean", eventgen.Options{Lean: true}}} {
		payload := eventgen.SQS(10000, shape.o)
		for _, dec := range []struct {
			name string
			fn   func([]byte) int
		}{
			{"jsontext", func(p []byte) int { return len(event.Decode(p)) }},
			{"jsontext-stream", func(p []byte) int {
				var c counter
				event.Read(bytes.NewReader(p), &c)
				return c.n
			}},
			{"encoding-json-before", func(p []byte) int {
				if !json.Valid(p) {
					return 0
				}
				return len(event.RefDecode(p))
			}},
		} {
			b.Run(shape.name+"/"+dec.name, func(b *testing.B) {
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				for b.Loop() {
					if n := dec.fn(payload); n != 10000 {
						b.Fatalf("got %d changes, want 10000", n)
					}
				}
			})
		}
	}
}
