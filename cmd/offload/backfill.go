package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/internal/par"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/plan"
)

// backfillSummary is what offload backfill prints.
type backfillSummary struct {
	Site     string           `json:"site"`
	Bucket   string           `json:"bucket"`
	Prefix   string           `json:"prefix,omitempty"`
	Objects  int              `json:"objects"`
	Mirrored int              `json:"mirrored"`
	Recorded int              `json:"recorded"`
	Failed   []backfillFailed `json:"failed,omitempty"`
	Seconds  float64          `json:"seconds"`
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
	concurrency int
}

func newBackfillCmd() *command {
	o := &backfillOptions{}
	fs := newFlagSet()
	o.common.register(fs)
	fs.StringVar(&o.site, "site", "", "the `name` of the site whose bucket (and prefix) to walk (required)")
	fs.BoolVar(&o.seed, "seed-ledger", false, "only record every object's ETag in the ledger: no mirroring, no purging, so the first events for objects that already exist do not purge")
	fs.IntVar(&o.concurrency, "concurrency", 8, "objects mirrored at once")
	return &command{
		name:    "backfill",
		summary: "walk a site's bucket: mirror everything, or record it in the ledger",
		usage:   []string{"backfill [--config F] --site NAME [--seed-ledger]"},
		about: `Walk a site's bucket (under its prefix) and copy every object to the site's
mirrors, recording each in the ledger; or, with --seed-ledger, only record every
object's ETag, so the first events for objects that already exist do not purge.
Print a summary as JSON; exit 1 if an object failed.`,
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
	d := newDeps(cfg, o.common.logger(stderr), s.redact)
	defer d.close()
	p, err := d.pipeline(ctx, false)
	if err != nil {
		return badInput(err)
	}
	s3c, err := d.s3Client(ctx)
	if err != nil {
		return badInput(err)
	}

	start := time.Now()
	sum := backfillSummary{Site: site.Name, Bucket: site.Bucket, Prefix: site.Prefix}
	fmt.Fprintf(stderr, "listing s3://%s/%s ...\n", site.Bucket, site.Prefix)
	objs, err := listAll(ctx, s3c, site.Bucket, site.Prefix)
	if err != nil {
		return err
	}
	sum.Objects = len(objs)
	bar := newProgress(stderr, len(objs))

	var mu sync.Mutex
	var recs []ledger.Record
	jobs := make([]func(), len(objs))
	for i, obj := range objs {
		jobs[i] = func() {
			defer bar.add(1)
			if !o.seed {
				for _, m := range site.Mirrors {
					op := plan.MirrorOp{Mirror: m, Op: "upload", Bucket: site.Bucket, Key: obj.key, Path: strings.TrimPrefix(obj.key, site.Prefix)}
					if err := p.Mirror(ctx, op); err != nil {
						mu.Lock()
						sum.Failed = append(sum.Failed, backfillFailed{obj.key, err.Error()})
						mu.Unlock()
						return
					}
				}
			}
			mu.Lock()
			if !o.seed {
				sum.Mirrored++
			}
			recs = append(recs, ledger.Record{Bucket: site.Bucket, Key: obj.key, ETag: obj.etag, Time: obj.modified})
			mu.Unlock()
		}
	}
	workers := o.concurrency
	if o.seed {
		workers = 1
	}
	par.Run(jobs, workers)
	bar.done()

	for len(recs) > 0 {
		n := min(len(recs), 1000)
		errs, err := p.Ledger.Commit(ctx, recs[:n])
		if err != nil && len(errs) != n {
			return fmt.Errorf("record in ledger: %w", err)
		}
		for _, e := range errs {
			if e == nil {
				sum.Recorded++
			}
		}
		recs = recs[n:]
	}
	sum.Seconds = time.Since(start).Seconds()
	if err := writeJSON(s.out, sum); err != nil {
		return err
	}
	if len(sum.Failed) > 0 {
		return fmt.Errorf("%d of %d objects failed (listed in the summary)", len(sum.Failed), sum.Objects)
	}
	return nil
}

type listed struct {
	key, etag string
	modified  time.Time
}

func listAll(ctx context.Context, c *s3.Client, bucket, prefix string) ([]listed, error) {
	var out []listed
	pg := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, "/") && aws.ToInt64(o.Size) == 0 {
				continue // a "folder" marker, not a page
			}
			out = append(out, listed{k, strings.Trim(aws.ToString(o.ETag), `"`), aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// progress draws a bar on a terminal, and a line every 10% elsewhere.
type progress struct {
	w     io.Writer
	total int
	n     atomic.Int64
	tty   bool
	start time.Time

	mu   sync.Mutex
	last time.Time
	pct  int
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) add(k int) {
	n := int(p.n.Add(int64(k)))
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := 100
	if p.total > 0 {
		pct = n * 100 / p.total
	}
	switch {
	case p.tty && (time.Since(p.last) > 100*time.Millisecond || n == p.total):
		p.last = time.Now()
		const width = 30
		fill := pct * width / 100
		rate := float64(n) / max(time.Since(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d %3d%% %.0f obj/s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), n, p.total, pct, rate)
	case !p.tty && pct/10 > p.pct/10:
		fmt.Fprintf(p.w, "%d/%d objects (%d%%)\n", n, p.total, pct)
	}
	p.pct = pct
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "%d objects in %s\n", p.n.Load(), time.Since(p.start).Round(time.Millisecond))
}
