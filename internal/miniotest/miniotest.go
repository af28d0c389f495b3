// Package miniotest runs a real MinIO server on loopback for tests: the S3
// API, and bucket notifications sent to webhooks (such as `offload serve`).
//
// MinIO is a Go module, built with `go install github.com/minio/minio@VERSION`
// (scripts/test-deps.sh does it once, at the version it pins; it takes
// minutes the first time and is cached after). A machine without the binary
// fails the test: MinIO is part of the test setup, not optional.
package miniotest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/offload-dev/offload/internal/childproc"
	"github.com/offload-dev/offload/internal/gobin"
	"github.com/offload-dev/offload/internal/loopback"
	"github.com/offload-dev/offload/internal/syncbuf"
)

// Credentials of every test server.
const (
	RootUser     = "offloadtest"
	RootPassword = "offloadtest-secret"
)

// Webhook is a notification target MinIO is started with.
type Webhook struct {
	ID        string // the target's id (letters, digits, _): its queue ARN is QueueARN(ID)
	Endpoint  string // http://127.0.0.1:PORT/v1/events; must be up before Start
	AuthToken string // sent as "Authorization: Bearer <AuthToken>" (MinIO sends one with a space in it as it is)
}

// NATS is a NATS notification target MinIO is started with, publishing to
// JetStream.
type NATS struct {
	ID       string // the target's id: its queue ARN is NATSQueueARN(ID)
	Address  string // 127.0.0.1:PORT of nats-server
	Subject  string // what MinIO publishes on; a stream must take it
	QueueDir string // where MinIO keeps events it could not publish, to send later; default none (they are lost)
}

// NATSQueueARN is the ARN a bucket notification names a NATS target by.
func NATSQueueARN(id string) string { return "arn:minio:sqs::" + strings.ToUpper(id) + ":nats" }

// Options configure Start.
type Options struct {
	Webhooks []Webhook
	NATS     []NATS
	// Address is where the S3 API listens, "127.0.0.1:PORT", for a test
	// that must name it before MinIO starts (a cache in front of it).
	// Default: a free loopback port.
	Address string
}

// MinIO is a running server.
type MinIO struct {
	URL string // http://127.0.0.1:PORT, the S3 API
	Dir string // its data directory

	cmd  *exec.Cmd
	done chan struct{}
	log  *syncbuf.Buffer
}

// QueueARN is the ARN a bucket notification names a webhook target by.
// MinIO takes the id from the environment variable's name, which Start
// writes in upper case.
func QueueARN(id string) string { return "arn:minio:sqs::" + strings.ToUpper(id) + ":webhook" }

// Binary finds the minio binary: on PATH, or where `go install` puts it.
func Binary() (string, error) {
	if p, ok := gobin.Find("minio"); ok {
		return p, nil
	}
	return "", errors.New("miniotest: the minio binary is not on PATH nor in $(go env GOBIN) or $(go env GOPATH)/bin: run scripts/test-deps.sh (make test-deps), which builds it with go install github.com/minio/minio")
}

// Start runs MinIO on free loopback ports with the given webhooks and
// stops it when the test ends. A missing binary fails the test.
func Start(tb testing.TB, opts Options) *MinIO {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	attempts := 3
	if opts.Address != "" {
		attempts = 1 // another port would not be the one asked for
	}
	var lastErr error
	for attempt := range attempts {
		m, err := start(bin, filepath.Join(tb.TempDir(), fmt.Sprint("minio", attempt)), opts)
		if err == nil {
			tb.Cleanup(func() {
				m.Close()
				if tb.Failed() {
					tb.Logf("minio log:\n%s", m.log)
				}
			})
			return m
		}
		lastErr = err
	}
	tb.Fatal(lastErr)
	return nil
}

// Launch runs MinIO with its data in dir, outside a test (the benchmark
// harness uses it); the caller must Close it.
func Launch(dir string, opts Options) (*MinIO, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	return start(bin, dir, opts)
}

