package dynamo

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/retry"
)

// MaxBatchKeys is the most keys one BatchGetItem call takes.
const MaxBatchKeys = 100

// TimeLayout is how the time attribute is stored, always in UTC: fixed
// width, so that comparing strings compares times.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// API is the part of the DynamoDB client the ledger uses;
// *dynamodb.Client satisfies it.
type API interface {
	BatchGetItem(ctx context.Context, params *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, params *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// MaxPKBytes is the longest partition key DynamoDB takes: a record whose
// bucket, "/" and key are longer is refused as ledger.ErrInvalid.
const MaxPKBytes = 2048

// Options configure New. A zero field means its default; Client and Table
// have none.
type Options struct {
	// Client is the DynamoDB client, a *dynamodb.Client. Required.
	Client API
	// Table is the table's name; it must have the schema the package
	// documents (CreateTable makes one). Required.
	Table string

	// Concurrency is the most PutItem calls one Commit, or BatchGetItem
	// calls one Get, has in flight. Default 16.
	Concurrency int

	// Retry is how Get asks again for the keys BatchGetItem left
	// unprocessed. A zero field takes the retry package's default (500ms
	// first backoff, 8 attempts, 2m budget). Errors of the calls themselves
	// are retried by the SDK client, not here.
	Retry retry.Policy
}

// Ledger is a ledger.Ledger in a DynamoDB table. It is safe for concurrent
// use, and any number of Ledgers, in any number of processes, may share a
// table.
type Ledger struct {
	api    API
	table  string
	opts   Options
	closed atomic.Bool

	// writer and writes name each PutItem (commitIDAttr), so that a call
	// the SDK retried after DynamoDB applied it, its answer lost on the
	// way back, knows its own write when the condition then fails.
	writer string
	writes atomic.Uint64
}

// New returns a Ledger over opts.Table, after applying optFns to a copy of
// opts.
func New(opts Options, optFns ...func(*Options)) (*Ledger, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Client == nil {
		return nil, errors.New("ledger/dynamo: Options.Client is required")
	}
	if opts.Table == "" {
		return nil, errors.New("ledger/dynamo: Options.Table is required")
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("ledger/dynamo: Options.Concurrency %d is negative", opts.Concurrency)
	}
	opts.Concurrency = cmp.Or(opts.Concurrency, 16)
	var w [8]byte
	rand.Read(w[:])
	return &Ledger{api: opts.Client, table: opts.Table, opts: opts, writer: hex.EncodeToString(w[:])}, nil
}

// Table returns the table's name.
func (l *Ledger) Table() string { return l.table }

// item is a record as stored.
type item struct {
	PK        string `dynamodbav:"pk"`
	Seq       string `dynamodbav:"seq,omitempty"`
	Sequencer string `dynamodbav:"sequencer,omitempty"`
	ETag      string `dynamodbav:"etag,omitempty"`
	VersionID string `dynamodbav:"version_id,omitempty"`
	Time      string `dynamodbav:"time"`
	Deleted   bool   `dynamodbav:"deleted,omitempty"`
	PurgedSeq string `dynamodbav:"purged_seq,omitempty"`
	Purged    string `dynamodbav:"purged,omitempty"`
}

// PK returns the partition key of bucket's key.
func PK(bucket, key string) string { return bucket + "/" + key }

func pkValue(bucket, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: PK(bucket, key)}}
}

// Get returns the records held for keys of bucket; keys never seen are
// absent from the map. It reads with strongly consistent BatchGetItem
// calls of up to 100 keys, several at once.
func (l *Ledger) Get(ctx context.Context, bucket string, keys []string) (map[string]ledger.Record, error) {
	if err := l.usable(ctx); err != nil {
		return nil, l.getErr(bucket, err)
	}
	out := make(map[string]ledger.Record, len(keys))
	err := l.read(ctx, bucket, keys, nil, func(av map[string]types.AttributeValue) error {
		if _, ok := av["time"]; !ok {
			return nil // a receipt alone: the key was never committed
		}
		r, err := decode(bucket, av)
		if err == nil {
			out[r.Key] = r
		}
		return err
	})
	if err != nil {
		return nil, l.getErr(bucket, err)
	}
	return out, nil
}

