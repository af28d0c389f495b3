package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/internal/fakeclock"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/dynamo"
	"github.com/offload-dev/offload/ledger/ledgertest"
	"github.com/offload-dev/offload/retry"
)

// TestMain points the AWS SDK's default configuration at a moto server of
// the examples' own, so that they read as a function's code:
// config.LoadDefaultConfig and the real client.
func TestMain(m *testing.M) {
	os.Exit(awstest.RunExamples(m, func(aws.Config) error { return nil }))
}

var tableSeq atomic.Int32

// newTable creates a ledger table unique to the test and returns its name.
func newTable(t testing.TB, db dynamo.TableAPI) string {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]`).ReplaceAllString(t.Name(), "-")
	name = fmt.Sprintf("%.200s-%d", name, tableSeq.Add(1))
	if err := dynamo.CreateTable(context.Background(), db, name, 0); err != nil {
		t.Fatal(err)
	}
	return name
}

func client(t testing.TB, rt ...*awstest.Counter) *dynamodb.Client {
	moto := awstest.SharedMoto(t)
	if len(rt) > 0 {
		return dynamodb.NewFromConfig(moto.Config(rt[0]))
	}
	return dynamodb.NewFromConfig(moto.Config())
}

func newLedger(t testing.TB, api dynamo.API, table string, optFns ...func(*dynamo.Options)) *dynamo.Ledger {
	t.Helper()
	l, err := dynamo.New(dynamo.Options{Client: api, Table: table}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConformance(t *testing.T) {
	db := client(t)
	ledgertest.Run(t, func(t *testing.T) ledger.Ledger {
		return newLedger(t, db, newTable(t, db))
	})
}

// Two Lambda environments: two clients, two Ledgers, one table.
func TestTwoEnvironments(t *testing.T) {
	a, b := awstest.NewCounter(), awstest.NewCounter()
	dbA, dbB := client(t, a), client(t, b)
	table := newTable(t, dbA)
	envA, envB := newLedger(t, dbA, table), newLedger(t, dbB, table)
	// DynamoDB applies a conditional write atomically; moto checks the
	// condition and writes in two steps, so two concurrent requests can both
	// pass. Serialising the Commits stands in for DynamoDB's atomicity and
	// leaves what is ours to test: two independent clients' conditions.
	var mu sync.Mutex
	atomicA, atomicB := &serialized{Ledger: envA, mu: &mu}, &serialized{Ledger: envB, mu: &mu}
	ledgertest.Race(t, []ledger.Ledger{atomicA, atomicB, atomicA, atomicB})
	for name, c := range map[string]*awstest.Counter{"A": a, "B": b} {
		if c.Count("PutItem") == 0 {
			t.Errorf("environment %s made no PutItem calls (%s)", name, c)
		}
		if n := c.Count("TransactWriteItems"); n != 0 {
			t.Errorf("environment %s: got %d TransactWriteItems calls, want 0", name, n)
		}
	}
}

func TestCallCounts(t *testing.T) {
	ctx := context.Background()
	counter := awstest.NewCounter()
	db := client(t, counter)
	table := newTable(t, db)
	l := newLedger(t, db, table, func(o *dynamo.Options) { o.Concurrency = 4 })
	recs := ledgertest.Records(250, 1)
	keys := make([]string, 0, len(recs))
	for _, r := range recs {
		keys = append(keys, r.Key)
	}

	cases := []struct {
		name string
		do   func() error
		want map[string]int
	}{
		{"commit 250", func() error { _, err := l.Commit(ctx, recs); return err }, map[string]int{"PutItem": 250}},
		{"get 250", func() error {
			got, err := l.Get(ctx, recs[0].Bucket, keys)
			if len(got) != 250 {
				return fmt.Errorf("got %d records, want 250", len(got))
			}
			return err
		}, map[string]int{"BatchGetItem": 3}},
		{"get 250 and 250 repeats", func() error { _, err := l.Get(ctx, recs[0].Bucket, append(keys, keys...)); return err }, map[string]int{"BatchGetItem": 3}},
		{"get none", func() error { _, err := l.Get(ctx, recs[0].Bucket, nil); return err }, map[string]int{}},
		{"commit none", func() error { _, err := l.Commit(ctx, nil); return err }, map[string]int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			counter.Reset()
			if err := c.do(); err != nil {
				t.Fatal(err)
			}
			got := counter.Counts()
			if len(got) != len(c.want) {
				t.Errorf("calls: got %s, want %v", counter, c.want)
			}
			for op, n := range c.want {
				if got[op] != n {
					t.Errorf("%s calls: got %d, want %d (%s)", op, got[op], n, counter)
				}
			}
		})
	}
}

// The item as stored: the schema doc.go promises, which other tools may read.
func TestStoredItem(t *testing.T) {
	ctx := context.Background()
	db := client(t)
	table := newTable(t, db)
	l := newLedger(t, db, table)
	cet := time.FixedZone("CET", 3600)
	recs := []ledger.Record{
		{Bucket: "site", Key: "docs/a b.html", Sequencer: "55aed6dcd90281e5", ETag: "e1", VersionID: "v1",
			Time: time.Date(2026, 1, 2, 4, 4, 5, 1000, cet), Purged: "55aed6dcd90281e4"},
		{Bucket: "site", Key: "gone", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Deleted: true},
	}
	if _, err := l.Commit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		pk   string
		want map[string]string
	}{
		{"site/docs/a b.html", map[string]string{"pk": "site/docs/a b.html", "seq": "000000000000000055AED6DCD90281E5",
			"sequencer": "55aed6dcd90281e5", "etag": "e1", "version_id": "v1", "time": "2026-01-02T03:04:05.000001000Z",
			"purged_seq": "000000000000000055AED6DCD90281E4", "purged": "55aed6dcd90281e4"}},
		{"site/gone", map[string]string{"pk": "site/gone", "time": "2026-01-02T03:04:05.000000000Z", "deleted": "true"}},
	}
	for _, c := range cases {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: c.pk}}})
		if err != nil {
			t.Fatal(err)
		}
		// Each PutItem's own id: the ledger's writer id and a count.
		id, _ := out.Item["commit_id"].(*types.AttributeValueMemberS)
		if id == nil || !regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-z]+$`).MatchString(id.Value) {
			t.Errorf("item %s: commit_id %v, want writer-count", c.pk, out.Item["commit_id"])
		}
		delete(out.Item, "commit_id")
		got := map[string]string{}
		for k, v := range out.Item {
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				got[k] = v.Value
			case *types.AttributeValueMemberBOOL:
				got[k] = fmt.Sprint(v.Value)
			default:
				got[k] = fmt.Sprintf("%T", v)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("item %s: got %v, want %v", c.pk, got, c.want)
		}
	}
}

