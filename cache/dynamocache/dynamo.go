package dynamocache

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/internal/awserr"
	"github.com/offload-dev/offload/retry"
)

// Source is the cache.Key Source of every entry of this package.
const Source = "dynamodb"

// MaxBatchKeys is the most keys one BatchGetItem call takes.
const MaxBatchKeys = 100

// API is the part of the DynamoDB client that the cache uses;
// *dynamodb.Client satisfies it.
type API interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, params *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Options configure a Client.
type Options struct {
	// Client is the DynamoDB client, a *dynamodb.Client. Required.
	Client API

	// KeyAttribute is the partition key that Value looks a name up by,
	// Powertools' key_attr. Default "id".
	KeyAttribute string

	// ValueAttribute is the attribute that Value returns, Powertools'
	// value_attr. Default "value".
	ValueAttribute string

	// Retry is how keys that BatchGetItem left unprocessed (throttling, or
	// the 16 MB response limit) are asked for again: up to
	// Retry.MaxAttempts calls in all, Retry.Backoff apart, before their
	// entries fail with cache.ErrThrottled. Zero fields mean this
	// package's defaults: Initial 50ms, Max 2s, MaxAttempts 6 (the first
	// call and five more); the others are retry.Policy's. MaxAttempts 1
	// never asks again.
	Retry retry.Policy

	// Concurrency is how many BatchGetItem calls run at once when more than
	// 100 keys are due together. Default 4.
	Concurrency int

	// Decoder adjusts how ItemAs decodes an item (attributevalue's
	// DecoderOptions: TagKey, UseNumber, ...). Default: attributevalue's
	// defaults, the "dynamodbav" tag.
	Decoder func(*attributevalue.DecoderOptions)
}

// Client builds cache specs for DynamoDB items. Safe for concurrent use.
type Client struct {
	f *fetcher
}

// New returns a Client with opts, and then each optFn applied to a copy of
// opts, validated and the defaults filled in.
func New(opts Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	switch {
	case opts.Client == nil:
		return nil, errors.New("dynamocache: Options.Client is required")
	case opts.Concurrency < 0:
		return nil, fmt.Errorf("dynamocache: Options.Concurrency is %d; want 0 for the default 4, or more", opts.Concurrency)
	case opts.Retry.MaxAttempts < 0:
		return nil, fmt.Errorf("dynamocache: Options.Retry.MaxAttempts is %d; want 0 for the default 6, 1 for no retry, or more", opts.Retry.MaxAttempts)
	}
	if opts.KeyAttribute == "" {
		opts.KeyAttribute = "id"
	}
	if opts.ValueAttribute == "" {
		opts.ValueAttribute = "value"
	}
	if opts.Retry.Initial <= 0 {
		opts.Retry.Initial = 50 * time.Millisecond
	}
	if opts.Retry.Max <= 0 {
		opts.Retry.Max = 2 * time.Second
	}
	if opts.Retry.MaxAttempts == 0 {
		opts.Retry.MaxAttempts = 6
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	return &Client{f: &fetcher{api: opts.Client, opts: opts}}, nil
}

// ReadOption changes how an item is read.
type ReadOption struct{ apply func(*item) }

// ConsistentRead reads the item with a strongly consistent read (twice the
// read capacity of the default, eventually consistent read). It is part of
// the entry's key.
func ConsistentRead() ReadOption {
	return ReadOption{func(it *item) { it.consistent = true }}
}

// StringKey returns the key of an item whose key is one string attribute.
func StringKey(attr, value string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attr: &types.AttributeValueMemberS{Value: value}}
}

// Item returns a spec for the item of table with the given primary key (the
// partition key, and the sort key if the table has one). The value is the
// item's attributes; every reader gets the same map: do not modify it. The
// entry's short name is the key's values joined by "/".
func (c *Client) Item(table string, key map[string]types.AttributeValue, opts ...ReadOption) cache.Spec[map[string]types.AttributeValue] {
	it := &item{table: table, key: maps.Clone(key)}
	for _, o := range opts {
		o.apply(it)
	}
	s := cache.Spec[map[string]types.AttributeValue]{Fetcher: c.f, Arg: it}
	var err error
	it.canon, it.short, it.shape, err = canonical(key)
	switch {
	case table == "":
		s.Err = fmt.Errorf("%w: no table name", cache.ErrInvalid)
	case err != nil:
		s.Err = fmt.Errorf("%w: key of an item in table %s: %w", cache.ErrInvalid, table, err)
	}
	s.Key = cache.Key{Source: Source, Name: table + "/" + it.canon}
	if it.consistent {
		s.Key.Variant = "consistent"
	}
	s.Name = it.short
	return s
}

