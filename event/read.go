package event

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// A Sink takes the changes Read decodes, in order. Read numbers each
// change by its place in the sink: Record is Len before the Add.
type Sink interface {
	Add(c Change)
	Len() int
	// Truncate keeps the first n changes. Read drops what a payload added
	// when the rest of it turns out to be unreadable (a line of
	// newline-delimited input cut short), and adds one KindInvalid change
	// in its place, as Decode does.
	Truncate(n int)
}

// list is the Sink Decode and ReadAll fill.
type list []Change

func (l *list) Add(c Change)   { *l = append(*l, c) }
func (l *list) Len() int       { return len(*l) }
func (l *list) Truncate(n int) { clear((*l)[n:]); *l = (*l)[:n] }

// ErrEmpty is Read's error for an input with nothing but white space.
var ErrEmpty = errors.New("event: the input is empty")

// Read decodes a stream of events into s: one payload (any envelope Decode
// reads), a JSON array of payloads, or one payload per line. It reads the
// stream once, as it comes, holding one record of it at a time (one line,
// for newline-delimited input), so memory grows with the changes s keeps,
// not with the input.
//
// Each payload is decoded as Decode does it: what cannot be read becomes
// KindInvalid changes and the rest goes on. So does a line that is not JSON
// in newline-delimited input: it fails alone, as one KindInvalid change
// saying "line N". An invalid change names where it is: its line, or its
// place in the array ("[2]."), then its path in the payload ("line 3:
// Records[0].s3.object.key is missing"). The first payload of
// newline-delimited input names no line unless it is not JSON: Read knows
// the input has lines only once that payload has ended, its changes
// already in s. The error is for what leaves the rest unreadable: a read
// that failed, a document over several lines that is not JSON (a first line
// cut short so that it runs into the next is one), or nothing at all
// (ErrEmpty).
func Read(r io.Reader, s Sink) error {
	lr := &lineCounter{r: r, firstNL: -1, pendingNL: -1}
	br := bufio.NewReaderSize(lr, 64<<10)
	first, err := skipSpace(br)
	if err == io.EOF {
		return ErrEmpty
	}
	if err != nil {
		return fmt.Errorf("event: read: %w", err)
	}
	d := newDecoder(s)
	dec := jsontext.NewDecoder(br, decodeOptions...)
	if first == '[' {
		return d.array(dec)
	}
	// The first value says which form this is: alone, it is the document;
	// followed by more, it was the first line.
	mark := s.Len()
	if err := d.payload(dec, "", 0); err != nil {
		var se *jsontext.SyntacticError
		if !errors.As(err, &se) || (lr.firstNL >= 0 && lr.firstNL < se.ByteOffset) {
			return streamError(err)
		}
		// Within the first line: a bad line, read as the others are.
		s.Truncate(mark)
		d.rootKind, d.rootN = 'l', 1
		d.invalid("", "%s", prefixed(d.where(0, -1, ""), "not a JSON object: "+jsonError(err)))
		rest := restOfLine(dec.UnreadBuffer(), se.ByteOffset-dec.InputOffset())
		return d.lines(bufio.NewReader(io.MultiReader(bytes.NewReader(rest), br)), 2, rest == nil)
	}
	// The line the first value ends on: the newlines read, less those the
	// decoder and br hold unread.
	unread := dec.UnreadBuffer()
	buffered, _ := br.Peek(br.Buffered())
	line := 1 + int(lr.newlines) - bytes.Count(unread, nl) - bytes.Count(buffered, nl)
	rest := bufio.NewReader(io.MultiReader(bytes.NewReader(bytes.Clone(unread)), br))
	return d.lines(rest, line, false)
}

// ReadAll reads r as Read does and returns its changes.
func ReadAll(r io.Reader) ([]Change, error) {
	var l list
	err := Read(r, &l)
	return l, err
}

// array reads a JSON array of payloads, each decoded as Decode does.
func (d *decoder) array(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != nil {
		return streamError(err)
	}
	for i := 0; dec.PeekKind() != ']'; i++ {
		d.rootKind, d.rootN = 'a', i
		if err := d.payload(dec, "", 0); err != nil {
			return streamError(err)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return streamError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return errors.New("event: more after the array of payloads")
		}
		return streamError(err)
	}
	return nil
}

