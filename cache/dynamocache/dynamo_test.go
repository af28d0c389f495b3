package dynamocache_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/dynamocache"
	"github.com/offload-dev/offload/internal/awstest"
	"github.com/offload-dev/offload/retry"
)

// TestTTLCycle is lambda-cache's TTL test on an item: the old value before
// expiry, the new one after, and back again.
func TestTTLCycle(t *testing.T) {
	f := setup(t, dynamocache.Options{})
	table := newTable(t, f.admin, "id", "", "")
	put(t, f.admin, table, map[string]types.AttributeValue{"id": s("cfg"), "value": s("one")})
	e := cache.MustAdd(f.cache, f.client.Value(table, "cfg"), cache.MaxAge(time.Minute))

	steps := []struct {
		name    string
		advance time.Duration
		write   string
		want    string
		gets    int
	}{
		{name: "first read", want: "one", gets: 1},
		{name: "fresh: from memory", advance: 30 * time.Second, want: "one", gets: 1},
		{name: "written but still fresh", advance: 29 * time.Second, write: "two", want: "one", gets: 1},
		{name: "expired: the new value", advance: 2 * time.Second, want: "two", gets: 2},
		{name: "back again", advance: 61 * time.Second, write: "one", want: "one", gets: 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.write != "" {
				put(t, f.admin, table, map[string]types.AttributeValue{"id": s("cfg"), "value": s(st.write)})
			}
			f.clock.Advance(st.advance)
			got, err := e.Get(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != st.want {
				t.Errorf("got %q, want %q", got, st.want)
			}
			f.wantCalls(t, st.gets, 0)
		})
	}
}

// TestBatch: 150 items due together cost two BatchGetItem calls, whether
// loaded together or read one by one (the cache fills each call with the
// entries not loaded yet).
func TestBatch(t *testing.T) {
	tests := []struct {
		name  string
		load  func(ctx context.Context, c *cache.Cache, es []*cache.Entry[string]) error
		batch int
	}{
		{name: "loaded together", batch: 2, load: func(ctx context.Context, c *cache.Cache, _ []*cache.Entry[string]) error {
			return c.Load(ctx)
		}},
		{name: "read one by one", batch: 2, load: func(ctx context.Context, _ *cache.Cache, es []*cache.Entry[string]) error {
			for _, e := range es {
				if _, err := e.Get(ctx); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, dynamocache.Options{})
			table := newTable(t, f.admin, "id", "", "")
			var es []*cache.Entry[string]
			for i := range 150 {
				name := fmt.Sprintf("p%03d", i)
				put(t, f.admin, table, map[string]types.AttributeValue{"id": s(name), "value": s("v" + name)})
				es = append(es, cache.MustAdd(f.cache, f.client.Value(table, name)))
			}
			ctx := context.Background()
			if err := tt.load(ctx, f.cache, es); err != nil {
				t.Fatal(err)
			}
			f.wantCalls(t, 0, tt.batch)
			t.Logf("150 items: %s, keys per call %v", f.counter, f.unproc.callSizes())
			for i, e := range es {
				got, err := e.Get(ctx)
				if want := fmt.Sprintf("vp%03d", i); err != nil || got != want {
					t.Fatalf("entry %d: got %q, %v, want %q", i, got, err, want)
				}
			}
			f.wantCalls(t, 0, tt.batch)

			// Expired together: refreshed together, again in two calls.
			f.clock.Advance(61 * time.Second)
			if err := f.cache.Load(ctx); err != nil {
				t.Fatal(err)
			}
			f.wantCalls(t, 0, 2*tt.batch)
		})
	}
}