// ItemAs returns a spec for an item decoded into a T with
// attributevalue.UnmarshalMap (fields tagged `dynamodbav:"name"`), once per
// fetch. Its key has the variant "decoded", beside Item's of the same item.
func ItemAs[T any](c *Client, table string, key map[string]types.AttributeValue, opts ...ReadOption) cache.Spec[T] {
	dec := c.f.opts.Decoder
	item := c.Item(table, key, opts...)
	item.Key = item.Key.WithVariant("decoded")
	return cache.Map(item, func(m map[string]types.AttributeValue) (T, error) {
		var v T
		var err error
		if dec != nil {
			err = attributevalue.UnmarshalMapWithOptions(m, &v, dec)
		} else {
			err = attributevalue.UnmarshalMap(m, &v)
		}
		if err != nil {
			return v, fmt.Errorf("%w: item into %T: %w", cache.ErrDecode, v, err)
		}
		return v, nil
	})
}

// Value returns a spec for a value kept as Powertools' DynamoDBProvider
// keeps parameters: attribute Options.ValueAttribute ("value") of the item
// whose partition key Options.KeyAttribute ("id") is name. A string or a
// number is returned as it is stored; compose the spec with cache.JSON or
// cache.Base64 for Powertools' transforms. The entry's short name is name;
// its key has the variant "attr=" and the attribute's name.
func (c *Client) Value(table, name string, opts ...ReadOption) cache.Spec[string] {
	attr := c.f.opts.ValueAttribute
	item := c.Item(table, StringKey(c.f.opts.KeyAttribute, name), opts...)
	item.Key = item.Key.WithVariant("attr=" + attr)
	s := cache.Map(item, func(m map[string]types.AttributeValue) (string, error) {
		switch v := m[attr].(type) {
		case *types.AttributeValueMemberS:
			return v.Value, nil
		case *types.AttributeValueMemberN:
			return v.Value, nil
		case nil:
			return "", fmt.Errorf("%w: the item has no attribute %q", cache.ErrDecode, attr)
		default:
			return "", fmt.Errorf("%w: attribute %q is %s, want a string or a number", cache.ErrDecode, attr, typeName(v))
		}
	})
	s.Name = name
	return s
}

// item is what one entry asks for: Request.Arg.
type item struct {
	table      string
	key        map[string]types.AttributeValue
	consistent bool
	canon      string // canonical rendering of key
	shape      string // the key's attribute names and types
	short      string
}

// id tells items apart within one fetch: the same item read the same way
// is asked for once, since BatchGetItem rejects duplicate keys.
func (it *item) id() string {
	if it.consistent {
		return it.table + "/" + it.canon + " consistent"
	}
	return it.table + "/" + it.canon
}

// want is one item to fetch and the requests waiting for it.
type want struct {
	it   *item
	reqs []*cache.Request
	err  error // the error it failed with, if it did
}

func (w *want) succeed(m map[string]types.AttributeValue) {
	for _, r := range w.reqs {
		r.Succeed(cache.Raw{Value: m, Size: itemSize(m)})
	}
}

func (w *want) fail(err error) {
	w.err = err
	for _, r := range w.reqs {
		r.Fail(err)
	}
}

func (w *want) notFound() {
	w.fail(fmt.Errorf("%w: no item in table %s with key %s", cache.ErrNotFound, w.it.table, w.it.canon))
}

type fetcher struct {
	api  API
	opts Options
}

// BatchSize lets the cache fill a BatchGetItem call with other due items.
func (f *fetcher) BatchSize() int { return MaxBatchKeys }