// A put that fails for another reason than its condition fails only its
// record, and Commit says so.
func TestPutFailure(t *testing.T) {
	ctx := context.Background()
	moto := awstest.SharedMoto(t)
	proxy := awstest.NewFaultProxy(moto.URL)
	defer proxy.Close()
	db := dynamodb.NewFromConfig(awstest.Config(proxy.URL))
	table := newTable(t, db)
	l := newLedger(t, db, table)
	proxy.Inject(awstest.Fault{Op: "PutItem", Body: "site/throttled", Times: -1,
		Code: "ProvisionedThroughputExceededException", Message: "The level of configured provisioned throughput for the table was exceeded."})

	recs := []ledger.Record{
		{Bucket: "site", Key: "a", Sequencer: "01", Time: ledgertest.T0},
		{Bucket: "site", Key: "throttled", Sequencer: "01", Time: ledgertest.T0},
		{Bucket: "site", Key: "b", Sequencer: "01", Time: ledgertest.T0},
	}
	errs, err := l.Commit(ctx, recs)
	if err == nil {
		t.Fatal("Commit: got no error, want one for the throttled record")
	}
	for _, want := range []string{"ledger/dynamo: commit to table " + table, "1 of 3", "ProvisionedThroughputExceeded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Commit error %q: want it to mention %q", err, want)
		}
	}
	if len(errs) != 3 {
		t.Fatalf("Commit results: got %d, want 3", len(errs))
	}
	var ae smithy.APIError
	if errs[0] != nil || errs[2] != nil || !errors.As(errs[1], &ae) || ae.ErrorCode() != "ProvisionedThroughputExceededException" {
		t.Errorf("Commit results: got %v, want [nil, ProvisionedThroughputExceededException, nil]", errs)
	}
	got, err := l.Get(ctx, "site", []string{"a", "throttled", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"].Sequencer != "01" || got["b"].Sequencer != "01" {
		t.Errorf("after the partial failure: got %v, want a and b written", got)
	}
}

