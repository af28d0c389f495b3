// Package pipeline applies plans: it reads the ledger, plans a batch of
// changes, mirrors changed objects (streamed from the bucket), purges the
// CDNs, and records in the ledger only the changes whose mirrors and purges
// all succeeded, so a redelivery retries exactly what failed. It also holds
// the durable inbox and the worker that drain it for `offload serve`.
package pipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/event"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/plan"
	"github.com/offload-dev/offload/purge"
)

// ObjectAPI is the part of the S3 client mirrors read from.
type ObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options configure a Pipeline. A zero field means its default; Ledger
// has none.
type Options struct {
	// Ledger is read to plan and records the changes applied. Required.
	Ledger ledger.Ledger
	// Plan is the planner's view of the configuration: sites and targets.
	// Default: no site, so every change is skipped as filtered.
	Plan plan.Config
	// Purgers are the targets' purgers, by target name. Default none.
	Purgers map[string]purge.Purger
	// Mirrors are the mirrors, by name. Default none.
	Mirrors map[string]mirror.Mirror
	// Source is where mirrors read objects. Required with Mirrors; default
	// nil.
	Source ObjectAPI

	// Reserve is the time kept back before the context's deadline: past
	// it no new mirror or purge starts and the rest is reported failed, so
	// a Lambda function answers before it is cut off. Default 2s.
	Reserve time.Duration
	// Concurrency bounds the mirrors in flight, and each target's purge
	// calls in flight: targets do not share it, so one that waits (for its
	// rate limit, or on a slow API) does not hold back the others.
	// Default 4.
	Concurrency int
}

// Pipeline applies changes. It is safe for concurrent use.
type Pipeline struct {
	opts Options
}

// New returns a Pipeline, after applying optFns to a copy of opts. The
// maps are copied: changing them later changes nothing here.
func New(opts Options, optFns ...func(*Options)) (*Pipeline, error) {
	for _, fn := range optFns {
		fn(&opts)
	}
	switch {
	case opts.Ledger == nil:
		return nil, errors.New("pipeline: Options.Ledger is required")
	case len(opts.Mirrors) > 0 && opts.Source == nil:
		return nil, errors.New("pipeline: Options.Source is required with Options.Mirrors")
	case opts.Reserve < 0:
		return nil, fmt.Errorf("pipeline: Options.Reserve %s is negative", opts.Reserve)
	case opts.Concurrency < 0:
		return nil, fmt.Errorf("pipeline: Options.Concurrency %d is negative", opts.Concurrency)
	}
	opts.Reserve = cmp.Or(opts.Reserve, 2*time.Second)
	opts.Concurrency = cmp.Or(opts.Concurrency, 4)
	opts.Purgers = maps.Clone(opts.Purgers)
	opts.Mirrors = maps.Clone(opts.Mirrors)
	return &Pipeline{opts: opts}, nil
}

// Options returns the pipeline's options, defaults filled in, with maps of
// its own: changing them changes nothing here.
func (p *Pipeline) Options() Options {
	o := p.opts
	o.Purgers = maps.Clone(o.Purgers)
	o.Mirrors = maps.Clone(o.Mirrors)
	return o
}

// Status of a change, mirror or purge in a Result.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped" // not needed, or the plan said skip
)

