package dynamocache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/dynamocache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// moto serves the tests and the examples. Examples have no testing.TB to
// hand to awstest.SharedMoto, so TestMain starts it, and points the AWS
// SDK's default configuration at it, so that the examples read as a
// function's code: config.LoadDefaultConfig and the real client. Tests make
// tables of their own and never reset it.
var moto *awstest.Moto

func TestMain(m *testing.M) {
	flag.Parse() // StartMoto asks testing.Verbose
	var err error
	if moto, err = awstest.StartMoto(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := seedExamples(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		moto.Close()
		os.Exit(1)
	}
	awstest.SetEnv(moto.URL)
	code := m.Run()
	moto.Close()
	os.Exit(code)
}

// seedExamples creates the examples' tables in moto.
func seedExamples() error {
	db := dynamodb.NewFromConfig(moto.Config())
	ctx := context.Background()
	if err := createTable(db, "parameters", "id", "", ""); err != nil {
		return err
	}
	if err := createTable(db, "users", "pk", "", ""); err != nil {
		return err
	}
	items := map[string][]map[string]types.AttributeValue{
		"parameters": {
			{"id": s("rate-limit"), "value": s("100")},
			{"id": s("limits"), "value": s(`{"rps":40,"burst":80}`)},
		},
		"users": {
			{"pk": s("user#42"), "name": s("Ada"), "plan": s("pro"), "seats": n("5")},
		},
	}
	for table, list := range items {
		for _, it := range list {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
				return err
			}
		}
	}
	return nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var tableSeq atomic.Int32

// newTable creates a table with a string partition key pk (and, if sk is
// not "", a sort key of type skType) and returns its name, unique to the
// test.
func newTable(t testing.TB, db *dynamodb.Client, pk, sk string, skType types.ScalarAttributeType) string {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]`).ReplaceAllString(t.Name(), "-")
	name = fmt.Sprintf("%.200s-%d", name, tableSeq.Add(1))
	if err := createTable(db, name, pk, sk, skType); err != nil {
		t.Fatal(err)
	}
	return name
}

func createTable(db *dynamodb.Client, name, pk, sk string, skType types.ScalarAttributeType) error {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(pk), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}},
	}
	if sk != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(sk), AttributeType: skType})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange})
	}
	_, err := db.CreateTable(context.Background(), in)
	// Names are unique, so "already exists" means the test config's retry
	// of a broken connection repeated a create that had succeeded.
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	return err
}

func put(t testing.TB, db *dynamodb.Client, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

type fixture struct {
	admin   *dynamodb.Client // setup calls, not counted
	counter *awstest.Counter
	unproc  *unprocessing
	clock   *fakeclock.Clock
	client  *dynamocache.Client
	cache   *cache.Cache
}

// setup returns a cache on a fake clock and a client whose calls are
// counted and pass through an unprocessing transport (off until told).
func setup(t *testing.T, opts dynamocache.Options) *fixture {
	t.Helper()
	un := &unprocessing{next: awstest.Transport()}
	counter := awstest.NewCounter()
	counter.Next = un
	clk := fakeclock.New()
	if opts.Retry.Sleep == nil {
		opts.Retry.Sleep = func(context.Context, time.Duration) error { return nil } // no real waits
	}
	opts.Client = dynamodb.NewFromConfig(moto.Config(counter))
	client, err := dynamocache.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.New(cache.Options{Clock: clk, Jitter: cache.NoJitter, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		admin:   dynamodb.NewFromConfig(moto.Config()),
		counter: counter,
		unproc:  un,
		clock:   clk,
		client:  client,
		cache:   c,
	}
}

func newClient(t *testing.T, api dynamocache.API) *dynamocache.Client {
	t.Helper()
	c, err := dynamocache.New(dynamocache.Options{Client: api})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newCache(t *testing.T) *cache.Cache {
	t.Helper()
	c, err := cache.New(cache.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) wantCalls(t *testing.T, get, batch int) {
	t.Helper()
	if g, b := f.counter.Count("GetItem"), f.counter.Count("BatchGetItem"); g != get || b != batch {
		t.Errorf("got GetItem=%d BatchGetItem=%d, want %d and %d (%s)", g, b, get, batch, f.counter)
	}
}

// unprocessing is a transport that makes BatchGetItem answer as DynamoDB
// does under throttling: it sends on only the first Keep keys of each call
// and returns the others in UnprocessedKeys, for the next Times calls
// (Times < 0: every call).
type unprocessing struct {
	next http.RoundTripper

	mu    sync.Mutex
	keep  int
	times int
	sizes []int // keys asked for, per BatchGetItem call
}

func (u *unprocessing) set(keep, times int) {
	u.mu.Lock()
	u.keep, u.times = keep, times
	u.mu.Unlock()
}

func (u *unprocessing) callSizes() []int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]int(nil), u.sizes...)
}

type batchBody struct {
	RequestItems map[string]struct {
		Keys           []json.RawMessage
		ConsistentRead *bool `json:",omitempty"`
	}
}

func (u *unprocessing) RoundTrip(r *http.Request) (*http.Response, error) {
	if awstest.Operation(r) != "BatchGetItem" {
		return u.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	var in batchBody
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	total := 0
	for _, ka := range in.RequestItems {
		total += len(ka.Keys)
	}
	u.mu.Lock()
	u.sizes = append(u.sizes, total)
	keep, active := u.keep, u.times != 0
	if u.times > 0 {
		u.times--
	}
	u.mu.Unlock()
	if !active {
		return u.send(r, body)
	}
	unprocessed := map[string]any{}
	for table, ka := range in.RequestItems {
		if keep >= len(ka.Keys) {
			keep -= len(ka.Keys)
			continue
		}
		unprocessed[table] = map[string]any{"Keys": ka.Keys[keep:], "ConsistentRead": ka.ConsistentRead}
		ka.Keys = ka.Keys[:keep]
		keep = 0
		if len(ka.Keys) == 0 {
			delete(in.RequestItems, table)
		} else {
			in.RequestItems[table] = ka
		}
	}
	out := map[string]any{"Responses": map[string]any{}}
	if len(in.RequestItems) > 0 {
		b, _ := json.Marshal(in)
		resp, err := u.send(r, b)
		if err != nil || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(rb, &out); err != nil {
			return nil, err
		}
	}
	out["UnprocessedKeys"] = unprocessed
	b, _ := json.Marshal(out)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	h.Set("X-Amzn-Requestid", "unprocessing")
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Request: r}, nil
}

func (u *unprocessing) send(r *http.Request, body []byte) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return u.next.RoundTrip(r2)
}