// lines reads the rest of the input as one payload per line, numbering
// from line; skip drops the rest of the current line first.
func (d *decoder) lines(br *bufio.Reader, line int, skip bool) error {
	l := &lineReader{br: br}
	if skip {
		if err := l.skip(); err != nil {
			return err
		}
	}
	dec := d.decs[0]
	if dec == nil {
		dec = jsontext.NewDecoder(l, decodeOptions...)
		d.decs[0] = dec
	}
	for ; ; line++ {
		more, blank, err := l.next()
		if err != nil {
			return fmt.Errorf("event: read: %w", err)
		}
		if !more {
			return nil
		}
		if blank {
			continue
		}
		dec.Reset(l, decodeOptions...)
		d.rootKind, d.rootN = 'l', line
		mark := d.sink.Len()
		err = d.payload(dec, "", 0)
		if err == nil {
			err = atEOF(dec)
		}
		if err != nil {
			var se *jsontext.SyntacticError
			if !errors.As(err, &se) && err != errTrailing {
				return streamError(err)
			}
			d.sink.Truncate(mark)
			d.invalid("", "%s", prefixed(d.where(0, -1, ""), "not a JSON object: "+jsonError(err)))
		}
		if err := l.skip(); err != nil {
			return fmt.Errorf("event: read: %w", err)
		}
	}
}

func streamError(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Errorf("event: not JSON: %s", jsonError(err))
	}
	return fmt.Errorf("event: read: %w", err)
}

// restOfLine returns what follows the first newline at or after off in
// buf, or nil if there is none.
func restOfLine(buf []byte, off int64) []byte {
	off = max(0, min(off, int64(len(buf))))
	i := bytes.IndexByte(buf[off:], '\n')
	if i < 0 {
		return nil
	}
	return bytes.Clone(buf[int(off)+i+1:])
}

func skipSpace(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(c) {
			return c, br.UnreadByte()
		}
	}
}

var nl = []byte{'\n'}

// lineCounter counts the newlines read through it, and notes the offset of
// the first one that ends a line of content and has more content after it:
// where the first line ends, if there are two.
type lineCounter struct {
	r         io.Reader
	n         int64 // bytes read
	newlines  int64
	content   bool  // a byte other than white space was read
	pendingNL int64 // a newline after content, not yet followed by more; -1: none
	firstNL   int64 // -1: not found yet
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	b := p[:n]
	c.newlines += int64(bytes.Count(b, nl))
	for i := 0; c.firstNL < 0 && i < len(b); {
		if !c.content || c.pendingNL >= 0 {
			// Past white space to content.
			for i < len(b) && isSpace(b[i]) {
				i++
			}
			if i == len(b) {
				break
			}
			if c.pendingNL >= 0 {
				c.firstNL = c.pendingNL
				break
			}
			c.content = true
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		c.pendingNL = c.n + int64(i+j)
		i += j + 1
	}
	c.n += int64(n)
	return n, err
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lineReader reads one line of br, the newline included, then io.EOF: a
// decoder reading it cannot run into the next line.
type lineReader struct {
	br   *bufio.Reader
	done bool
}

// next starts the next line, reporting false at the end of the input and
// whether the line is blank (then read already).
func (l *lineReader) next() (more, blank bool, err error) {
	l.done = false
	for {
		c, err := l.br.ReadByte()
		switch {
		case err == io.EOF:
			return false, false, nil
		case err != nil:
			return false, false, err
		case c == '\n':
			return true, true, nil
		case c == ' ' || c == '\t' || c == '\r':
			continue
		}
		return true, false, l.br.UnreadByte()
	}
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.br.Buffered() == 0 {
		if _, err := l.br.Peek(1); err != nil {
			l.done = true
			return 0, err
		}
	}
	b, _ := l.br.Peek(min(len(p), l.br.Buffered()))
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b, l.done = b[:i+1], true
	}
	n := copy(p, b)
	l.br.Discard(n)
	return n, nil
}

// skip drops the rest of the line.
func (l *lineReader) skip() error {
	for !l.done {
		_, err := l.br.ReadSlice('\n')
		switch {
		case err == nil:
			l.done = true
		case err == io.EOF:
			l.done = true
			return nil
		case err != bufio.ErrBufferFull:
			return err
		}
	}
	return nil
}