// Fetch gets every due item in as few calls as it can: GetItem for one
// item, else BatchGetItem calls of up to 100 keys, several tables in a call.
func (f *fetcher) Fetch(ctx context.Context, reqs []*cache.Request) {
	byID := map[string]*want{}
	var wants []*want
	for _, r := range reqs {
		it, ok := r.Arg.(*item)
		if !ok {
			r.Fail(fmt.Errorf("%w: request argument is %T, want a dynamocache item", cache.ErrInvalid, r.Arg))
			continue
		}
		w := byID[it.id()]
		if w == nil {
			w = &want{it: it}
			byID[it.id()] = w
			wants = append(wants, w)
		}
		w.reqs = append(w.reqs, r)
	}
	var g errgroup.Group
	g.SetLimit(f.opts.Concurrency)
	for _, call := range pack(wants) {
		g.Go(func() error { f.get(ctx, call); return nil })
	}
	_ = g.Wait() // each call answers its requests; none returns an error
}

// pack puts wants into calls of up to MaxBatchKeys keys. A call names each
// table once, with one consistency, so the same table read both ways needs
// two calls.
func pack(wants []*want) [][]*want {
	type group struct {
		table      string
		consistent bool
		wants      []*want
	}
	var groups []*group
	for _, w := range wants {
		i := slices.IndexFunc(groups, func(g *group) bool { return g.table == w.it.table && g.consistent == w.it.consistent })
		if i < 0 {
			groups = append(groups, &group{table: w.it.table, consistent: w.it.consistent})
			i = len(groups) - 1
		}
		groups[i].wants = append(groups[i].wants, w)
	}
	type call struct {
		wants  []*want
		tables map[string]bool
	}
	var calls []*call
	for _, g := range groups {
		rest := g.wants
		for _, c := range calls {
			if len(rest) == 0 {
				break
			}
			if _, taken := c.tables[g.table]; taken || len(c.wants) == MaxBatchKeys {
				continue
			}
			n := min(MaxBatchKeys-len(c.wants), len(rest))
			c.wants = append(c.wants, rest[:n]...)
			c.tables[g.table] = true
			rest = rest[n:]
		}
		for len(rest) > 0 {
			n := min(MaxBatchKeys, len(rest))
			calls = append(calls, &call{wants: rest[:n:n], tables: map[string]bool{g.table: true}})
			rest = rest[n:]
		}
	}
	out := make([][]*want, len(calls))
	for i, c := range calls {
		out[i] = c.wants
	}
	return out
}

// get fetches the wants of one call: GetItem for one, else BatchGetItem.
func (f *fetcher) get(ctx context.Context, wants []*want) {
	if len(wants) == 1 {
		f.getItem(ctx, wants[0])
		return
	}
	f.batch(ctx, wants)
}

func (f *fetcher) getItem(ctx context.Context, w *want) {
	out, err := f.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(w.it.table),
		Key:            w.it.key,
		ConsistentRead: aws.Bool(w.it.consistent),
	})
	if err != nil {
		w.fail(fmt.Errorf("get item from table %s: %w", w.it.table, awserr.Classify(err)))
		return
	}
	if out.Item == nil {
		w.notFound()
		return
	}
	w.succeed(out.Item)
}

// batch fetches up to 100 wants with BatchGetItem, asking again for the
// keys left unprocessed. When the call as a whole is refused for something
// one entry may have caused (a table that does not exist, a key that does
// not match the table's schema), it splits the call so that only the
// entries at fault fail.
func (f *fetcher) batch(ctx context.Context, wants []*want) {
	open := map[string]*want{} // by table + "\x00" + canonical key
	for _, w := range wants {
		open[w.it.table+"\x00"+w.it.canon] = w
	}
	pending := keysOf(open)
	refused := false
	res, err := f.opts.Retry.Do(ctx, func(ctx context.Context, attempt int) error {
		out, err := f.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			if attempt == 1 && f.refused(ctx, wants, err) {
				refused = true
				return nil
			}
			// The SDK has retried what it should: not again here.
			return fmt.Errorf("batch get item from %s: %w", tableList(pending), awserr.Classify(err))
		}
		for table, items := range out.Responses {
			for _, m := range items {
				if w := match(open, table, m); w != nil {
					w.succeed(m)
					delete(open, table+"\x00"+w.it.canon)
				}
			}
		}
		unprocessed := map[string]*want{}
		for table, ka := range out.UnprocessedKeys {
			for _, k := range ka.Keys {
				if w := match(open, table, k); w != nil {
					unprocessed[table+"\x00"+w.it.canon] = w
				}
			}
		}
		for id, w := range open {
			if _, ok := unprocessed[id]; !ok {
				w.notFound()
				delete(open, id)
			}
		}
		if len(open) == 0 {
			return nil
		}
		pending = keysOf(open)
		return retry.Retryable(errUnprocessed)
	})
	if refused || len(open) == 0 {
		return
	}
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(err, errUnprocessed):
		err = fmt.Errorf("%w: DynamoDB left the key unprocessed after %d BatchGetItem calls", cache.ErrThrottled, res.Attempts)
	}
	for _, w := range open {
		w.fail(err)
	}
}