func (l *Ledger) getErr(bucket string, err error) error {
	return fmt.Errorf("ledger/dynamo: get from table %s (bucket %s): %w", l.table, bucket, err)
}

// projection names the attributes a read returns; nil returns them all.
type projection struct {
	expr  string
	names map[string]string
}

// read reads the items of keys of bucket, skipping empty and repeated keys
// (BatchGetItem refuses a request that names a key twice) and those no item
// can have, and hands each item to use, one at a time.
func (l *Ledger) read(ctx context.Context, bucket string, keys []string, proj *projection, use func(map[string]types.AttributeValue) error) error {
	seen := make(map[string]bool, len(keys))
	uniq := make([]string, 0, len(keys))
	for _, k := range keys {
		// A key no item can have is not asked for: DynamoDB would fail
		// the whole call.
		if k != "" && !seen[k] && checkItem(bucket, k, k) == nil {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	var (
		mu       sync.Mutex
		firstErr error
	)
	var g errgroup.Group
	g.SetLimit(l.opts.Concurrency)
	for start := 0; start < len(uniq); start += MaxBatchKeys {
		chunk := uniq[start:min(start+MaxBatchKeys, len(uniq))]
		g.Go(func() error {
			items, err := l.batchGet(ctx, bucket, chunk, proj)
			mu.Lock()
			defer mu.Unlock()
			for _, av := range items {
				if err == nil {
					err = use(av)
				}
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return nil
		})
	}
	g.Wait()
	return firstErr
}

// errUnprocessed marks a BatchGetItem answer that left keys out.
type errUnprocessed int

func (e errUnprocessed) Error() string {
	return fmt.Sprintf("BatchGetItem left %d keys unprocessed", int(e))
}

// batchGet reads up to MaxBatchKeys keys, asking again for unprocessed ones.
func (l *Ledger) batchGet(ctx context.Context, bucket string, keys []string, proj *projection) ([]map[string]types.AttributeValue, error) {
	if ctx.Err() != nil { // a sibling may have been slow to notice
		return nil, ctx.Err()
	}
	want := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		want[i] = pkValue(bucket, k)
	}
	var items []map[string]types.AttributeValue
	_, err := l.opts.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		ka := types.KeysAndAttributes{Keys: want, ConsistentRead: aws.Bool(true)}
		if proj != nil {
			ka.ProjectionExpression, ka.ExpressionAttributeNames = aws.String(proj.expr), proj.names
		}
		out, err := l.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{l.table: ka}})
		if err != nil {
			return err
		}
		items = append(items, out.Responses[l.table]...)
		left := out.UnprocessedKeys[l.table].Keys
		if len(left) == 0 {
			return nil
		}
		want = left
		return retry.Retryable(errUnprocessed(len(left)))
	})
	return items, err
}

func decode(bucket string, av map[string]types.AttributeValue) (ledger.Record, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return ledger.Record{}, fmt.Errorf("decode item: %w", err)
	}
	key, ok := strings.CutPrefix(it.PK, bucket+"/")
	if !ok {
		return ledger.Record{}, fmt.Errorf("decode item %q: not in bucket %s", it.PK, bucket)
	}
	t, err := time.Parse(TimeLayout, it.Time)
	if err != nil {
		return ledger.Record{}, fmt.Errorf("decode item %q: time: %w", it.PK, err)
	}
	return ledger.Record{Bucket: bucket, Key: key, Sequencer: it.Sequencer, ETag: it.ETag,
		VersionID: it.VersionID, Time: t, Deleted: it.Deleted, Purged: it.Purged}, nil
}