func start(bin, dir string, opts Options) (*MinIO, error) {
	ports, err := loopback.FreePorts(2)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	if opts.Address != "" {
		addr = opts.Address
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	m := &MinIO{URL: "http://" + addr, Dir: data, done: make(chan struct{}), log: &syncbuf.Buffer{}}
	m.cmd = exec.Command(bin, "server", data,
		"--address", addr,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--certs-dir", filepath.Join(dir, "certs"),
		"--quiet")
	env := append(os.Environ(),
		"MINIO_ROOT_USER="+RootUser,
		"MINIO_ROOT_PASSWORD="+RootPassword,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"HOME="+dir, // nothing of ours in the user's ~/.minio
	)
	for _, w := range opts.Webhooks {
		id := strings.ToUpper(w.ID)
		env = append(env,
			"MINIO_NOTIFY_WEBHOOK_ENABLE_"+id+"=on",
			"MINIO_NOTIFY_WEBHOOK_ENDPOINT_"+id+"="+w.Endpoint,
		)
		if w.AuthToken != "" {
			env = append(env, "MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_"+id+"="+w.AuthToken)
		}
	}
	for _, n := range opts.NATS {
		id := strings.ToUpper(n.ID)
		env = append(env,
			"MINIO_NOTIFY_NATS_ENABLE_"+id+"=on",
			"MINIO_NOTIFY_NATS_ADDRESS_"+id+"="+n.Address,
			"MINIO_NOTIFY_NATS_SUBJECT_"+id+"="+n.Subject,
			"MINIO_NOTIFY_NATS_JETSTREAM_"+id+"=on",
		)
		if n.QueueDir != "" {
			env = append(env, "MINIO_NOTIFY_NATS_QUEUE_DIR_"+id+"="+n.QueueDir)
		}
	}
	m.cmd.Env = env
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	m.cmd.SysProcAttr = childproc.Attr(true)
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("miniotest: start %s: %w", bin, err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return nil, fmt.Errorf("miniotest: minio exited before it was ready:\n%s", m.log)
		default:
		}
		if resp, err := client.Get(m.URL + "/minio/health/live"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.Close()
	return nil, fmt.Errorf("miniotest: minio not ready after 60s:\n%s", m.log)
}

// Close stops the server.
func (m *MinIO) Close() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}

// Log returns what MinIO wrote so far.
func (m *MinIO) Log() string { return m.log.String() }

// Client returns an S3 client for the server: path-style, root
// credentials, region us-east-1.
func (m *MinIO) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(m.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(RootUser, RootPassword, ""),
		UsePathStyle: true,
	})
}

// CreateBucket makes a bucket, retrying while the freshly started server
// is still initialising.
func (m *MinIO) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	if err := m.MakeBucket(context.Background(), bucket); err != nil {
		tb.Fatal(err)
	}
}

// MakeBucket is CreateBucket outside a test.
func (m *MinIO) MakeBucket(ctx context.Context, bucket string) error {
	return retryStarting(ctx, func(ctx context.Context) error {
		_, err := m.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		return err
	}, "create bucket %s", bucket)
}

// Notify sends bucket's events (default s3:ObjectCreated:* and
// s3:ObjectRemoved:*) to the webhook target id.
func (m *MinIO) Notify(tb testing.TB, bucket, id string, events ...types.Event) {
	tb.Helper()
	if err := m.SetNotify(context.Background(), bucket, id, events...); err != nil {
		tb.Fatal(err)
	}
}

// SetNotify is Notify outside a test.
func (m *MinIO) SetNotify(ctx context.Context, bucket, id string, events ...types.Event) error {
	return m.SetNotifyARN(ctx, bucket, QueueARN(id), events...)
}

// SetNotifyARN sends bucket's events to the target with that queue ARN
// (QueueARN, NATSQueueARN).
func (m *MinIO) SetNotifyARN(ctx context.Context, bucket, arn string, events ...types.Event) error {
	if len(events) == 0 {
		events = []types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
	}
	in := &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket),
		NotificationConfiguration: &types.NotificationConfiguration{
			QueueConfigurations: []types.QueueConfiguration{{QueueArn: aws.String(arn), Events: events}},
		},
	}
	// MinIO registers its notification targets a moment after it answers
	// as live; until then the ARN "does not exist".
	return retryStarting(ctx, func(ctx context.Context) error {
		_, err := m.Client().PutBucketNotificationConfiguration(ctx, in)
		return err
	}, "notifications of %s to %s", bucket, arn)
}

// AllowAnonymousRead lets anyone GET the bucket's objects, as a CDN origin.
func (m *MinIO) AllowAnonymousRead(tb testing.TB, bucket string) {
	tb.Helper()
	if err := m.SetAnonymousRead(context.Background(), bucket); err != nil {
		tb.Fatal(err)
	}
}

// SetAnonymousRead is AllowAnonymousRead outside a test.
func (m *MinIO) SetAnonymousRead(ctx context.Context, bucket string) error {
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},`+
		`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, bucket)
	_, err := m.Client().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)})
	if err != nil {
		return fmt.Errorf("miniotest: policy of %s: %w", bucket, err)
	}
	return nil
}

// retryStarting retries f every 200 ms for up to 30 s, while a freshly
// started MinIO is still initialising, and names what failed.
func retryStarting(ctx context.Context, f func(context.Context) error, format string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		if err = f(ctx); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("miniotest: "+format+": %w", append(args, err)...)
}

// Put writes an object.
func (m *MinIO) Put(tb testing.TB, bucket, key, body string) {
	tb.Helper()
	_, err := m.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body), ContentType: aws.String("text/plain"),
	})
	if err != nil {
		tb.Fatalf("miniotest: put s3://%s/%s: %v", bucket, key, err)
	}
}

// FreeAddress returns a loopback address free at the moment, for
// Options.Address.
func FreeAddress(tb testing.TB) string {
	tb.Helper()
	ports, err := loopback.FreePorts(1)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0])
}