var errUnprocessed = errors.New("keys left unprocessed")

// keysOf asks again for the keys of wants, with each table's consistency
// as the entries asked for it rather than as the response echoed it.
func keysOf(wants map[string]*want) map[string]types.KeysAndAttributes {
	req := map[string]types.KeysAndAttributes{}
	for _, w := range wants {
		ka := req[w.it.table]
		ka.Keys = append(ka.Keys, w.it.key)
		ka.ConsistentRead = aws.Bool(w.it.consistent)
		req[w.it.table] = ka
	}
	return req
}

// refused handles a BatchGetItem refused as a whole, for what may be the
// fault of some of its keys only: a table that does not exist, a key that
// does not fit its table's schema. It reports whether it answered the
// wants. The call is split by table, then by the shape of the keys
// (attribute names and types); a table that does not exist fails its
// entries; with one shape left, two keys are probed with GetItem: if both
// are refused too, the shape is wrong and every entry fails, else the rest
// is fetched in halves until the keys at fault are alone.
func (f *fetcher) refused(ctx context.Context, wants []*want, err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	code := ae.ErrorCode()
	if code != "ResourceNotFoundException" && code != "ValidationException" {
		return false
	}
	if parts := partition(wants, func(w *want) string { return w.it.table }); len(parts) > 1 {
		f.getAll(ctx, parts)
		return true
	}
	if parts := partition(wants, func(w *want) string { return w.it.shape }); len(parts) > 1 {
		f.getAll(ctx, parts)
		return true
	}
	if code == "ResourceNotFoundException" {
		return false
	}
	// Probe the first and the last key: both refused means the shape is
	// wrong for every key (a misnamed key attribute); else the fault is
	// some keys', and halving finds them.
	first, last := wants[0], wants[len(wants)-1]
	f.getItem(ctx, first)
	f.getItem(ctx, last)
	rest := wants[1 : len(wants)-1]
	if errorCode(first.err) == "ValidationException" && errorCode(last.err) == "ValidationException" {
		err := fmt.Errorf("batch get item from table %s: %w", first.it.table, awserr.Classify(err))
		for _, w := range rest {
			w.fail(err)
		}
		return true
	}
	h := len(rest) / 2
	f.getAll(ctx, [][]*want{rest[:h:h], rest[h:]})
	return true
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (f *fetcher) getAll(ctx context.Context, parts [][]*want) {
	for _, p := range parts {
		if len(p) > 0 {
			f.get(ctx, p)
		}
	}
}

// partition groups wants by by, in order of first appearance.
func partition(wants []*want, by func(*want) string) [][]*want {
	var parts [][]*want
	index := map[string]int{}
	for _, w := range wants {
		k := by(w)
		i, ok := index[k]
		if !ok {
			i = len(parts)
			index[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], w)
	}
	return parts
}

// match finds the open want of table whose key is part of m (an item, or a
// key).
func match(open map[string]*want, table string, m map[string]types.AttributeValue) *want {
	// Every want of a table should name the same key attributes; try each
	// set found, usually one.
	tried := map[string]bool{}
	for _, w := range open {
		if w.it.table != table {
			continue
		}
		names := strings.Join(slices.Sorted(maps.Keys(w.it.key)), "\x00")
		if tried[names] {
			continue
		}
		tried[names] = true
		k := make(map[string]types.AttributeValue, len(w.it.key))
		for n := range w.it.key {
			k[n] = m[n]
		}
		canon, _, _, err := canonical(k)
		if err != nil {
			continue
		}
		if hit := open[table+"\x00"+canon]; hit != nil {
			return hit
		}
	}
	return nil
}

func tableList(req map[string]types.KeysAndAttributes) string {
	return strings.Join(slices.Sorted(maps.Keys(req)), ", ")
}

// Interface guards.
var (
	_ API              = (*dynamodb.Client)(nil)
	_ cache.Fetcher    = (*fetcher)(nil)
	_ cache.BatchSizer = (*fetcher)(nil)
)
