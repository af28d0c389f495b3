//go:build !offload_lambda

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
)

// backfillSummary is what offload backfill prints.
type backfillSummary struct {
	Site   string `json:"site"`
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
	// ResumedAfter is the key an earlier run's checkpoint said it had
	// finished; this run listed the keys after it.
	ResumedAfter string           `json:"resumed_after,omitempty"`
	Pages        int              `json:"pages"`   // listing pages done
	Objects      int              `json:"objects"` // objects listed by this run
	Mirrored     int              `json:"mirrored"`
	Recorded     int              `json:"recorded"`
	Failed       []backfillFailed `json:"failed,omitempty"`
	// Checkpoint is the last key that it, and every key before it, is
	// done: where a run without --restart resumes. "" once the walk is
	// complete.
	Checkpoint string  `json:"checkpoint,omitempty"`
	Complete   bool    `json:"complete"`
	Seconds    float64 `json:"seconds"`
}

type backfillFailed struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// backfillOptions are offload backfill's flags.
type backfillOptions struct {
	common      commonFlags
	site        string
	seed        bool
	restart     bool
	concurrency int
}

func newBackfillCmd() *command {
	o := &backfillOptions{}
	fs := newFlagSet()
	o.common.register(fs)
	fs.StringVar(&o.site, "site", "", "the `name` of the site whose bucket (and prefix) to walk (required)")
	fs.BoolVar(&o.seed, "seed-ledger", false, "only record every object's ETag in the ledger: no mirroring, no purging, so the first events for objects that already exist do not purge")
	fs.BoolVar(&o.restart, "restart", false, "start from the first key, not after the checkpoint an interrupted run left")
	fs.IntVar(&o.concurrency, "concurrency", 8, "objects mirrored at once")
	return &command{
		name:    "backfill",
		summary: "walk a site's bucket: mirror everything, or record it in the ledger",
		usage:   []string{"backfill [--config F] --site NAME [--seed-ledger] [--restart]"},
		about: `Walk a site's bucket (under its prefix) and copy every object to the site's
mirrors, recording each in the ledger; or, with --seed-ledger, only record every
object's ETag, so the first events for objects that already exist do not purge.

The bucket is walked a listing page (1,000 keys) at a time: each page is
mirrored, committed to the ledger, and then marked done in the ledger's
checkpoint for the site. A run that stops (Ctrl-C, a crash, a failed object)
is resumed by running the same command again: it starts after the last key
that it, and every key before it, finished. --restart starts from the first
key. A run that completes clears the checkpoint.

Print a summary as JSON; exit 1 if an object failed or the run was stopped.`,
		flags: flags(fs),
		run: noArgs(func(ctx context.Context, s streams) error {
			return runBackfill(ctx, o, s)
		}),
	}
}

func runBackfill(ctx context.Context, o *backfillOptions, s streams) error {
	if o.site == "" {
		return usagef("--site is required: the site whose bucket to walk")
	}
	if o.concurrency < 1 {
		return usagef("--concurrency must be 1 or more")
	}
	cfg, err := loadConfig(o.common.config)
	if err != nil {
		return badInput(err)
	}
	var site *config.Site
	var names []string
	for i, cs := range cfg.Sites {
		names = append(names, cs.Name)
		if cs.Name == o.site {
			site = &cfg.Sites[i]
		}
	}
	switch {
	case site == nil:
		return badInput(fmt.Errorf("no site %q in %s (sites: %s)", o.site, configName(cfg), strings.Join(names, ", ")))
	case site.Bucket == "*":
		return badInput(fmt.Errorf("site %q serves every bucket; name one in the configuration", o.site))
	case !o.seed && len(site.Mirrors) == 0:
		return badInput(fmt.Errorf("site %q has no mirrors; to record what exists without purging, use --seed-ledger", o.site))
	}
	stderr := s.err
	d, err := newDeps(cfg, o.common.logger(stderr), s.redact)
	if err != nil {
		return badInput(err)
	}
	defer d.close()
	p, err := d.pipeline(ctx, false)
	if err != nil {
		return badInput(err)
	}
	s3c, err := d.s3Client(ctx)
	if err != nil {
		return badInput(err)
	}
	b := &backfill{opts: o, site: site, p: p, list: s3c, stderr: stderr}
	sum, err := b.run(ctx)
	if werr := writeJSON(s.out, sum); err == nil {
		err = werr
	}
	return err
}

