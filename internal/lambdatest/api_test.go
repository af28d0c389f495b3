package lambdatest

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The API's answers to calls a well-behaved runtime does not make.
func TestAPI(t *testing.T) {
	p := newProcess(&Runtime{opts: Options{FunctionName: "fn", Region: "eu-west-1"}})
	srv := httptest.NewServer(p.handler())
	defer srv.Close()
	base := srv.URL + "/2018-06-01/runtime"

	post := func(path string, body io.Reader, trailer http.Header) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, body)
		req.Trailer = trailer
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// next dispatches one invocation and returns its request id.
	next := func(timeout time.Duration) (*invocation, http.Header) {
		t.Helper()
		inv := &invocation{id: newRequestID(), payload: []byte(`{"a":1}`), timeout: timeout, dispatched: make(chan struct{}), done: make(chan answer, 1)}
		go func() { p.pending <- inv }()
		resp, err := http.Get(base + "/invocation/next")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if b, _ := io.ReadAll(resp.Body); string(b) != `{"a":1}` || resp.StatusCode != http.StatusOK {
			t.Fatalf("next: got %d %s, want 200 and the payload", resp.StatusCode, b)
		}
		<-inv.dispatched
		return inv, resp.Header
	}

	if code, body := post("/invocation/nope/response", strings.NewReader("{}"), nil); code != http.StatusBadRequest || !strings.Contains(body, "InvalidRequestID") {
		t.Errorf("response for an unknown id: got %d %s, want 400 InvalidRequestID", code, body)
	}

	inv, h := next(2 * time.Second)
	if h.Get(HeaderRequestID) != inv.id || h.Get(HeaderInvokedFunctionARN) != "arn:aws:lambda:eu-west-1:123456789012:function:fn" ||
		!strings.HasPrefix(h.Get(HeaderTraceID), "Root=1-") {
		t.Errorf("next: got headers %v", h)
	}
	ms, _ := strconv.ParseInt(h.Get(HeaderDeadlineMS), 10, 64)
	if d := time.Until(time.UnixMilli(ms)); d < time.Second || d > 2*time.Second {
		t.Errorf("next: deadline in %s, want about 2s", d)
	}
	if code, body := post("/invocation/"+inv.id+"/response", strings.NewReader(`"ok"`), nil); code != http.StatusAccepted || body != `{"status":"OK"}` {
		t.Errorf("response: got %d %s, want 202", code, body)
	}
	if a := <-inv.done; string(a.body) != `"ok"` || a.isError {
		t.Errorf("got answer %+v, want the response", a)
	}
	if code, _ := post("/invocation/"+inv.id+"/response", strings.NewReader(`"again"`), nil); code != http.StatusBadRequest {
		t.Errorf("second response: got %d, want 400", code)
	}

	inv, _ = next(time.Second)
	code, _ := post("/invocation/"+inv.id+"/response", bytes.NewReader(make([]byte, MaxResponseSize+1)), nil)
	if a := <-inv.done; code != http.StatusRequestEntityTooLarge || !a.isError || !strings.Contains(string(a.body), "Function.ResponseSizeTooLarge") {
		t.Errorf("oversized response: got %d, %s, want 413 and a function error", code, a.body)
	}

	// aws-lambda-go sends a failed response stream's error in trailers.
	inv, _ = next(time.Second)
	trailer := http.Header{HeaderFunctionErrorType: nil, trailerErrorBody: nil}
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("partial"))
		trailer.Set(HeaderFunctionErrorType, "ReadError")
		trailer.Set(trailerErrorBody, base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"broken","errorType":"ReadError"}`)))
		pw.Close()
	}()
	post("/invocation/"+inv.id+"/response", pr, trailer)
	if a := <-inv.done; !a.isError || !strings.Contains(string(a.body), "broken") {
		t.Errorf("response with an error trailer: got %+v, want the trailer's error", a)
	}

	if code, _ := post("/init/error", strings.NewReader(`{}`), nil); code != http.StatusForbidden {
		t.Errorf("init/error after next: got %d, want 403", code)
	}
}