func TestGetFailure(t *testing.T) {
	moto := awstest.SharedMoto(t)
	proxy := awstest.NewFaultProxy(moto.URL)
	defer proxy.Close()
	db := dynamodb.NewFromConfig(awstest.Config(proxy.URL))
	table := newTable(t, db)
	l := newLedger(t, db, table)
	proxy.Inject(awstest.Fault{Op: "BatchGetItem", Times: 1, Code: "AccessDeniedException", Message: "not authorized to perform: dynamodb:BatchGetItem"})

	_, err := l.Get(context.Background(), "site", []string{"a"})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("Get: got %v, want AccessDeniedException", err)
	}
	if want := "ledger/dynamo: get from table " + table + " (bucket site): "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Get error %q: want it to start with %q", err, want)
	}
}

// fakeBatch answers BatchGetItem from items, leaving unprocessed the keys
// its leave function picks.
type fakeBatch struct {
	items map[string]map[string]types.AttributeValue
	leave func(call int, keys []map[string]types.AttributeValue) int // how many keys to leave unprocessed

	mu    sync.Mutex
	calls [][]string // pks asked for, per call
}

func (f *fakeBatch) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: map[string]types.KeysAndAttributes{}}
	for table, ka := range in.RequestItems {
		if !aws.ToBool(ka.ConsistentRead) {
			return nil, errors.New("fake: want a consistent read")
		}
		if len(ka.Keys) > dynamo.MaxBatchKeys {
			return nil, fmt.Errorf("fake: %d keys in one call", len(ka.Keys))
		}
		var pks []string
		for _, k := range ka.Keys {
			pk := k["pk"].(*types.AttributeValueMemberS).Value
			if len(pk) > dynamo.MaxPKBytes { // as DynamoDB answers; moto does not check
				return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes"}
			}
			pks = append(pks, pk)
		}
		f.calls = append(f.calls, pks)
		n := f.leave(len(f.calls), ka.Keys)
		for _, k := range ka.Keys[:len(ka.Keys)-n] {
			if it, ok := f.items[k["pk"].(*types.AttributeValueMemberS).Value]; ok {
				out.Responses[table] = append(out.Responses[table], it)
			}
		}
		if n > 0 {
			out.UnprocessedKeys[table] = types.KeysAndAttributes{Keys: ka.Keys[len(ka.Keys)-n:], ConsistentRead: ka.ConsistentRead}
		}
	}
	return out, nil
}

func (f *fakeBatch) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errors.New("fake: no PutItem")
}

func (f *fakeBatch) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("fake: no UpdateItem")
}

func (f *fakeBatch) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errors.New("fake: no DeleteItem")
}

// sleeper records the waits of a retry.Policy and returns at once.
type sleeper struct {
	clock *fakeclock.Clock
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clock.Advance(d)
	return ctx.Err()
}

func (s *sleeper) policy(attempts int) retry.Policy {
	return retry.Policy{Initial: 100 * time.Millisecond, Max: time.Second, Budget: time.Hour,
		MaxAttempts: attempts, Sleep: s.sleep, Now: s.clock.Now}
}