// ChangeResult is a decision and how applying it went.
type ChangeResult struct {
	plan.Decision
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// MirrorResult is a mirror operation and how it went.
type MirrorResult struct {
	plan.MirrorOp
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// PurgeResult is a purge call and how it went.
type PurgeResult struct {
	plan.Batch
	Status string         `json:"status"`
	Error  string         `json:"error,omitempty"`
	Result *purge.Result  `json:"result,omitempty"`
	Failed map[string]int `json:"-"`
}

// Result is what `offload apply` prints and the Lambda handler reports.
type Result struct {
	Changes []ChangeResult `json:"changes"`
	Mirrors []MirrorResult `json:"mirrors"`
	Purges  []PurgeResult  `json:"purges"`
	Stats   plan.Stats     `json:"stats"`
	// Committed counts ledger records written.
	Committed int `json:"committed"`
	// Receipts counts the changes that failed after a purge succeeded at
	// some of their targets, recorded in the ledger so that their next
	// delivery purges only the others (ledger.Receipt).
	Receipts int `json:"receipts,omitempty"`
}

// FailedMessages returns the ids of the messages with a change that
// failed: what an SQS partial batch response lists for redelivery.
func (r *Result) FailedMessages() []string {
	var out []string
	for _, c := range r.Changes {
		if c.Status == StatusFailed && c.MessageID != "" && !slices.Contains(out, c.MessageID) {
			out = append(out, c.MessageID)
		}
	}
	return out
}

// Failed counts the changes that failed.
func (r *Result) Failed() int {
	n := 0
	for _, c := range r.Changes {
		if c.Status == StatusFailed {
			n++
		}
	}
	return n
}

// MakePlan reads the ledger for the objects the changes name, and the
// receipts of those purged through more than one target, and plans them.
func (p *Pipeline) MakePlan(ctx context.Context, changes []event.Change) (*plan.Plan, error) {
	held, err := p.held(ctx, plan.Objects(changes))
	if err != nil {
		return nil, err
	}
	receipts, err := p.readReceipts(ctx, plan.MultiTarget(p.opts.Plan, changes))
	if err != nil {
		return nil, err
	}
	return plan.Resume(p.opts.Plan, changes, held, receipts), nil
}

// MakePlanFrom is MakePlan of the changes a Builder gathered (a stream of
// events decoded into it); it empties the Builder.
func (p *Pipeline) MakePlanFrom(ctx context.Context, b *plan.Builder) (*plan.Plan, error) {
	held, err := p.held(ctx, b.Objects())
	if err != nil {
		return nil, err
	}
	receipts, err := p.readReceipts(ctx, b.MultiTarget(p.opts.Plan))
	if err != nil {
		return nil, err
	}
	return b.Make(p.opts.Plan, held, receipts), nil
}

// WritePlanFrom plans the changes a Builder gathered, as MakePlanFrom does,
// and writes the plan to w as plan.Plan's WriteJSON does, without holding
// a decision for every change (plan.Builder's WriteJSON); it empties the
// Builder.
func (p *Pipeline) WritePlanFrom(ctx context.Context, b *plan.Builder, w io.Writer, indent bool) error {
	held, err := p.held(ctx, b.Objects())
	if err != nil {
		return err
	}
	receipts, err := p.readReceipts(ctx, b.MultiTarget(p.opts.Plan))
	if err != nil {
		return err
	}
	return b.WriteJSON(w, p.opts.Plan, held, receipts, indent)
}

// readReceipts reads the ledger's receipts of objects, by bucket.
func (p *Pipeline) readReceipts(ctx context.Context, objects map[string][]string) (map[plan.Object]ledger.Receipt, error) {
	receipts := map[plan.Object]ledger.Receipt{}
	for bucket, keys := range objects {
		rs, err := p.opts.Ledger.Receipts(ctx, bucket, keys)
		if err != nil {
			return nil, fmt.Errorf("pipeline: read receipts: %w", err)
		}
		for k, rc := range rs {
			receipts[plan.Object{Bucket: bucket, Key: k}] = rc
		}
	}
	return receipts, nil
}

// held reads the ledger's records of objects, by bucket.
func (p *Pipeline) held(ctx context.Context, objects map[string][]string) (map[plan.Object]ledger.Record, error) {
	held := map[plan.Object]ledger.Record{}
	for bucket, keys := range objects {
		recs, err := p.opts.Ledger.Get(ctx, bucket, keys)
		if err != nil {
			return nil, fmt.Errorf("pipeline: read ledger: %w", err)
		}
		for k, r := range recs {
			held[plan.Object{Bucket: bucket, Key: k}] = r
		}
	}
	return held, nil
}

// Apply plans and applies a batch of changes. The error is for failures of
// the whole batch (the ledger could not be read); failures of single
// changes are in the Result.
func (p *Pipeline) Apply(ctx context.Context, changes []event.Change) (*Result, error) {
	pl, err := p.MakePlan(ctx, changes)
	if err != nil {
		return nil, err
	}
	return p.ApplyPlan(ctx, pl), nil
}

// ApplyPlan applies a plan made by MakePlan or MakePlanFrom: failures of
// single changes are in the Result.
func (p *Pipeline) ApplyPlan(ctx context.Context, pl *plan.Plan) *Result {
	res, failed := p.apply(ctx, wholePlan{pl})
	res.Changes = make([]ChangeResult, len(pl.Changes))
	for i, d := range pl.Changes {
		res.Changes[i] = changeResult(d, failed[i])
	}
	return res
}

// ApplyFrom plans the changes a Builder gathered, as MakePlanFrom does,
// applies the plan, as ApplyPlan does, and writes the Result to w, as its
// WriteJSON does; it empties the Builder. It returns how many changes
// failed. It holds no Decision for every change (plan.Compact), nor a
// ChangeResult: the Result's changes are written as they are made from
// the plan and what failed. The error is for failures of the whole batch
// (the ledger could not be read) and of w.
func (p *Pipeline) ApplyFrom(ctx context.Context, b *plan.Builder, w io.Writer, indent bool) (failed int, err error) {
	held, err := p.held(ctx, b.Objects())
	if err != nil {
		return 0, err
	}
	receipts, err := p.readReceipts(ctx, b.MultiTarget(p.opts.Plan))
	if err != nil {
		return 0, err
	}
	c := b.Compact(p.opts.Plan, held, receipts)
	res, errs := p.apply(ctx, compactPlan{c})
	var cr ChangeResult
	err = res.writeJSON(w, indent, c.Len(), func(i int) *ChangeResult {
		cr = changeResult(c.Decision(i), errs[i])
		if cr.Status == StatusFailed {
			failed++
		}
		return &cr
	})
	return failed, err
}

// changeResult is decision d's ChangeResult, with the error it failed with.
func changeResult(d plan.Decision, err error) ChangeResult {
	cr := ChangeResult{Decision: d, Status: StatusOK}
	if d.Decision == plan.Skip {
		cr.Status = StatusSkipped
	}
	if err != nil {
		cr.Status, cr.Error = StatusFailed, err.Error()
	}
	return cr
}

// planView is what apply reads of a plan: a plan.Plan, or the plan.Compact
// that ApplyFrom works from.
type planView interface {
	len() int
	decision(i int) plan.Decision
	mirrors() []plan.MirrorOp
	purges() []plan.Batch
	commits() int
	commit(k int) plan.Commit
	stats() plan.Stats
}

type wholePlan struct{ *plan.Plan }

func (v wholePlan) len() int                     { return len(v.Changes) }
func (v wholePlan) decision(i int) plan.Decision { return v.Changes[i] }
func (v wholePlan) mirrors() []plan.MirrorOp     { return v.Mirrors }
func (v wholePlan) purges() []plan.Batch         { return v.Purges }
func (v wholePlan) commits() int                 { return len(v.Commits) }
func (v wholePlan) commit(k int) plan.Commit     { return v.Commits[k] }
func (v wholePlan) stats() plan.Stats            { return v.Stats }

type compactPlan struct{ *plan.Compact }

func (v compactPlan) len() int                     { return v.Len() }
func (v compactPlan) decision(i int) plan.Decision { return v.Decision(i) }
func (v compactPlan) mirrors() []plan.MirrorOp     { return v.Mirrors() }
func (v compactPlan) purges() []plan.Batch         { return v.Purges() }
func (v compactPlan) commits() int                 { return v.Commits() }
func (v compactPlan) commit(k int) plan.Commit     { return v.Commit(k) }
func (v compactPlan) stats() plan.Stats            { return v.Stats() }

// apply applies pl. The Result has no Changes: failed has, by change, the
// error it failed with, nil for one that did not fail.
func (p *Pipeline) apply(ctx context.Context, pl planView) (res *Result, failed []error) {
	n := pl.len()
	failed = make([]error, n) // by decision
	var mu sync.Mutex
	fail := func(i int, err error) {
		mu.Lock()
		if failed[i] == nil {
			failed[i] = err
		}
		mu.Unlock()
	}
	for i := range n {
		if d := pl.decision(i); d.Reason == plan.ReasonInvalid {
			// A record that can never be read fails, so that SQS keeps it
			// (and its dead-letter queue gets it) instead of dropping it.
			fail(i, errors.New("invalid record: "+d.Detail))
		}
	}
	// A purge is worth a receipt only after the change's mirrors: one sent
	// before the mirror had the new bytes may have let the edge fetch the
	// old ones again.
	unmirrored := make([]bool, n)
	mirrors, purges := pl.mirrors(), pl.purges()
	res = &Result{Stats: pl.stats()}

	// Mirrors first, so the CDN refetches the new bytes.
	res.Mirrors = make([]MirrorResult, len(mirrors))
	var g errgroup.Group
	g.SetLimit(p.opts.Concurrency)
	for i, op := range mirrors {
		res.Mirrors[i] = MirrorResult{MirrorOp: op, Status: StatusOK}
		g.Go(func() error {
			if err := p.Mirror(ctx, op); err != nil {
				res.Mirrors[i].Status, res.Mirrors[i].Error = StatusFailed, err.Error()
				fail(op.Change, err)
				mu.Lock()
				unmirrored[op.Change] = true
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()

	// Then purges, each target's on its own, at most Concurrency calls in
	// flight each: a target that waits (for its rate limit's tokens, or on
	// a slow or hung API) holds only its own calls, never another's. A
	// batch whose every change failed before the purges (an invalid record,
	// a failed mirror) is not sent. One that fails at another target
	// meanwhile is: the targets run at once, and what it purges goes into
	// the change's receipt, so the redelivery purges only where it failed.
	res.Purges = make([]PurgeResult, len(purges))
	byTarget := map[string][]int{}
	var targets []string
	for i, b := range purges {
		res.Purges[i] = PurgeResult{Batch: b, Status: StatusOK}
		if allFailed(b.Changes, failed, &mu) {
			res.Purges[i].Status, res.Purges[i].Error = StatusSkipped, "every change in the batch failed before it"
			continue
		}
		if _, ok := byTarget[b.Target]; !ok {
			targets = append(targets, b.Target)
		}
		byTarget[b.Target] = append(byTarget[b.Target], i)
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			var g errgroup.Group
			g.SetLimit(p.opts.Concurrency)
			for _, i := range byTarget[t] {
				g.Go(func() error {
					b, pr := purges[i], &res.Purges[i]
					r, err := p.purge(ctx, b)
					pr.Result = r
					if err == nil {
						return nil
					}
					pr.Status, pr.Error = StatusFailed, err.Error()
					p.attribute(b, r, err, fail)
					return nil
				})
			}
			g.Wait()
		})
	}
	wg.Wait()

	// Then the ledger, for the objects whose changes all succeeded, in
	// chunks of commitChunk records: the commits are made again from the
	// plan as they are needed (a plan.Compact keeps only references), not
	// copied all at once.
	var lost []int
	var commits []int32
	for k := range pl.commits() {
		if c := pl.commit(k); !anyFailed(c.Changes, failed, &mu) {
			commits = append(commits, int32(k))
		}
	}
	// The purges are done: record them even if the caller's context has
	// just ended (the deadline reserve is for this), or a redelivery would
	// purge them again.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.commitBudget(ctx))
	defer cancel()
	recs := make([]ledger.Record, 0, min(len(commits), commitChunk))
	for chunk := range slices.Chunk(commits, commitChunk) {
		recs = recs[:0]
		for _, k := range chunk {
			recs = append(recs, pl.commit(int(k)).Record)
		}
		errs, err := p.opts.Ledger.Commit(cctx, recs)
		for i, k := range chunk {
			e := err
			if len(errs) == len(chunk) {
				e = errs[i]
			}
			switch {
			case e == nil:
				res.Committed++
			case errors.Is(e, ledger.ErrStale):
				// Another writer recorded a newer change meanwhile: see
				// replan.
				lost = append(lost, pl.commit(int(k)).Changes...)
			default:
				// Not recorded: a redelivery purges again rather than
				// lose the change.
				for _, i := range pl.commit(int(k)).Changes {
					fail(i, fmt.Errorf("record in ledger: %w", e))
				}
			}
		}
	}

	// Receipts before the replan: its purges are another plan's, and a
	// change it plans again is its to record a receipt for (the purges
	// here may have run before the other writer's put).
	res.Receipts = p.receipts(cctx, pl, res.Purges, failed, unmirrored)
	p.replan(ctx, res, pl, lost, fail)

	return res, failed
}

// receipts records, for each object whose changes failed, the targets its
// change was purged at all the same (ledger.Receipt), so that a redelivery
// purges only the others, and returns how many it recorded. A change is
// done at a target when every item it had there was purged and its
// mirrors succeeded; the targets it was done at before (Decision.Done)
// count too. One receipt per object, for the latest such change, and only
// for an object purged through more than one target: the only ones whose
// receipts MakePlan reads. A receipt that
// cannot be written costs only a purge more on the next delivery, so its
// failure is not the change's.
func (p *Pipeline) receipts(ctx context.Context, pl planView, purges []PurgeResult, failed []error, unmirrored []bool) int {
	var done map[int][]string // made only once a commit has a change that failed
	var rs []ledger.Receipt
	for k := range pl.commits() {
		c := pl.commit(k)
		if !slices.ContainsFunc(c.Changes, func(i int) bool { return failed[i] != nil }) {
			continue
		}
		if done == nil {
			done = doneAt(purges)
		}
		for _, i := range slices.Backward(c.Changes) {
			d := pl.decision(i)
			// MakePlan reads the receipts of objects purged through more
			// than one target only.
			if unmirrored[i] || len(done[i]) == 0 || len(plan.MultiTarget(p.opts.Plan, []event.Change{d.Change})) == 0 {
				continue
			}
			rs = append(rs, ledger.Receipt{Bucket: d.Bucket, Key: d.Key, Change: plan.ChangeID(d.Change),
				Targets: append(slices.Clone(d.Done), done[i]...)})
			break
		}
	}
	if len(rs) == 0 {
		return 0
	}
	errs, err := p.opts.Ledger.AddReceipts(ctx, rs)
	if err != nil && len(errs) != len(rs) {
		return 0
	}
	n := 0
	for _, e := range errs {
		if e == nil {
			n++
		}
	}
	return n
}

// doneAt returns, by change, the targets at which every item of the change
// was purged in this delivery.
func doneAt(purges []PurgeResult) map[int][]string {
	has := map[int][]string{}        // targets a change had items at
	bad := map[int]map[string]bool{} // targets an item of it failed at
	for _, pr := range purges {
		for _, i := range pr.Changes {
			if !slices.Contains(has[i], pr.Target) {
				has[i] = append(has[i], pr.Target)
			}
		}
		if pr.Status == StatusOK {
			continue
		}
		var failedItems [][]int
		switch {
		case pr.Status == StatusFailed && pr.Result != nil && len(pr.Result.Outcomes) == len(pr.Of):
			for j, o := range pr.Result.Outcomes {
				if !o.OK {
					failedItems = append(failedItems, pr.Of[j])
				}
			}
		default: // skipped, or failed as a whole
			failedItems = [][]int{pr.Changes}
		}
		for _, idx := range failedItems {
			for _, i := range idx {
				if bad[i] == nil {
					bad[i] = map[string]bool{}
				}
				bad[i][pr.Target] = true
			}
		}
	}
	out := map[int][]string{}
	for i, targets := range has {
		for _, t := range targets {
			if !bad[i][t] {
				out[i] = append(out[i], t)
			}
		}
	}
	return out
}

// commitChunk bounds the records of one ledger Commit call, and so the
// records apply holds at once: a Lambda batch of 10,000 changes is three
// calls, and `offload apply` of 100,000 changes holds 4,096 records (about
// 0.5 MB), not 100,000 (12.5 MB). Commit's errors are per record,
// so a chunk's result is each record's whatever the chunks beside it did.
const commitChunk = 4096

// answerMargin is the time left after the ledger commit for answering
// (a Lambda function's response) before the context's deadline.
const answerMargin = 250 * time.Millisecond

// noDeadlineCommit bounds a ledger commit when the context has no deadline.
const noDeadlineCommit = time.Minute

// commitBudget is how long the ledger commit may take: the time left before
// the deadline, less a margin to answer in, and never less than the reserve
// (which is kept for it). A large batch at DynamoDB needs more than the
// reserve: 10,000 PutItem calls take seconds.
func (p *Pipeline) commitBudget(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return max(noDeadlineCommit, p.opts.Reserve)
	}
	return max(time.Until(dl)-answerMargin, p.opts.Reserve)
}

// errNoTime is the failure of work not started because the deadline is near.
var errNoTime = errors.New("not started: the deadline is near; left for redelivery")

func (p *Pipeline) timeLeft(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < p.opts.Reserve {
		return errNoTime
	}
	return nil
}

// Mirror runs one mirror operation: an upload streams the object from
// Source; a delete removes it at the mirror.
func (p *Pipeline) Mirror(ctx context.Context, op plan.MirrorOp) error {
	if err := p.timeLeft(ctx); err != nil {
		return err
	}
	m, ok := p.opts.Mirrors[op.Mirror]
	if !ok {
		return fmt.Errorf("mirror %q is not configured", op.Mirror)
	}
	if op.Op == "delete" {
		if err := m.Delete(ctx, op.Path); err != nil {
			return fmt.Errorf("mirror %s: delete %s: %w", op.Mirror, op.Path, err)
		}
		return nil
	}
	if p.opts.Source == nil {
		return fmt.Errorf("mirror %s: no S3 client to read s3://%s/%s from", op.Mirror, op.Bucket, op.Key)
	}
	out, err := p.opts.Source.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(op.Bucket), Key: aws.String(op.Key)})
	if err != nil {
		return fmt.Errorf("mirror %s: read s3://%s/%s: %w", op.Mirror, op.Bucket, op.Key, err)
	}
	defer out.Body.Close()
	obj := mirror.Object{Key: op.Path, Size: -1, ContentType: aws.ToString(out.ContentType), ModTime: aws.ToTime(out.LastModified)}
	if out.ContentLength != nil {
		obj.Size = *out.ContentLength
	}
	// A single-part upload's ETag is the body's MD5.
	if etag := strings.Trim(aws.ToString(out.ETag), `"`); len(etag) == 32 {
		if md5, err := hex.DecodeString(etag); err == nil {
			obj.MD5 = md5
		}
	}
	if err := m.Put(ctx, obj, out.Body); err != nil {
		return fmt.Errorf("mirror %s: upload %s: %w", op.Mirror, op.Path, err)
	}
	return nil
}

func (p *Pipeline) purge(ctx context.Context, b plan.Batch) (*purge.Result, error) {
	if err := p.timeLeft(ctx); err != nil {
		return nil, err
	}
	pg, ok := p.opts.Purgers[b.Target]
	if !ok {
		return nil, fmt.Errorf("target %q is not configured", b.Target)
	}
	// The id is the batch's content: a redelivery of the same batch is the
	// same purge (CloudFront returns the invalidation it already made).
	h := sha256.New()
	for _, it := range append(b.Paths, b.URLs...) {
		h.Write([]byte(it))
		h.Write([]byte{0})
	}
	r, err := pg.Purge(ctx, purge.Request{Items: b.Items(), ID: hex.EncodeToString(h.Sum(nil))[:32]})
	if err != nil {
		return r, fmt.Errorf("purge %s: %w", b.Target, err)
	}
	return r, nil
}

// attribute marks as failed the changes whose items did not purge: per
// item where the provider said which, else every change in the batch.
func (p *Pipeline) attribute(b plan.Batch, r *purge.Result, err error, fail func(int, error)) {
	if r == nil || len(r.Outcomes) != len(b.Of) {
		for _, i := range b.Changes {
			fail(i, err)
		}
		return
	}
	for j, o := range r.Outcomes {
		if o.OK {
			continue
		}
		for _, i := range b.Of[j] {
			fail(i, fmt.Errorf("purge %s: %s: %s", b.Target, o.Item.Value, o.Err))
		}
	}
}

func allFailed(idx []int, failed []error, mu *sync.Mutex) bool {
	mu.Lock()
	defer mu.Unlock()
	for _, i := range idx {
		if failed[i] == nil {
			return false
		}
	}
	return len(idx) > 0
}

func anyFailed(idx []int, failed []error, mu *sync.Mutex) bool {
	mu.Lock()
	defer mu.Unlock()
	for _, i := range idx {
		if failed[i] != nil {
			return true
		}
	}
	return false
}