// TestPacking: calls carry several tables, but each table once and with
// one consistency.
func TestPacking(t *testing.T) {
	f := setup(t, dynamocache.Options{})
	a := newTable(t, f.admin, "id", "", "")
	b := newTable(t, f.admin, "id", "", "")
	for i := range 30 {
		id := fmt.Sprintf("k%d", i)
		put(t, f.admin, a, map[string]types.AttributeValue{"id": s(id), "value": s("a" + id)})
		put(t, f.admin, b, map[string]types.AttributeValue{"id": s(id), "value": s("b" + id)})
		cache.MustAdd(f.cache, f.client.Value(a, id))
		cache.MustAdd(f.cache, f.client.Value(b, id))
		if i < 10 {
			cache.MustAdd(f.cache, f.client.Value(a, id, dynamocache.ConsistentRead()))
		}
	}
	if err := f.cache.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 60 eventual reads of a and b in one call, 10 consistent reads of a in another.
	f.wantCalls(t, 0, 2)
	if got := f.unproc.callSizes(); len(got) != 2 || got[0]+got[1] != 70 {
		t.Errorf("got keys per call %v, want two calls of 70 keys in all", got)
	}
}

// TestSameItemTwice: entries for the same item are asked for once (a
// BatchGetItem with a duplicate key is refused).
func TestSameItemTwice(t *testing.T) {
	f := setup(t, dynamocache.Options{})
	table := newTable(t, f.admin, "id", "", "")
	put(t, f.admin, table, map[string]types.AttributeValue{"id": s("a"), "value": s("1"), "n": n("7")})
	put(t, f.admin, table, map[string]types.AttributeValue{"id": s("b"), "value": s("2")})
	type rec struct {
		ID string `dynamodbav:"id"`
		N  int    `dynamodbav:"n"`
	}
	val := cache.MustAdd(f.cache, f.client.Value(table, "a"))
	typed := cache.MustAdd(f.cache, dynamocache.ItemAs[rec](f.client, table, dynamocache.StringKey("id", "a")))
	raw := cache.MustAdd(f.cache, f.client.Item(table, dynamocache.StringKey("id", "a")))
	other := cache.MustAdd(f.cache, f.client.Value(table, "b"))
	ctx := context.Background()
	if err := f.cache.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, 0, 1)
	if got := f.unproc.callSizes(); len(got) != 1 || got[0] != 2 {
		t.Errorf("got keys per call %v, want [2]", got)
	}
	v, _ := val.Get(ctx)
	r, _ := typed.Get(ctx)
	m, _ := raw.Get(ctx)
	o, _ := other.Get(ctx)
	if v != "1" || r != (rec{"a", 7}) || len(m) != 3 || o != "2" {
		t.Errorf("got %q, %+v, %d attributes, %q; want 1, {a 7}, 3 attributes, 2", v, r, len(m), o)
	}
	// The same item read the same way: one key name, a variant per value.
	if vk, rk, tk := val.Key(), raw.Key(), typed.Key(); vk.Name != rk.Name || tk.Name != rk.Name || vk == rk || tk == rk || vk == tk {
		t.Errorf("got keys %v, %v and %v, want one name and three variants", vk, rk, tk)
	}
}