// listAPI is the part of the S3 client backfill lists with.
type listAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// backfill walks one site's bucket.
type backfill struct {
	opts   *backfillOptions
	site   *config.Site
	p      *pipeline.Pipeline
	list   listAPI
	stderr io.Writer
}

// afterStop bounds the ledger writes of a page already mirrored when the
// run is stopped: they are worth finishing, or the page is done again.
const afterStop = 30 * time.Second

// checkpointName names the site's checkpoint in the ledger. The mode, the
// bucket and the prefix are in it, so that a seeding run's mark never
// skips a mirroring run's work, nor one of another bucket.
func (b *backfill) checkpointName() string {
	mode := "mirror"
	if b.opts.seed {
		mode = "seed"
	}
	return "backfill/" + mode + "/" + b.site.Name + "/" + b.site.Bucket + "/" + b.site.Prefix
}

func (b *backfill) run(ctx context.Context) (backfillSummary, error) {
	start := time.Now()
	sum := backfillSummary{Site: b.site.Name, Bucket: b.site.Bucket, Prefix: b.site.Prefix}
	name := b.checkpointName()
	cp, _ := b.p.Options().Ledger.(ledger.Checkpointer)
	switch {
	case cp == nil:
		fmt.Fprintln(b.stderr, "this ledger keeps no checkpoints: a stopped backfill starts over")
	case b.opts.restart:
		if err := cp.SetCheckpoint(ctx, name, ""); err != nil {
			return sum, err
		}
	default:
		after, err := cp.Checkpoint(ctx, name)
		if err != nil {
			return sum, err
		}
		if after != "" {
			fmt.Fprintf(b.stderr, "resuming after %q, where an earlier run stopped (--restart starts over)\n", after)
		}
		sum.ResumedAfter = after
	}
	sum.Checkpoint = sum.ResumedAfter

	fmt.Fprintf(b.stderr, "listing s3://%s/%s ...\n", b.site.Bucket, b.site.Prefix)
	bar := newProgress(b.stderr)
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.site.Bucket), Prefix: aws.String(b.site.Prefix)}
	if sum.ResumedAfter != "" {
		in.StartAfter = aws.String(sum.ResumedAfter)
	}
	pages := s3.NewListObjectsV2Paginator(b.list, in)
	held := false // a key failed: the checkpoint stays before it
	written := sum.Checkpoint
	var runErr error
	for pages.HasMorePages() && ctx.Err() == nil {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				runErr = fmt.Errorf("list s3://%s/%s: %w", b.site.Bucket, b.site.Prefix, err)
			}
			break
		}
		objs := listed(page.Contents)
		done, err := b.page(ctx, objs, &sum)
		bar.add(len(objs))
		if err != nil {
			runErr = err
			break
		}
		sum.Pages++
		for i, obj := range objs {
			if held = held || !done[i]; held {
				break
			}
			sum.Checkpoint = obj.key
		}
		if cp != nil && sum.Checkpoint != written {
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterStop)
			err := cp.SetCheckpoint(wctx, name, sum.Checkpoint)
			cancel()
			if err != nil {
				runErr = err
				break
			}
			written = sum.Checkpoint
		}
	}
	bar.done()
	stopped := runErr == nil && ctx.Err() != nil
	sum.Complete = runErr == nil && !stopped && !held
	if sum.Complete {
		sum.Checkpoint = ""
		if cp != nil {
			if err := cp.SetCheckpoint(ctx, name, ""); err != nil {
				runErr = err
			}
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	switch {
	case runErr != nil:
		return sum, runErr
	case stopped:
		return sum, fmt.Errorf("stopped (%v); run the same command again to resume after %q", ctx.Err(), sum.Checkpoint)
	case len(sum.Failed) > 0:
		return sum, fmt.Errorf("%d of %d objects failed (listed in the summary); run the same command again to retry from the first", len(sum.Failed), sum.Objects)
	}
	return sum, nil
}

// page mirrors one listing page's objects (unless seeding) and commits
// those done to the ledger. It reports which objects are done; the error
// is the ledger's. A stop (ctx) leaves the objects not yet mirrored undone,
// and not failed.
func (b *backfill) page(ctx context.Context, objs []listedObject, sum *backfillSummary) ([]bool, error) {
	sum.Objects += len(objs)
	done := make([]bool, len(objs))
	var mu sync.Mutex
	workers := b.opts.concurrency
	if b.opts.seed {
		workers = 1
	}
	var g errgroup.Group
	g.SetLimit(workers)
	for i, obj := range objs {
		g.Go(func() error {
			if !b.opts.seed {
				for _, m := range b.site.Mirrors {
					op := plan.MirrorOp{Mirror: m, Op: "upload", Bucket: b.site.Bucket, Key: obj.key, Path: strings.TrimPrefix(obj.key, b.site.Prefix)}
					if err := b.p.Mirror(ctx, op); err != nil {
						if ctx.Err() == nil {
							mu.Lock()
							sum.Failed = append(sum.Failed, backfillFailed{obj.key, err.Error()})
							mu.Unlock()
						}
						return nil
					}
				}
				mu.Lock()
				sum.Mirrored++
				mu.Unlock()
			}
			done[i] = true
			return nil
		})
	}
	g.Wait()

	recs := make([]ledger.Record, 0, len(objs))
	idx := make([]int, 0, len(objs))
	for i, obj := range objs {
		if done[i] {
			recs = append(recs, ledger.Record{Bucket: b.site.Bucket, Key: obj.key, ETag: obj.etag, Time: obj.modified})
			idx = append(idx, i)
		}
	}
	if len(recs) == 0 {
		return done, nil
	}
	// Mirrored is mirrored: record it even if the run was just stopped.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterStop)
	errs, err := b.p.Options().Ledger.Commit(cctx, recs)
	cancel()
	if err != nil || len(errs) != len(recs) {
		return done, fmt.Errorf("record in ledger: %w", cmpErr(err, len(errs), len(recs)))
	}
	for j, e := range errs {
		switch {
		case e == nil:
			sum.Recorded++
		case errors.Is(e, ledger.ErrStale):
			// An event recorded a newer change: nothing to do.
		default:
			done[idx[j]] = false
			sum.Failed = append(sum.Failed, backfillFailed{recs[j].Key, "record in ledger: " + e.Error()})
		}
	}
	return done, nil
}

func cmpErr(err error, got, want int) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("the ledger answered %d results for %d records", got, want)
}

type listedObject struct {
	key, etag string
	modified  time.Time
}

// listed returns a page's objects, without "folder" markers.
func listed(contents []types.Object) []listedObject {
	out := make([]listedObject, 0, len(contents))
	for _, o := range contents {
		k := aws.ToString(o.Key)
		if strings.HasSuffix(k, "/") && aws.ToInt64(o.Size) == 0 {
			continue // a "folder" marker, not a page
		}
		out = append(out, listedObject{k, strings.Trim(aws.ToString(o.ETag), `"`), aws.ToTime(o.LastModified)})
	}
	return out
}

// progress draws a count on a terminal, and a line per 1,000 objects
// elsewhere: a streamed walk does not know its total.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time

	mu   sync.Mutex
	n    int
	last time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) add(k int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.n
	p.n += k
	switch {
	case p.tty && time.Since(p.last) > 100*time.Millisecond:
		p.last = time.Now()
		rate := float64(p.n) / max(time.Since(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.w, "\r%d objects, %.0f obj/s", p.n, rate)
	case !p.tty && p.n/1000 > before/1000:
		fmt.Fprintf(p.w, "%d objects\n", p.n)
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "%d objects in %s\n", p.n, time.Since(p.start).Round(time.Millisecond))
}
