package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/offload-dev/offload/internal/eventgen"
)

// decodeBoth decodes payload with the fast path and without it.
func decodeBoth(payload []byte) (fast, general []Change) {
	fastPath = false
	general = DecodeMessage("m-1", payload)
	fastPath = true
	fast = DecodeMessage("m-1", payload)
	return fast, general
}

// taken reports whether the fast path reads payload.
func taken(payload []byte) bool {
	var l list
	return newDecoder(&l).fastS3(payload, false, "m-1", 0)
}

// fastSeeds are S3 payloads, as S3 and MinIO send them and as they should
// not be, each beside the general decoder's reading.
func fastSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, lean := range []bool{true, false} {
		o := eventgen.Options{Lean: lean}
		for i := range 3 {
			seeds = append(seeds, o.Body(i))
		}
	}
	for _, name := range []string{"s3-put.json", "minio-webhook.json", "sns.json", "sqs-mixed.json", "s3-test-event.json", "eventbridge-created.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	rec := func(fields string) []byte { return []byte(`{"Records":[{` + fields + `}]}`) }
	good := `"eventSource":"aws:s3","eventTime":"2026-11-20T10:00:00Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b-1"},"object":{"key":"a+b%2F%C3%BC","size":7,"eTag":"e1","sequencer":"0A"}}`
	for _, fields := range []string{
		good,
		good + `,"eventName":"ObjectRemoved:Delete"`,                           // repeated: the last wins
		strings.Replace(good, `"eventName"`, `"EventName"`, 1),                 // case
		strings.Replace(good, `"eventName"`, `"\u0065ventName"`, 1),            // escaped name
		strings.Replace(good, `"size":7`, `"size":7.0`, 1),                     // not an integer
		strings.Replace(good, `"size":7`, `"size":1e3`, 1),                     // nor this
		strings.Replace(good, `"size":7`, `"size":-7`, 1),                      // negative
		strings.Replace(good, `"size":7`, `"size":-0`, 1),                      // zero
		strings.Replace(good, `"size":7`, `"size":07`, 1),                      // not JSON
		strings.Replace(good, `"size":7`, `"size":99999999999999999999`, 1),    // over int64
		strings.Replace(good, `"size":7`, `"size":"7"`, 1),                     // a string
		strings.Replace(good, `"size":7`, `"size":null`, 1),                    // null
		strings.Replace(good, `"key":"a+b%2F%C3%BC"`, `"key":"a\"b"`, 1),       // escape in a value
		strings.Replace(good, `"key":"a+b%2F%C3%BC"`, "\"key\":\"a\xffb\"", 1), // not UTF-8
		strings.Replace(good, `"key":"a+b%2F%C3%BC"`, `"key":"ü"`, 1),          // UTF-8
		strings.Replace(good, `"key":"a+b%2F%C3%BC"`, `"key":""`, 1),           // empty
		strings.Replace(good, `"key":"a+b%2F%C3%BC",`, ``, 1),                  // missing
		strings.Replace(good, `"key":"a+b%2F%C3%BC"`, `"key":"%zz"`, 1),        // not URL-encoded
		strings.Replace(good, `"name":"b-1"`, `"name":"B_1"`, 1),               // not a bucket name
		strings.Replace(good, `"name":"b-1"`, `"name":""`, 1),                  // empty bucket
		strings.Replace(good, `"eventTime":"2026-11-20T10:00:00Z"`, `"eventTime":"yesterday"`, 1),
		strings.Replace(good, `"eventSource":"aws:s3"`, `"eventSource":"aws:sqs"`, 1),
		strings.Replace(good, `"s3":{`, `"s3":null,"x":{`, 1),
		strings.Replace(good, `"bucket":{"name":"b-1"}`, `"bucket":{"name":"b-1","arn":{"a":[1,2.5e-3,true,false,null,"\u00e9\n"]}}`, 1), // skipped values
		strings.Replace(good, `"bucket":{"name":"b-1"}`, `"bucket":{"name":"b-1","x":"\ud800"}`, 1),                                      // a lone surrogate, skipped
		strings.Replace(good, `"bucket":{"name":"b-1"}`, `"bucket":{"name":"b-1","x":"\q"}`, 1),                                          // a bad escape, skipped
		`"eventName":"ObjectCreated:Put"`,                                                                                                // no s3
		good + `,"messageId":"x","body":"{}"`,
		good + `,"Sns":{"Message":"{}"}`,
		good + `,"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, // deep
	} {
		seeds = append(seeds, rec(fields))
	}
	seeds = append(seeds,
		[]byte(`{"Records":[]}`),
		[]byte(`{"Records":[{`+good+`},{`+good+`}]}  `),
		[]byte(`{"Records":[{`+good+`}]} x`),
		[]byte(`{"Records":[{`+good+`}],"Records":[]}`),
		[]byte(`{"records":[{`+good+`}]}`),
		[]byte(` { "Records" : [ { `+strings.ReplaceAll(good, ",", " ,\n\t")+` } ] } `),
	)
	return seeds
}

// The fast path reads what S3 and MinIO send: it is not a path no payload
// takes.
func TestFastPathTakesS3Payloads(t *testing.T) {
	for _, lean := range []bool{true, false} {
		if b := (eventgen.Options{Lean: lean}).Body(3); !taken(b) {
			t.Errorf("lean %v: the fast path did not take %s", lean, b)
		}
	}
	b, err := os.ReadFile("testdata/minio-webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	// MinIO's webhook wraps the records in its own envelope (EventName,
	// Key): that is for the general decoder.
	if taken(b) {
		t.Errorf("the fast path took MinIO's envelope")
	}
}

// The fast path reads every payload as the general decoder does, or
// leaves it to it: the seeds, and many payloads cut from them.
func TestFastPathIsTheGeneralDecoder(t *testing.T) {
	defer func() { fastPath = true }()
	check := func(payload []byte) {
		t.Helper()
		fast, general := decodeBoth(payload)
		if !reflect.DeepEqual(fast, general) {
			t.Fatalf("payload %q:\nfast path: %+v\ngeneral:   %+v", payload, fast, general)
		}
	}
	seeds := fastSeeds(t)
	took := 0
	for _, s := range seeds {
		check(s)
		if taken(s) {
			took++
		}
	}
	if took < 10 {
		t.Errorf("the fast path took %d of %d seeds, want at least 10", took, len(seeds))
	}
	// Mutations: a byte changed, inserted or removed, a run repeated.
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}[],:\"\\ \t\nu0123456789.eE+-abnrtfl\x00\x7f\xc3\xbc\xff")
	mutated, mutatedTaken := 0, 0
	for _, s := range seeds {
		for range 300 {
			m := bytes.Clone(s)
			for range 1 + rnd.IntN(3) {
				if len(m) == 0 {
					break
				}
				i := rnd.IntN(len(m))
				switch rnd.IntN(4) {
				case 0:
					m[i] = alphabet[rnd.IntN(len(alphabet))]
				case 1:
					m = append(m[:i], append([]byte{alphabet[rnd.IntN(len(alphabet))]}, m[i:]...)...)
				case 2:
					m = append(m[:i], m[i+1:]...)
				case 3:
					j := i + rnd.IntN(min(16, len(m)-i))
					m = append(m[:j], append(bytes.Clone(m[i:j]), m[j:]...)...)
				}
			}
			check(m)
			mutated++
			if taken(m) {
				mutatedTaken++
			}
		}
	}
	t.Logf("%d seeds (%d fast), %d mutations (%d fast)", len(seeds), took, mutated, mutatedTaken)

	// The same, each the body of an SQS message, which the fast path
	// reads as it is, escaped; mutated as sent, escapes and all.
	mutated, mutatedTaken = 0, 0
	for _, s := range seeds {
		q, err := json.Marshal(string(s))
		if err != nil {
			t.Fatal(err)
		}
		prefix := `{"Records":[{"messageId":"m-2","eventSource":"aws:sqs","body":`
		msg := []byte(prefix + string(q) + `}]}`)
		check(msg)
		for range 300 {
			m := bytes.Clone(msg)
			for range 1 + rnd.IntN(2) {
				i := len(prefix) + 1 + rnd.IntN(len(q)-2) // within the body
				if i >= len(m) {
					continue
				}
				switch rnd.IntN(3) {
				case 0:
					m[i] = alphabet[rnd.IntN(len(alphabet))]
				case 1:
					m = append(m[:i], append([]byte{alphabet[rnd.IntN(len(alphabet))]}, m[i:]...)...)
				case 2:
					m = append(m[:i], m[i+1:]...)
				}
			}
			check(m)
			mutated++
			if quotedTaken(m) {
				mutatedTaken++
			}
		}
	}
	t.Logf("as SQS bodies: %d mutations (%d fast)", mutated, mutatedTaken)
	if mutatedTaken < 100 {
		t.Errorf("the fast path took %d mutated SQS bodies, want at least 100", mutatedTaken)
	}
}

// quotedTaken reports whether the fast path reads the body of the one
// message in msg as it is, escaped.
func quotedTaken(msg []byte) bool {
	var m struct {
		Records []struct{ Body json.RawMessage }
	}
	if json.Unmarshal(msg, &m) != nil || len(m.Records) != 1 || len(m.Records[0].Body) < 2 || m.Records[0].Body[0] != '"' {
		return false
	}
	b := m.Records[0].Body
	var l list
	return newDecoder(&l).fastS3(b[1:len(b)-1], true, "m-2", 1)
}

// FuzzFastPath: go test -fuzz FuzzFastPath ./event extends the mutations.
func FuzzFastPath(f *testing.F) {
	for _, s := range fastSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		defer func() { fastPath = true }()
		fast, general := decodeBoth(payload)
		if !reflect.DeepEqual(fast, general) {
			t.Fatalf("fast path: %+v\ngeneral:   %+v", fast, general)
		}
		// And as an SQS body: escaped, which the fast path reads as it is.
		q, _ := json.Marshal(string(payload))
		fast, general = decodeBoth([]byte(`{"Records":[{"messageId":"m-2","eventSource":"aws:sqs","body":` + string(q) + `}]}`))
		if !reflect.DeepEqual(fast, general) {
			t.Fatalf("as an SQS body: fast path: %+v\ngeneral:   %+v", fast, general)
		}
	})
}

// The strings of changes are cut from blocks the decoder goes on
// appending to: each stays as it was made, across many blocks.
func TestChangesKeepTheirStrings(t *testing.T) {
	const n = 3000 // about 300 KB of strings: many blocks
	var b bytes.Buffer
	o := eventgen.Options{}
	if err := eventgen.WriteSQS(&b, n, o); err != nil {
		t.Fatal(err)
	}
	cs, err := ReadAll(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != n {
		t.Fatalf("got %d changes, want %d", len(cs), n)
	}
	for i, c := range cs {
		key, obj := o.Object(i)
		if c.Key != key || c.ETag != fmt.Sprintf("%032x", obj) || c.Sequencer != fmt.Sprintf("0065A1%012X", obj) || c.VersionID != fmt.Sprintf("%032d", obj) {
			t.Fatalf("change %d: got key %q etag %q sequencer %q version %q, want %q and object %d's", i, c.Key, c.ETag, c.Sequencer, c.VersionID, key, obj)
		}
	}
}
