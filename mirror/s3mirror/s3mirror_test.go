package s3mirror_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/memtest"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/s3mirror"
	"github.com/offload-dev/offload/purge/purgetest"
)

func TestMain(m *testing.M) { os.Exit(awstest.RunMain(m)) }

var bucketSeq atomic.Int64

// env is a fresh bucket on the shared moto, reached through a counter (and
// a fault proxy when asked).
type env struct {
	s3      *s3.Client
	counter *awstest.Counter
	proxy   *awstest.FaultProxy
	bucket  string
}

func newEnv(t *testing.T, withProxy bool) *env {
	t.Helper()
	moto := awstest.SharedMoto(t)
	e := &env{counter: awstest.NewCounter(), bucket: fmt.Sprintf("mirror-%d-%d", time.Now().UnixNano()%1e6, bucketSeq.Add(1))}
	endpoint := moto.URL
	if withProxy {
		e.proxy = awstest.NewFaultProxy(moto.URL)
		t.Cleanup(e.proxy.Close)
		endpoint = e.proxy.URL
	}
	e.s3 = s3.NewFromConfig(awstest.Config(endpoint, e.counter), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatal(err)
	}
	e.counter.Reset()
	return e
}

func (e *env) get(t *testing.T, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, b
}

type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestPut(t *testing.T) {
	small := []byte("<h1>hello</h1>")
	const partSize = 5 << 20
	big, _ := io.ReadAll(memtest.Reader(12<<20 + 123))
	tests := []struct {
		name      string
		obj       mirror.Object
		data      []byte
		stream    bool  // hide Seek
		singleMax int64 // Options.SinglePutMax
		wantParts int   // UploadPart calls; 0: one PutObject
	}{
		{"small, known length", mirror.Object{Key: "docs/index.html", Size: int64(len(small)), ContentType: "text/html"}, small, false, 0, 0},
		{"small, unknown length", mirror.Object{Key: "a b/ü.txt", Size: -1}, small, true, 0, 0},
		{"empty", mirror.Object{Key: "empty", Size: 0}, nil, false, 0, 0},
		{"known length within SinglePutMax: one PUT", mirror.Object{Key: "single/known.bin", Size: int64(len(big))}, big, true, 0, 0},
		{"multipart, known length", mirror.Object{Key: "big/known.bin", Size: int64(len(big))}, big, true, s3mirror.NoSinglePut, 3},
		{"multipart, known length past SinglePutMax", mirror.Object{Key: "big/known2.bin", Size: int64(len(big))}, big, true, 12 << 20, 3},
		{"multipart, unknown length", mirror.Object{Key: "big/unknown.bin", Size: -1}, big, true, 0, 3},
		{"multipart, unknown length ending on a part boundary", mirror.Object{Key: "big/boundary.bin", Size: -1}, big[:2*partSize], true, 0, 2},
		{"unknown length within one part: one PUT", mirror.Object{Key: "single/unknown.bin", Size: -1}, big[:partSize-1], true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			c, err := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: e.bucket, Prefix: "/mirror/", PartSize: partSize, CacheControl: "max-age=60", SinglePutMax: tt.singleMax})
			if err != nil {
				t.Fatal(err)
			}
			var body io.Reader = bytes.NewReader(tt.data)
			if tt.stream {
				body = onlyReader{body}
			}
			if err := c.Put(context.Background(), tt.obj, body); err != nil {
				t.Fatalf("Put: got %v, want nil", err)
			}
			out, got := e.get(t, "mirror/"+tt.obj.Key)
			if sha256.Sum256(got) != sha256.Sum256(tt.data) {
				t.Errorf("object: got %d bytes, want %d, same digest", len(got), len(tt.data))
			}
			if tt.obj.ContentType != "" && aws.ToString(out.ContentType) != tt.obj.ContentType {
				t.Errorf("Content-Type: got %q, want %q", aws.ToString(out.ContentType), tt.obj.ContentType)
			}
			if got := aws.ToString(out.CacheControl); got != "max-age=60" {
				t.Errorf("Cache-Control: got %q, want %q", got, "max-age=60")
			}
			var parts, puts int
			for op, n := range e.counter.Counts() {
				switch {
				case strings.HasPrefix(op, "PUT ") && strings.Contains(op, "/big/"):
					parts += n // UploadPart is PUT with partNumber; counted by path
				case strings.HasPrefix(op, "PUT "):
					puts += n
				}
			}
			if tt.wantParts == 0 && (puts != 1 || parts != 0) {
				t.Errorf("requests: got %v, want one PutObject", e.counter)
			}
			if tt.wantParts > 0 && parts != tt.wantParts {
				t.Errorf("parts: got %d (%v), want %d", parts, e.counter, tt.wantParts)
			}
		})
	}
}