func encode(r ledger.Record) (map[string]types.AttributeValue, error) {
	it := item{PK: PK(r.Bucket, r.Key), Sequencer: r.Sequencer, ETag: r.ETag, VersionID: r.VersionID,
		Time: formatTime(r.Time), Deleted: r.Deleted, Purged: r.Purged}
	if r.Sequencer != "" {
		it.Seq = ledger.PadSequencer(r.Sequencer)
	}
	if r.Purged != "" {
		it.PurgedSeq = ledger.PadSequencer(r.Purged)
	}
	return attributevalue.MarshalMap(it)
}

func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// Conditions for PutItem: ledger.Newer as DynamoDB evaluates it. The
// purged clause is added only when the record's Purged can beat one held.
//
// An item without a time holds a receipt alone (AddReceipts): no record.
const (
	condWithSeq    = "attribute_not_exists(#time) OR #seq < :seq OR (attribute_not_exists(#seq) AND #time < :time)"
	condWithoutSeq = "attribute_not_exists(#time) OR #time < :time"
	condPurged     = "(attribute_not_exists(#pseq) OR #pseq < :pseq)"
	condPurgedSeq  = " OR (#seq = :seq AND " + condPurged + ") OR (attribute_not_exists(#seq) AND #time = :time AND " + condPurged + ")"
	condPurgedTime = " OR (#time = :time AND " + condPurged + ")"
)

// Commit writes each record with a conditional PutItem, so that a record
// not newer than the one held is left alone and reported as
// ledger.ErrStale. The PutItem replaces the whole item, which clears the
// key's receipt. Records of different keys are written concurrently,
// records of one key in order. A record ledger.Check refuses, or DynamoDB
// cannot hold (a key longer than MaxPKBytes with its bucket, a string not
// valid UTF-8, a time outside years 0 to 9999) gets ledger.ErrInvalid
// without a call, as does one DynamoDB refuses with a ValidationException.
// A call that fails for another reason leaves its record's error in the
// slice, the other records are still written, and the returned error is
// non-nil.
func (l *Ledger) Commit(ctx context.Context, recs []ledger.Record) ([]error, error) {
	if err := l.usable(ctx); err != nil {
		return nil, l.commitErr(err)
	}
	errs := make([]error, len(recs))
	inputs := make([]*dynamodb.PutItemInput, len(recs))
	for i, r := range recs {
		in, err := l.putInput(r)
		if err != nil {
			errs[i] = ledger.Invalid(i, r.Bucket, r.Key, err)
			continue
		}
		inputs[i] = in
	}

	// One job per key, so that one key's records go in order.
	var order []string
	byKey := make(map[string][]int)
	for i, r := range recs {
		if inputs[i] == nil {
			continue
		}
		pk := PK(r.Bucket, r.Key)
		if _, ok := byKey[pk]; !ok {
			order = append(order, pk)
		}
		byKey[pk] = append(byKey[pk], i)
	}
	var failed atomic.Int32
	var g errgroup.Group
	g.SetLimit(l.opts.Concurrency)
	for _, pk := range order {
		idx := byKey[pk]
		g.Go(func() error {
			for _, i := range idx {
				if err := ctx.Err(); err != nil {
					errs[i] = err
					failed.Add(1)
					continue
				}
				_, err := l.api.PutItem(ctx, inputs[i])
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
				case errors.As(err, &ccf) && ownWrite(ccf.Item, inputs[i].Item):
					// An earlier attempt of this call was applied.
				case errors.As(err, &ccf):
					errs[i] = ledger.ErrStale
				case refused(err):
					errs[i] = ledger.Invalid(i, recs[i].Bucket, recs[i].Key, err)
				default:
					errs[i] = fmt.Errorf("ledger/dynamo: put %.200q into table %s: %w", pk, l.table, err)
					failed.Add(1)
				}
			}
			return nil
		})
	}
	g.Wait()
	if n := failed.Load(); n > 0 {
		var first error
		for _, e := range errs {
			if e != nil && e != ledger.ErrStale && !errors.Is(e, ledger.ErrInvalid) {
				first = e
				break
			}
		}
		if err := ctx.Err(); err != nil {
			first = err
		}
		return errs, l.commitErr(fmt.Errorf("%d of %d records not written: %w", n, len(recs), first))
	}
	return errs, nil
}