// TestNotFound: a missing item fails with ErrNotFound naming the table
// and key, alone (GetItem) or in a batch, where the others are answered.
func TestNotFound(t *testing.T) {
	tests := []struct {
		name       string
		others     int
		get, batch int
	}{
		{name: "alone", others: 0, get: 1},
		{name: "in a batch", others: 3, batch: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, dynamocache.Options{})
			table := newTable(t, f.admin, "id", "", "")
			var others []*cache.Entry[string]
			for i := range tt.others {
				id := fmt.Sprint(i)
				put(t, f.admin, table, map[string]types.AttributeValue{"id": s(id), "value": s("x" + id)})
				others = append(others, cache.MustAdd(f.cache, f.client.Value(table, id)))
			}
			missing := cache.MustAdd(f.cache, f.client.Value(table, "nope"))
			ctx := context.Background()
			_ = f.cache.Load(ctx)
			_, err := missing.Get(ctx)
			if !errors.Is(err, cache.ErrNotFound) {
				t.Fatalf("got error %v, want ErrNotFound", err)
			}
			for _, want := range []string{"table " + table, `id="nope"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to name %s", err, want)
				}
			}
			for i, e := range others {
				if got, err := e.Get(ctx); err != nil || got != fmt.Sprintf("x%d", i) {
					t.Errorf("entry %d: got %q, %v, want x%d", i, got, err, i)
				}
			}
			f.wantCalls(t, tt.get, tt.batch)
		})
	}
}

// TestRefusedBatch: when BatchGetItem is refused for some entries' sake
// (their table does not exist, their key does not fit the schema), the
// others are still answered, the entries at fault fail, and finding them
// costs few calls.
func TestRefusedBatch(t *testing.T) {
	type specs = []cache.Spec[map[string]types.AttributeValue]
	tests := []struct {
		name    string
		bad     func(c *dynamocache.Client, table string) specs
		good    int
		want    error
		wantMsg string
		calls   int
	}{
		{
			name: "missing table",
			bad: func(c *dynamocache.Client, _ string) specs {
				return specs{c.Item("no-such-table", dynamocache.StringKey("id", "0")), c.Item("no-such-table", dynamocache.StringKey("id", "1"))}
			},
			good: 7, want: cache.ErrNotFound, wantMsg: "ResourceNotFoundException",
			calls: 3, // refused, then one call per table
		},
		{
			name: "missing table alone",
			bad: func(c *dynamocache.Client, _ string) specs {
				var out specs
				for i := range 20 {
					out = append(out, c.Item("no-such-table", dynamocache.StringKey("id", fmt.Sprint(i))))
				}
				return out
			},
			want: cache.ErrNotFound, wantMsg: "ResourceNotFoundException", calls: 1,
		},
		{
			name: "one key not in the schema",
			bad: func(c *dynamocache.Client, table string) specs {
				return specs{c.Item(table, dynamocache.StringKey("wrong", "0"))}
			},
			good: 7, wantMsg: "ValidationException",
			calls: 3, // refused, then one call per key shape
		},
		{
			name: "every key not in the schema",
			bad: func(c *dynamocache.Client, table string) specs {
				var out specs
				for i := range 20 {
					out = append(out, c.Item(table, dynamocache.StringKey("wrong", fmt.Sprint(i))))
				}
				return out
			},
			wantMsg: "ValidationException", calls: 3, // refused, two probes
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, dynamocache.Options{})
			table := newTable(t, f.admin, "id", "", "")
			var good []*cache.Entry[string]
			for i := range tt.good {
				id := fmt.Sprint(i)
				put(t, f.admin, table, map[string]types.AttributeValue{"id": s(id), "value": s("x" + id)})
				good = append(good, cache.MustAdd(f.cache, f.client.Value(table, id)))
			}
			var bad []*cache.Entry[map[string]types.AttributeValue]
			for _, sp := range tt.bad(f.client, table) {
				bad = append(bad, cache.MustAdd(f.cache, sp))
			}
			ctx := context.Background()
			_ = f.cache.Load(ctx)
			t.Logf("calls: %s", f.counter)
			if calls := f.counter.Count(); calls > tt.calls {
				t.Errorf("got %d calls (%s), want at most %d", calls, f.counter, tt.calls)
			}
			for _, e := range bad {
				_, err := e.Get(ctx)
				if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("%s: got error %v, want %v with %s", e.Key(), err, tt.want, tt.wantMsg)
				}
			}
			for i, e := range good {
				if got, err := e.Get(ctx); err != nil || got != fmt.Sprintf("x%d", i) {
					t.Errorf("entry %d: got %q, %v, want x%d", i, got, err, i)
				}
			}
		})
	}
}

// TestUnprocessedKeys: keys BatchGetItem leaves unprocessed are asked for
// again, a bounded number of times; past it their entries are throttled.
func TestUnprocessedKeys(t *testing.T) {
	tests := []struct {
		name      string
		attempts  int
		keep      int // keys processed per call while unprocessing
		times     int // calls that leave keys unprocessed; < 0 all
		wantErr   error
		batch     int
		wantSizes []int
	}{
		{name: "retried until done", keep: 4, times: 2, batch: 3, wantSizes: []int{10, 6, 2}}, // default: 6 attempts
		{name: "retries run out", attempts: 3, keep: 3, times: -1, wantErr: cache.ErrThrottled, batch: 3, wantSizes: []int{10, 7, 4}},
		{name: "no retries", attempts: 1, keep: 0, times: -1, wantErr: cache.ErrThrottled, batch: 1, wantSizes: []int{10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits []time.Duration
			f := setup(t, dynamocache.Options{Retry: retry.Policy{MaxAttempts: tt.attempts, Sleep: func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}}})
			table := newTable(t, f.admin, "id", "", "")
			var es []*cache.Entry[string]
			for i := range 10 {
				id := fmt.Sprint(i)
				put(t, f.admin, table, map[string]types.AttributeValue{"id": s(id), "value": s("x" + id)})
				es = append(es, cache.MustAdd(f.cache, f.client.Value(table, id)))
			}
			f.unproc.set(tt.keep, tt.times)
			err := f.cache.Load(context.Background())
			if tt.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "unprocessed")) {
				t.Errorf("got error %v, want %v saying unprocessed", err, tt.wantErr)
			}
			f.wantCalls(t, 0, tt.batch)
			if got := f.unproc.callSizes(); fmt.Sprint(got) != fmt.Sprint(tt.wantSizes) {
				t.Errorf("got keys per call %v, want %v", got, tt.wantSizes)
			}
			// retry.Policy.Backoff with the defaults: 25ms up to 50ms·2^(n-1).
			if len(waits) != tt.batch-1 {
				t.Errorf("got %d waits (%v), want %d, one before each call after the first", len(waits), waits, tt.batch-1)
			}
			for i, w := range waits {
				if ceiling := 50 * time.Millisecond << i; w < 25*time.Millisecond || w > ceiling {
					t.Errorf("wait %d: got %s, want 25ms to %s", i+1, w, ceiling)
				}
			}
			loaded := 0
			for _, e := range es {
				if e.Stats().Loaded {
					loaded++
				}
			}
			if want := 10 - (tt.wantSizes[len(tt.wantSizes)-1] - tt.keep); tt.wantErr != nil && loaded != want {
				t.Errorf("got %d entries loaded, want %d (those processed)", loaded, want)
			}
		})
	}
}

// TestResponseLimit: moto itself leaves keys unprocessed past BatchGetItem's
// 16 MB response limit; they are fetched by the next call.
func TestResponseLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("moves about 20 MB through moto")
	}
	f := setup(t, dynamocache.Options{})
	table := newTable(t, f.admin, "id", "", "")
	big := strings.Repeat("x", 350<<10)
	var es []*cache.Entry[string]
	for i := range 50 {
		id := fmt.Sprint(i)
		put(t, f.admin, table, map[string]types.AttributeValue{"id": s(id), "value": s(big)})
		es = append(es, cache.MustAdd(f.cache, f.client.Value(table, id)))
	}
	if err := f.cache.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, 0, 2)
	for i, e := range es {
		if st := e.Stats(); !st.Loaded || st.Size < 350<<10 {
			t.Errorf("entry %d: got loaded %v, size %d, want a 350 KiB value", i, st.Loaded, st.Size)
		}
	}
}

// TestValue is Powertools' DynamoDBProvider layout, default and renamed.
func TestValue(t *testing.T) {
	tests := []struct {
		name    string
		opts    dynamocache.Options
		item    map[string]types.AttributeValue
		get     string
		want    string
		wantErr error
	}{
		{name: "string", item: map[string]types.AttributeValue{"id": s("rate"), "value": s("100")}, get: "rate", want: "100"},
		{name: "number", item: map[string]types.AttributeValue{"id": s("rate"), "value": n("12.50")}, get: "rate", want: "12.50"},
		{
			name: "renamed attributes", opts: dynamocache.Options{KeyAttribute: "pk", ValueAttribute: "v"},
			item: map[string]types.AttributeValue{"pk": s("rate"), "v": s("7")}, get: "rate", want: "7",
		},
		{name: "no value attribute", item: map[string]types.AttributeValue{"id": s("rate")}, get: "rate", wantErr: cache.ErrDecode},
		{
			name: "value not a string", item: map[string]types.AttributeValue{"id": s("rate"), "value": &types.AttributeValueMemberBOOL{Value: true}},
			get: "rate", wantErr: cache.ErrDecode,
		},
		{name: "missing item", item: map[string]types.AttributeValue{"id": s("rate"), "value": s("1")}, get: "other", wantErr: cache.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, tt.opts)
			pk := tt.opts.KeyAttribute
			if pk == "" {
				pk = "id"
			}
			table := newTable(t, f.admin, pk, "", "")
			put(t, f.admin, table, tt.item)
			e := cache.MustAdd(f.cache, f.client.Value(table, tt.get))
			got, err := e.Get(context.Background())
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("got %q, %v, want error %v", got, err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if e.Name() != tt.get {
				t.Errorf("got short name %q, want %q", e.Name(), tt.get)
			}
		})
	}
}

// TestValueJSON: a JSON value decodes with cache.JSON, as Powertools'
// transform="json" does.
func TestValueJSON(t *testing.T) {
	f := setup(t, dynamocache.Options{})
	table := newTable(t, f.admin, "id", "", "")
	put(t, f.admin, table, map[string]types.AttributeValue{"id": s("limits"), "value": s(`{"rps":40}`)})
	put(t, f.admin, table, map[string]types.AttributeValue{"id": s("broken"), "value": s(`{"rps":`)})
	type limits struct{ RPS int }
	good := cache.MustAdd(f.cache, cache.JSON[limits](f.client.Value(table, "limits")))
	bad := cache.MustAdd(f.cache, cache.JSON[limits](f.client.Value(table, "broken")))
	ctx := context.Background()
	if got, err := good.Get(ctx); err != nil || got.RPS != 40 {
		t.Errorf("got %+v, %v, want RPS 40", got, err)
	}
	if _, err := bad.Get(ctx); !errors.Is(err, cache.ErrDecode) || !strings.Contains(err.Error(), `id="broken"`) {
		t.Errorf("got error %v, want ErrDecode naming id=\"broken\"", err)
	}
}

// TestCompositeKey: a partition and sort key, with numbers matched by value
// (the entry asks for 2.50; DynamoDB answers 2.5).
func TestCompositeKey(t *testing.T) {
	f := setup(t, dynamocache.Options{})
	table := newTable(t, f.admin, "pk", "sk", types.ScalarAttributeTypeN)
	type row struct {
		PK string  `dynamodbav:"pk"`
		SK float64 `dynamodbav:"sk"`
		V  string  `dynamodbav:"v"`
	}
	put(t, f.admin, table, map[string]types.AttributeValue{"pk": s("a"), "sk": n("2.5"), "v": s("x")})
	put(t, f.admin, table, map[string]types.AttributeValue{"pk": s("a"), "sk": n("3"), "v": s("y")})
	k1 := map[string]types.AttributeValue{"pk": s("a"), "sk": n("2.50")}
	k2 := map[string]types.AttributeValue{"pk": s("a"), "sk": n("3.0")}
	e1 := cache.MustAdd(f.cache, dynamocache.ItemAs[row](f.client, table, k1))
	e2 := cache.MustAdd(f.cache, dynamocache.ItemAs[row](f.client, table, k2, dynamocache.ConsistentRead()))
	e3 := cache.MustAdd(f.cache, dynamocache.ItemAs[row](f.client, table, k2))
	ctx := context.Background()
	if err := f.cache.Load(ctx); err != nil {
		t.Fatal(err)
	}
	r1, _ := e1.Get(ctx)
	r2, _ := e2.Get(ctx)
	r3, _ := e3.Get(ctx)
	if r1.V != "x" || r2.V != "y" || r3.V != "y" {
		t.Errorf("got %+v %+v %+v, want x, y, y", r1, r2, r3)
	}
	if got, want := e1.Key().String(), "dynamodb:"+table+`/pk="a",sk=2.5 [decoded]`; got != want {
		t.Errorf("got key %s, want %s", got, want)
	}
	if got, want := e2.Key().String(), "dynamodb:"+table+`/pk="a",sk=3 [consistent,decoded]`; got != want {
		t.Errorf("got key %s, want %s", got, want)
	}
	if e1.Name() != "a/2.5" {
		t.Errorf("got short name %q, want %q", e1.Name(), "a/2.5")
	}
	// One call for the eventual reads, one for the consistent one (a table
	// appears once per call).
	f.wantCalls(t, 1, 1)
}

// TestAWSErrors: the service's errors are classified for errors.Is, and a
// failed refresh serves the cached value.
func TestAWSErrors(t *testing.T) {
	tests := []struct {
		code   string
		status int
		want   error
	}{
		{"ProvisionedThroughputExceededException", http.StatusBadRequest, cache.ErrThrottled},
		{"ThrottlingException", http.StatusBadRequest, cache.ErrThrottled},
		{"RequestLimitExceeded", http.StatusBadRequest, cache.ErrThrottled},
		{"AccessDeniedException", http.StatusBadRequest, cache.ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			proxy := awstest.NewFaultProxy(moto.URL)
			defer proxy.Close()
			admin := dynamodb.NewFromConfig(moto.Config())
			table := newTable(t, admin, "id", "", "")
			put(t, admin, table, map[string]types.AttributeValue{"id": s("k"), "value": s("v1")})
			f := setup(t, dynamocache.Options{})
			client := newClient(t, dynamodb.NewFromConfig(awstest.Config(proxy.URL)))
			e := cache.MustAdd(f.cache, client.Value(table, "k"), cache.MaxAge(time.Minute))
			ctx := context.Background()

			proxy.Inject(awstest.Fault{Op: "GetItem", Times: 1, Status: tt.status, Code: tt.code, Message: "injected"})
			_, err := e.Get(ctx)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.code) || !strings.Contains(err.Error(), table) {
				t.Fatalf("got error %v, want %v naming %s and the table", err, tt.want, tt.code)
			}
			f.clock.Advance(2 * time.Second) // past the retry backoff
			if got, err := e.Get(ctx); err != nil || got != "v1" {
				t.Fatalf("got %q, %v, want v1", got, err)
			}
			proxy.Inject(awstest.Fault{Op: "GetItem", Times: 1, Status: tt.status, Code: tt.code, Message: "injected"})
			f.clock.Advance(61 * time.Second)
			if got, err := e.Get(ctx); err != nil || got != "v1" {
				t.Errorf("refresh failed: got %q, %v, want the cached v1", got, err)
			}
			if st := e.Stats(); st.Errors != 2 || st.Stale != 1 {
				t.Errorf("got %d errors and %d stale reads, want 2 and 1", st.Errors, st.Stale)
			}
		})
	}
}

// TestInvalidSpecs are refused when added, saying what is wrong.
func TestInvalidSpecs(t *testing.T) {
	f := setup(t, dynamocache.Options{})
	tests := []struct {
		name string
		spec cache.Spec[map[string]types.AttributeValue]
		want string
	}{
		{"no table", f.client.Item("", dynamocache.StringKey("id", "a")), "no table"},
		{"no key", f.client.Item("t", nil), "no attributes"},
		{"bool key", f.client.Item("t", map[string]types.AttributeValue{"id": &types.AttributeValueMemberBOOL{}}), "boolean"},
		{"bad number", f.client.Item("t", map[string]types.AttributeValue{"id": n("1x")}), "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cache.Add(f.cache, tt.spec)
			if !errors.Is(err, cache.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
	f.wantCalls(t, 0, 0)
}

// TestKeys: keys that name the same item are equal, others differ.
func TestKeys(t *testing.T) {
	c := newClient(t, &poisonAPI{}) // never called: keys are built without a call
	key := func(table string, k map[string]types.AttributeValue, opts ...dynamocache.ReadOption) string {
		return c.Item(table, k, opts...).Key.String()
	}
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"number forms", key("t", map[string]types.AttributeValue{"id": n("1.0")}), key("t", map[string]types.AttributeValue{"id": n("1")}), true},
		{"exponent", key("t", map[string]types.AttributeValue{"id": n("1e2")}), key("t", map[string]types.AttributeValue{"id": n("100")}), true},
		{"string and number", key("t", map[string]types.AttributeValue{"id": s("1")}), key("t", map[string]types.AttributeValue{"id": n("1")}), false},
		{"tables", key("a", dynamocache.StringKey("id", "x")), key("b", dynamocache.StringKey("id", "x")), false},
		{"consistency", key("t", dynamocache.StringKey("id", "x")), key("t", dynamocache.StringKey("id", "x"), dynamocache.ConsistentRead()), false},
		{"quote in a value", key("t", map[string]types.AttributeValue{"a": s(`x",b="y`)}),
			key("t", map[string]types.AttributeValue{"a": s("x"), "b": s("y")}), false},
		{"binary", key("t", map[string]types.AttributeValue{"id": &types.AttributeValueMemberB{Value: []byte{1, 2}}}), "dynamodb:t/id=0x0102", true},
		{"small number", key("t", map[string]types.AttributeValue{"id": n("-0.000100")}), "dynamodb:t/id=-0.0001", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a == tt.b; got != tt.same {
				t.Errorf("got %s and %s equal %v, want %v", tt.a, tt.b, got, tt.same)
			}
		})
	}
}

// poisonAPI refuses, as DynamoDB refuses a key over the size limit, every
// call that carries the poison key; moto does not check key sizes.
type poisonAPI struct {
	poison string
	mu     sync.Mutex
	calls  []int // keys per call
}

func (p *poisonAPI) record(keys []map[string]types.AttributeValue) error {
	p.mu.Lock()
	p.calls = append(p.calls, len(keys))
	p.mu.Unlock()
	for _, k := range keys {
		if k["id"].(*types.AttributeValueMemberS).Value == p.poison {
			return &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid: key too long"}
		}
	}
	return nil
}

func poisonItem(k map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": k["id"], "value": s("x" + k["id"].(*types.AttributeValueMemberS).Value)}
}

func (p *poisonAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := p.record([]map[string]types.AttributeValue{in.Key}); err != nil {
		return nil, err
	}
	return &dynamodb.GetItemOutput{Item: poisonItem(in.Key)}, nil
}

func (p *poisonAPI) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	var all []map[string]types.AttributeValue
	for _, ka := range in.RequestItems {
		all = append(all, ka.Keys...)
	}
	if err := p.record(all); err != nil {
		return nil, err
	}
	for table, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			out.Responses[table] = append(out.Responses[table], poisonItem(k))
		}
	}
	return out, nil
}

// TestRefusedKey: a batch refused for one key of the right shape is split
// until that key is alone; the others are answered.
func TestRefusedKey(t *testing.T) {
	for _, poison := range []string{"0", "1", "5", "8", "15", "16"} {
		t.Run("poison "+poison, func(t *testing.T) {
			api := &poisonAPI{poison: poison}
			client := newClient(t, api)
			c := newCache(t)
			var es []*cache.Entry[string]
			for i := range 17 {
				es = append(es, cache.MustAdd(c, client.Value("t", fmt.Sprint(i))))
			}
			ctx := context.Background()
			_ = c.Load(ctx)
			for i, e := range es {
				got, err := e.Get(ctx)
				if fmt.Sprint(i) == poison {
					if !strings.Contains(fmt.Sprint(err), "ValidationException") {
						t.Errorf("poisoned entry: got %q, %v, want a ValidationException", got, err)
					}
					continue
				}
				if want := fmt.Sprintf("x%d", i); err != nil || got != want {
					t.Errorf("entry %d: got %q, %v, want %q", i, got, err, want)
				}
			}
			t.Logf("keys per call: %v", api.calls)
			if len(api.calls) > 12 {
				t.Errorf("got %d calls (keys per call %v), want at most 12", len(api.calls), api.calls)
			}
		})
	}
}