func TestUnsafeKeys(t *testing.T) {
	e := newEnv(t, false)
	c, _ := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: e.bucket, Prefix: "mirror"})
	for _, k := range []string{"../x", "/abs", "a/../../b", ""} {
		if err := c.Put(context.Background(), mirror.Object{Key: k, Size: 1}, strings.NewReader("x")); !errors.Is(err, mirror.ErrUnsafeKey) {
			t.Errorf("Put(%q): got %v, want ErrUnsafeKey", k, err)
		}
		if err := c.Delete(context.Background(), k); !errors.Is(err, mirror.ErrUnsafeKey) {
			t.Errorf("Delete(%q): got %v, want ErrUnsafeKey", k, err)
		}
	}
	if got := e.counter.Counts(); len(got) != 0 {
		t.Errorf("requests: got %v, want none", got)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, false)
	c, _ := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: e.bucket})
	if err := c.Put(context.Background(), mirror.Object{Key: "x", Size: 1}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := c.Delete(context.Background(), "x"); err != nil {
			t.Errorf("Delete %d: got %v, want nil", i, err)
		}
	}
	if _, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String("x")}); err == nil {
		t.Error("object still there after Delete")
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		bucket    string
		fault     *awstest.Fault
		stream    bool
		wantErr   string
		wantPuts  int
		wantWaits int
	}{
		{"no such bucket: final", "no-such-bucket-x", nil, false, "s3mirror: put s3://no-such-bucket-x/k: ", 1, 0},
		{"503 retried with a seekable body", "", &awstest.Fault{Times: 1, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."},
			false, "", 2, 1},
		// A stream of known size is read into a buffer first: retryable.
		{"503 retried with a stream of known size", "", &awstest.Fault{Times: 1, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."},
			true, "", 2, 1},
		// So is one of unknown size that fits in a part.
		{"503 retried with a stream of unknown size", "", &awstest.Fault{Times: 1, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."},
			true, "", 2, 1},
		{"access denied: final", "", &awstest.Fault{Times: 1, Status: 403, Code: "AccessDenied", Message: "Access Denied"},
			false, "AccessDenied", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true)
			bucket := e.bucket
			if tt.bucket != "" {
				bucket = tt.bucket
			}
			if tt.fault != nil {
				f := *tt.fault
				f.Op = "PUT /" + bucket + "/k"
				e.proxy.Inject(f)
			}
			sl := purgetest.NewSleeper()
			c, _ := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: bucket, Retry: sl.Policy()})
			var body io.Reader = strings.NewReader("data")
			if tt.stream {
				body = onlyReader{body}
			}
			size := int64(4)
			if strings.Contains(tt.name, "unknown size") {
				size = -1
			}
			err := c.Put(context.Background(), mirror.Object{Key: "k", Size: size}, body)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Put: got %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Put: got %v, want %q in it", err, tt.wantErr)
			}
			if got := e.counter.Count("PUT /" + bucket + "/k"); got != tt.wantPuts {
				t.Errorf("PutObject calls: got %d, want %d", got, tt.wantPuts)
			}
			if got := len(sl.Waits()); got != tt.wantWaits {
				t.Errorf("waits: got %d, want %d", got, tt.wantWaits)
			}
		})
	}
}

func TestNew(t *testing.T) {
	e := newEnv(t, false)
	for _, tt := range []struct {
		opts s3mirror.Options
		want string
	}{
		{s3mirror.Options{Bucket: "b"}, "s3mirror: bad configuration: Options.Client is required"},
		{s3mirror.Options{Client: e.s3}, "s3mirror: bad configuration: Options.Bucket is required"},
		{s3mirror.Options{Client: e.s3, Bucket: "b", PartSize: 1 << 20}, "Options.PartSize 1048576 is below S3's minimum"},
		{s3mirror.Options{Client: e.s3, Bucket: "b", Prefix: "a/../.."}, `Options.Prefix "a/../.." holds ".."`},
		{s3mirror.Options{Client: e.s3, Bucket: "b", Concurrency: -1}, "Options.Concurrency -1 is negative"},
		{s3mirror.Options{Client: e.s3, Bucket: "b", SinglePutMax: -2}, "Options.SinglePutMax -2: want a size, 0 (the default) or NoSinglePut"},
	} {
		if _, err := s3mirror.New(tt.opts); !errors.Is(err, s3mirror.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v): got %v, want ErrConfig with %q", tt.opts, err, tt.want)
		}
	}
}