func TestUnprocessedKeys(t *testing.T) {
	item := func(key string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"pk":   &types.AttributeValueMemberS{Value: "site/" + key},
			"time": &types.AttributeValueMemberS{Value: "2026-01-02T03:04:05.000000000Z"},
			"etag": &types.AttributeValueMemberS{Value: "etag-" + key},
		}
	}
	items := map[string]map[string]types.AttributeValue{}
	var keys []string
	for i := range 150 {
		k := fmt.Sprintf("k%03d", i)
		keys = append(keys, k)
		items["site/"+k] = item(k)
	}
	cases := []struct {
		name      string
		leave     func(call int, keys []map[string]types.AttributeValue) int
		attempts  int
		wantCalls int
		wantWaits int
		wantErr   error
	}{
		{"none left", func(int, []map[string]types.AttributeValue) int { return 0 }, 5, 2, 0, nil},
		{"half left, then none", func(call int, k []map[string]types.AttributeValue) int {
			if call <= 2 {
				return len(k) / 2
			}
			return 0
		}, 5, 4, 2, nil},
		{"one left three times", func(call int, k []map[string]types.AttributeValue) int {
			if call <= 4 {
				return 1
			}
			return 0
		}, 5, 6, 4, nil}, // 4 calls then 1 for the first 100 keys, 1 for the other 50
		{"always left", func(int, []map[string]types.AttributeValue) int { return 1 }, 3, 0, 0, retry.ErrBudget},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeBatch{items: items, leave: c.leave}
			s := &sleeper{clock: fakeclock.New()}
			// Concurrency 1 makes the calls' order, and so leave's, fixed.
			l := newLedger(t, fake, "offload", func(o *dynamo.Options) { o.Concurrency = 1; o.Retry = s.policy(c.attempts) })
			got, err := l.Get(context.Background(), "site", keys)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), "ledger/dynamo: get from table offload") {
					t.Fatalf("Get: got %v, want %v from table offload", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(keys) {
				t.Errorf("records: got %d, want %d", len(got), len(keys))
			}
			for _, k := range keys {
				if got[k].ETag != "etag-"+k || got[k].Key != k || got[k].Bucket != "site" {
					t.Errorf("%s: got %+v, want etag-%s", k, got[k], k)
				}
			}
			if len(fake.calls) != c.wantCalls {
				t.Errorf("BatchGetItem calls: got %d, want %d", len(fake.calls), c.wantCalls)
			}
			if len(s.waits) != c.wantWaits {
				t.Errorf("waits: got %v, want %d", s.waits, c.wantWaits)
			}
			for _, w := range s.waits {
				if w < 50*time.Millisecond || w > time.Second {
					t.Errorf("wait %s: want 50ms to 1s", w)
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	db := &fakeBatch{}
	cases := []struct {
		name  string
		api   dynamo.API
		table string
		want  string
	}{
		{"no client", nil, "offload", "ledger/dynamo: Options.Client is required"},
		{"no table", db, "", "ledger/dynamo: Options.Table is required"},
	}
	for _, c := range cases {
		_, err := dynamo.New(dynamo.Options{Client: c.api, Table: c.table})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

func TestTimeOutOfRange(t *testing.T) {
	l := newLedger(t, &fakeBatch{}, "offload")
	for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		// The fake answers no PutItem: the record is refused before a call.
		errs, err := l.Commit(context.Background(), []ledger.Record{{Bucket: "b", Key: "k", Time: tm}})
		if err != nil || len(errs) != 1 || !errors.Is(errs[0], ledger.ErrInvalid) {
			t.Errorf("Commit at %s: got %v, %v; want the record's ErrInvalid and no error", tm, errs, err)
		}
	}
}

// DynamoDB's own limits, which moto does not check: a partition key of
// more than 2,048 bytes, or a string that is not UTF-8 (the SDK's JSON
// would send U+FFFD in its place, and two keys would share an item). No
// item can have such a key: Get does not ask for it, and Commit refuses
// its record alone, without a call (the fake would fail one).
func TestDynamoLimits(t *testing.T) {
	ctx := context.Background()
	fake := &fakeBatch{items: map[string]map[string]types.AttributeValue{}, leave: func(int, []map[string]types.AttributeValue) int { return 0 }}
	l := newLedger(t, fake, "offload")
	long := strings.Repeat("k", dynamo.MaxPKBytes)
	got, err := l.Get(ctx, "b", []string{long, "ok.html", "a\xffb"})
	if err != nil || len(got) != 0 {
		t.Errorf("Get of keys no item can have: got %v, %v; want nothing, no error", got, err)
	}
	if calls := fake.calls; len(calls) != 1 || len(calls[0]) != 1 || calls[0][0] != "b/ok.html" {
		t.Errorf("Get asked for %q, want only b/ok.html", calls)
	}
	for _, r := range []ledger.Record{
		{Bucket: "b", Key: long, Time: ledgertest.T0},
		{Bucket: "b", Key: "ok.html", ETag: "\xff", Time: ledgertest.T0},
		{Bucket: "b", Key: "ok.html", VersionID: "v\xfe", Time: ledgertest.T0},
	} {
		errs, err := l.Commit(ctx, []ledger.Record{r})
		if err != nil || len(errs) != 1 || !errors.Is(errs[0], ledger.ErrInvalid) {
			t.Errorf("Commit of %.40q (etag %q, version %q): got %v, %v; want the record's ErrInvalid, no call", r.Key, r.ETag, r.VersionID, errs, err)
		}
	}
}

func TestCreateTable(t *testing.T) {
	ctx := context.Background()
	db := client(t)
	table := newTable(t, db)
	if err := dynamo.CreateTable(ctx, db, table, 0); err != nil {
		t.Errorf("CreateTable of an existing ledger table: got %v, want nil", err)
	}
	other := table + "-other"
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(other),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = dynamo.CreateTable(ctx, db, other, 0)
	if err == nil || !strings.Contains(err.Error(), "another key schema") {
		t.Errorf("CreateTable over a table keyed by id: got %v, want a key schema error", err)
	}
}

func BenchmarkCommit(b *testing.B) {
	db := client(b)
	ledgertest.BenchCommit(b, newLedger(b, db, newTable(b, db)), 500)
}

func BenchmarkGet(b *testing.B) {
	db := client(b)
	ledgertest.BenchGet(b, newLedger(b, db, newTable(b, db)), 1000)
}

// serialized runs Commits one at a time across the Ledgers sharing mu.
type serialized struct {
	ledger.Ledger
	mu *sync.Mutex
}

func (s *serialized) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Ledger.Commit(ctx, recs)
}

// A PutItem that DynamoDB applied but whose answer was lost is retried by
// the SDK; the retry's condition then fails on the item the first attempt
// wrote. That is the record written, not ledger.ErrStale; the same record
// committed again, a redelivery, is still stale.
func TestRetriedPutIsWritten(t *testing.T) {
	ctx := context.Background()
	moto := awstest.SharedMoto(t)
	proxy := awstest.NewFaultProxy(moto.URL)
	defer proxy.Close()
	cfg := awstest.Config(proxy.URL)
	cfg.Retryer = func() aws.Retryer {
		return awsretry.NewStandard(func(o *awsretry.StandardOptions) {
			o.Backoff = awsretry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	db := dynamodb.NewFromConfig(cfg)
	table := newTable(t, db)
	l := newLedger(t, db, table)
	proxy.Inject(awstest.Fault{Op: "PutItem", Body: "site/lost", Times: 1, Forward: true, Drop: true})

	recs := []ledger.Record{
		{Bucket: "site", Key: "lost", Sequencer: "01", Time: ledgertest.T0},
		{Bucket: "site", Key: "kept", Sequencer: "01", Time: ledgertest.T0},
	}
	errs, err := l.Commit(ctx, recs)
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("Commit: got %v, %v; want no errors", errs, err)
	}
	if n := proxy.Served("PutItem"); n != 1 {
		t.Fatalf("answers lost: got %d, want 1", n)
	}
	got, err := l.Get(ctx, "site", []string{"lost"})
	if err != nil {
		t.Fatal(err)
	}
	if got["lost"].Sequencer != "01" {
		t.Errorf("after the lost answer: got %v, want lost at 01", got)
	}

	errs, err = l.Commit(ctx, recs[:1])
	if err != nil || !errors.Is(errs[0], ledger.ErrStale) {
		t.Errorf("the same record again: got %v, %v; want ErrStale", errs, err)
	}
}
