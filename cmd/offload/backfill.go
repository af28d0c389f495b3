package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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

// runBackfill: offload backfill [--config F] --site NAME [--seed-ledger]
func runBackfill(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var common commonFlags
	var site string
	var seed bool
	var concurrency int
	fs := newFlagSet("backfill", stderr, "backfill [--config F] --site NAME [--seed-ledger]")
	common.register(fs)
	fs.StringVar(&site, "site", "", "the site whose bucket (and prefix) to walk")
	fs.BoolVar(&seed, "seed-ledger", false, "only record every object's ETag in the ledger: no mirroring, no purging, so the first events for objects that already exist do not purge")
	fs.IntVar(&concurrency, "concurrency", 8, "objects mirrored at once")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return configError(stderr, err)
	}
	var s *struct{ name, bucket, prefix string }
	var mirrors []string
	for _, cs := range cfg.Sites {
		if cs.Name == site {
			s = &struct{ name, bucket, prefix string }{cs.Name, cs.Bucket, cs.Prefix}
			mirrors = cs.Mirrors
		}
	}
	switch {
	case site == "":
		return configError(stderr, errors.New("backfill: --site is required"))
	case s == nil:
		return configError(stderr, fmt.Errorf("backfill: no site %q in the configuration", site))
	case s.bucket == "*":
		return configError(stderr, fmt.Errorf("backfill: site %q serves every bucket; name one in the configuration", site))
	case !seed && len(mirrors) == 0:
		return configError(stderr, fmt.Errorf("backfill: site %q has no mirrors; to record what exists without purging, use --seed-ledger", site))
	}
	d, err := newDeps(cfg, common.logger(stderr))
	if err != nil {
		return configError(stderr, err)
	}
	defer d.close()
	p, err := d.pipeline(ctx, false)
	if err != nil {
		return configError(stderr, err)
	}
	s3c, err := d.s3Client(ctx)
	if err != nil {
		return configError(stderr, err)
	}

	start := time.Now()
	sum := backfillSummary{Site: s.name, Bucket: s.bucket, Prefix: s.prefix}
	fmt.Fprintf(stderr, "listing s3://%s/%s ...\n", s.bucket, s.prefix)
	objs, err := listAll(ctx, s3c, s.bucket, s.prefix)
	if err != nil {
		fmt.Fprintln(stderr, "offload backfill:", err)
		return exitFailed
	}
	sum.Objects = len(objs)
	bar := newProgress(stderr, len(objs))

	var mu sync.Mutex
	var recs []ledger.Record
	jobs := make([]func(), len(objs))
	for i, o := range objs {
		jobs[i] = func() {
			defer bar.add(1)
			if !seed {
				for _, m := range mirrors {
					op := plan.MirrorOp{Mirror: m, Op: "upload", Bucket: s.bucket, Key: o.key, Path: strings.TrimPrefix(o.key, s.prefix)}
					if err := p.Mirror(ctx, op); err != nil {
						mu.Lock()
						sum.Failed = append(sum.Failed, backfillFailed{o.key, err.Error()})
						mu.Unlock()
						return
					}
				}
			}
			mu.Lock()
			if !seed {
				sum.Mirrored++
			}
			recs = append(recs, ledger.Record{Bucket: s.bucket, Key: o.key, ETag: o.etag, Time: o.modified})
			mu.Unlock()
		}
	}
	workers := concurrency
	if seed {
		workers = 1
	}
	par.Run(jobs, workers)
	bar.done()

	for len(recs) > 0 {
		n := min(len(recs), 1000)
		errs, err := p.Ledger.Commit(ctx, recs[:n])
		if err != nil && len(errs) != n {
			fmt.Fprintln(stderr, "offload backfill: record in ledger:", err)
			return exitFailed
		}
		for _, e := range errs {
			if e == nil {
				sum.Recorded++
			}
		}
		recs = recs[n:]
	}
	sum.Seconds = time.Since(start).Seconds()
	_ = writeJSON(stdout, sum)
	if len(sum.Failed) > 0 {
		return exitFailed
	}
	return exitOK
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