// A body whose length differs from the size it was given is refused before
// anything is sent, and says so.
func TestPutSizeMismatch(t *testing.T) {
	e := newEnv(t, false)
	c, err := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: e.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		body string
		want string
	}{
		{"abc", "read body of 4 bytes: unexpected EOF"},
		{"abcde", "the body is longer than its size, 4 bytes"},
	} {
		err := c.Put(context.Background(), mirror.Object{Key: "k", Size: 4}, onlyReader{strings.NewReader(tt.body)})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("body %q: got %v, want %q in it", tt.body, err, tt.want)
		}
	}
	if n := e.counter.Count("PUT /" + e.bucket + "/k"); n != 0 {
		t.Errorf("PutObject calls: got %d, want 0", n)
	}
}

// A multipart upload sends each part again on its own when it fails with
// something worth retrying, and aborts the upload, leaving no part behind,
// when it cannot finish: a final error, or a body whose length differs from
// its size.
func TestMultipartFailures(t *testing.T) {
	const partSize = 5 << 20
	data, _ := io.ReadAll(memtest.Reader(12<<20 + 123))
	slowDown := &awstest.Fault{Times: 1, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."}
	tests := []struct {
		name      string
		fault     *awstest.Fault // on the object's PUTs (the parts) or, with faultOn "POST", create and complete
		faultOn   string
		body      []byte
		wantErr   string // "" for success
		wantPuts  int    // UploadPart requests
		wantWaits int
	}{
		{"a part's 503 is retried alone", slowDown, "PUT", data, "", 4, 1},
		{"create's 503 is retried", slowDown, "POST", data, "", 3, 1},
		// Parts go up two at a time: the one refused may be the first or the second.
		{"a part refused: aborted", &awstest.Fault{Times: 1, Status: 403, Code: "AccessDenied", Message: "Access Denied"}, "PUT", data,
			"s3mirror: upload part [12] of s3://.*AccessDenied", 0, 0},
		{"a body shorter than its size: aborted", nil, "", data[:len(data)-1], "read body of 12583035 bytes: unexpected EOF", 2, 0},
		{"a body longer than its size: aborted", nil, "", append(slices.Clip(data), 'x'), "the body is longer than its size, 12583035 bytes", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true)
			op := "PUT /" + e.bucket + "/big.bin"
			if tt.fault != nil {
				f := *tt.fault
				f.Op = tt.faultOn + " /" + e.bucket + "/big.bin"
				e.proxy.Inject(f)
			}
			sl := purgetest.NewSleeper()
			c, err := s3mirror.New(s3mirror.Options{Client: e.s3, Bucket: e.bucket, PartSize: partSize, SinglePutMax: s3mirror.NoSinglePut, Retry: sl.Policy()})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Put(context.Background(), mirror.Object{Key: "big.bin", Size: int64(len(data))}, onlyReader{bytes.NewReader(tt.body)})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Put: got %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !regexp.MustCompile(tt.wantErr).MatchString(err.Error())):
				t.Fatalf("Put: got %v, want it to match %q", err, tt.wantErr)
			}
			if tt.wantPuts > 0 {
				if got := e.counter.Count(op); got != tt.wantPuts {
					t.Errorf("UploadPart calls: got %d, want %d", got, tt.wantPuts)
				}
			}
			if got := len(sl.Waits()); got != tt.wantWaits {
				t.Errorf("waits: got %d, want %d", got, tt.wantWaits)
			}
			ups, lerr := e.s3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
			if lerr != nil {
				t.Fatal(lerr)
			}
			if n := len(ups.Uploads); n != 0 {
				t.Errorf("multipart uploads left: got %d, want 0 (aborted or completed)", n)
			}
			_, herr := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String("big.bin")})
			if tt.wantErr != "" && herr == nil {
				t.Error("the object exists after a failed Put, want none")
			}
			if tt.wantErr == "" {
				if _, got := e.get(t, "big.bin"); sha256.Sum256(got) != sha256.Sum256(data) {
					t.Errorf("object: got %d bytes, want the %d put", len(got), len(data))
				}
			}
		})
	}
}