// commitIDAttr holds the id of the PutItem that wrote an item: the
// ledger's random writer id and a count.
const commitIDAttr = "commit_id"

// ownWrite reports whether held, the item a failed condition found, is
// the one put would write: the same call's earlier attempt was applied.
func ownWrite(held, put map[string]types.AttributeValue) bool {
	h, ok := held[commitIDAttr].(*types.AttributeValueMemberS)
	p, _ := put[commitIDAttr].(*types.AttributeValueMemberS)
	return ok && p != nil && h.Value == p.Value
}

// refused reports whether DynamoDB refused a request as invalid: the
// same request fails the same way every time.
func refused(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException"
}

// checkItem adds DynamoDB's limits to ledger's rules: the partition key's
// length, and strings of valid UTF-8 (the SDK's JSON would silently
// replace what is not, and two keys could share an item).
func checkItem(bucket, key string, strs ...string) error {
	if n := len(bucket) + 1 + len(key); n > MaxPKBytes {
		return fmt.Errorf("%w: bucket and key of %d bytes; DynamoDB keys hold at most %d", ledger.ErrInvalid, n, MaxPKBytes)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %.100q is not valid UTF-8", ledger.ErrInvalid, s)
		}
	}
	return nil
}

func (l *Ledger) putInput(r ledger.Record) (*dynamodb.PutItemInput, error) {
	if err := ledger.Check(r); err != nil {
		return nil, err
	}
	if err := checkItem(r.Bucket, r.Key, r.ETag, r.VersionID); err != nil {
		return nil, err
	}
	if y := r.Time.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("%w: time %s is outside years 0 to 9999", ledger.ErrInvalid, r.Time)
	}
	av, err := encode(r)
	if err != nil {
		return nil, err
	}
	av[commitIDAttr] = &types.AttributeValueMemberS{Value: l.writer + "-" + strconv.FormatUint(l.writes.Add(1), 36)}
	in := &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item:      av,
		// The item held comes back with a failed condition, for ownWrite.
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ExpressionAttributeNames:            map[string]string{"#time": "time"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":time": av["time"]},
	}
	cond := condWithoutSeq
	if r.Sequencer != "" {
		in.ExpressionAttributeNames["#seq"] = "seq"
		in.ExpressionAttributeValues[":seq"] = av["seq"]
		cond = condWithSeq
	}
	// Newer: at the same change, a later purge wins; an empty or zero
	// Purged never does.
	if ledger.CompareSequencer(r.Purged, "") > 0 {
		in.ExpressionAttributeNames["#pseq"] = "purged_seq"
		in.ExpressionAttributeValues[":pseq"] = av["purged_seq"]
		if r.Sequencer != "" {
			cond += condPurgedSeq
		} else {
			cond += condPurgedTime
		}
	}
	in.ConditionExpression = aws.String(cond)
	return in, nil
}

func (l *Ledger) commitErr(err error) error {
	return fmt.Errorf("ledger/dynamo: commit to table %s: %w", l.table, err)
}

// Close makes later calls fail with ledger.ErrClosed; the client is the
// caller's. Closing twice is not an error.
func (l *Ledger) Close() error {
	l.closed.Store(true)
	return nil
}

func (l *Ledger) usable(ctx context.Context) error {
	if l.closed.Load() {
		return ledger.ErrClosed
	}
	return ctx.Err()
}

var _ ledger.Ledger = (*Ledger)(nil)
