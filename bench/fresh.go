package main

import (
	"bufio"
	"cmp"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/internal/syncbuf"
	"github.com/offload-dev/offload/internal/varnishtest"
)

func init() {
	register(measurement{
		Num:   5,
		Title: "Freshness and offload, end to end",
		What: "how soon after a PUT to MinIO a Varnish in front of it serves the new bytes, the stale reads meanwhile and " +
			"the share of reads that reach MinIO, with `offload serve` purging a long-TTL Varnish, against a 60 s TTL and no purging",
		Measure: func(o options) (section, error) { return measureFreshness(o, defaultFresh()) },
	})
}

// freshPNGEnv names where to write measurement 5's chart when the report
// goes to stdout (-out -); with a file it goes to docs/freshness.png beside it.
const freshPNGEnv = "OFFLOAD_BENCH_FRESH_PNG"

// freshConfig is the workload of measurement 5; both runs get the same one.
type freshConfig struct {
	Objects  int           // objects read and updated
	Size     int           // bytes of each version
	Updates  int           // PUTs of a new version of a random object
	Every    time.Duration // between the starts of two updates
	Rate     int           // reads a second through Varnish, all readers together
	Readers  int           // reading goroutines, each on its own kept-alive connection
	Lead     time.Duration // reading before the first update
	Quiet    time.Duration // reading after the last update
	LongTTL  time.Duration // Varnish's TTL with offload purging it
	ShortTTL time.Duration // Varnish's TTL without purging
	Seed     uint64        // of the objects the updates pick
}

func defaultFresh() freshConfig {
	return freshConfig{
		Objects: 40, Size: 1024, Updates: 200, Every: 250 * time.Millisecond,
		Rate: 400, Readers: 8, Lead: 2 * time.Second, Quiet: 65 * time.Second,
		LongTTL: 24 * time.Hour, ShortTTL: 60 * time.Second, Seed: 5,
	}
}

// freshResult is measurement 5: run A with offload purging, run B without.
type freshResult struct {
	Cfg     freshConfig
	Window  time.Duration // serve's batch window, its default
	A, B    *freshRun
	PNG     string // where the chart was written; "" when it was not
	MinIO   string // versions of the components
	Varnish string
}

// freshRun is one run of the workload against its own MinIO and Varnish.
type freshRun struct {
	Label   string
	TTL     time.Duration
	Purge   bool
	Updates []freshUpdate
	Reads   []freshRead     // sorted by start
	Origin  []time.Duration // GETs that reached MinIO, since reading began
	NotMod  int             // of all GETs that reached MinIO, those answered 304
	Elapsed time.Duration   // of reading
	Batches int             // serve's inbox batches while reading (run A)
	Purges  int             // purge decisions in them
}

type freshUpdate struct {
	Obj, Ver int
	Put      time.Duration // the PUT returned, since reading began
	Fresh    time.Duration // from Put to the start of the first read of Ver or newer; -1: never
}

type freshRead struct {
	Start time.Duration // since reading began
	Obj   int32
	Ver   int32 // -1: the read failed
	Miss  bool  // X-Cache: MISS
}

func measureFreshness(o options, cfg freshConfig) (*freshResult, error) {
	res := &freshResult{Cfg: cfg, Window: config.Default().Batch.Window.Duration}
	res.MinIO, res.Varnish = componentVersions()
	bin, cleanup, err := buildOffload()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	ctx := context.Background()
	logf(o, "5 run A: Varnish TTL %s, offload serve purging (batch window %v): %d updates every %v, %d reads/s",
		fmtSetting(cfg.LongTTL), res.Window, cfg.Updates, cfg.Every, cfg.Rate)
	if res.A, err = runFresh(ctx, o, cfg, bin, true); err != nil {
		return nil, fmt.Errorf("run A (purging): %w", err)
	}
	logf(o, "5 run B: Varnish TTL %s, no purging", fmtSetting(cfg.ShortTTL))
	if res.B, err = runFresh(ctx, o, cfg, "", false); err != nil {
		return nil, fmt.Errorf("run B (TTL only): %w", err)
	}
	if res.PNG = freshPNGPath(o); res.PNG != "" {
		if err := writeFreshPNG(res.PNG, res); err != nil {
			return nil, err
		}
		logf(o, "5 wrote %s", res.PNG)
	}
	return res, nil
}

// freshPNGPath is docs/freshness.png beside the report, or what
// freshPNGEnv says when the report goes to stdout.
func freshPNGPath(o options) string {
	if o.Out == "-" {
		return os.Getenv(freshPNGEnv)
	}
	return filepath.Join(filepath.Dir(o.Out), "docs", "freshness.png")
}

func writeFreshPNG(path string, r *freshResult) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, plotFreshness(r)); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}

func componentVersions() (minio, varnish string) {
	minio, varnish = "unknown", "unknown"
	// Built with go install, it calls itself DEVELOPMENT.GOGET; its module
	// version says which it is.
	if bin, err := miniotest.Binary(); err == nil {
		if info, err := buildinfo.ReadFile(bin); err == nil {
			minio = info.Main.Path + "@" + info.Main.Version
		}
	}
	bin, err := exec.LookPath("varnishd")
	if err != nil {
		bin = "/usr/sbin/varnishd"
	}
	if out, err := exec.Command(bin, "-V").CombinedOutput(); err == nil {
		// "varnishd (varnish-7.1.1 revision …)"
		if f := strings.Fields(string(out)); len(f) > 1 {
			varnish = strings.TrimPrefix(f[1], "(")
		}
	}
	return minio, varnish
}

// buildOffload builds the offload binary of this tree into a temporary
// directory, for run A's `offload serve`.
func buildOffload() (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "offload-bench-bin-")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, "offload")
	if err := goBuild(bin, nil); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

const (
	freshBucket = "site"
	freshHost   = "www.example.com"
	freshToken  = "bench-token"
)

func freshKey(obj int) string { return fmt.Sprintf("pages/%03d.html", obj) }

// freshBody is version ver of object obj, Size bytes, its first line saying
// which it is.
func freshBody(obj, ver, size int) string {
	head := fmt.Sprintf("object %d version %d\n", obj, ver)
	if pad := size - len(head) - 1; pad > 0 {
		head += strings.Repeat(".", pad) + "\n"
	}
	return head
}

func bodyVersion(body []byte) (int, error) {
	line, _, _ := strings.Cut(string(body[:min(len(body), 64)]), "\n")
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "object" || f[2] != "version" {
		return 0, fmt.Errorf("not an object body: %q", line)
	}
	return strconv.Atoi(f[3])
}

// runFresh runs the workload once against a new MinIO and Varnish: with
// purge, Varnish keeps objects LongTTL and `offload serve` (bin) purges
// it on MinIO's notifications; without, Varnish keeps them ShortTTL.
func runFresh(ctx context.Context, o options, cfg freshConfig, bin string, purge bool) (*freshRun, error) {
	run := &freshRun{Label: "B: TTL " + fmtSetting(cfg.ShortTTL) + ", no purging", TTL: cfg.ShortTTL, Purge: purge}
	if purge {
		run.Label, run.TTL = "A: offload purging, TTL "+fmtSetting(cfg.LongTTL), cfg.LongTTL
	}
	dir, err := os.MkdirTemp("", "offload-bench-fresh-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// Varnish's backend is a proxy that counts what reaches MinIO.
	proxy := newCountingProxy()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	psrv := &http.Server{Handler: proxy}
	go psrv.Serve(ln)
	defer psrv.Close()

	vdir := filepath.Join(dir, "varnish")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, err
	}
	cache, err := varnishtest.Launch(vdir, ln.Addr().String(), varnishtest.Options{TTL: run.TTL})
	if err != nil {
		return nil, err
	}
	defer cache.Close()

	var hooks []miniotest.Webhook
	var srv *serveProc
	if purge {
		if srv, err = startServe(bin, dir, cache.URL); err != nil {
			return nil, err
		}
		defer srv.stop()
		hooks = []miniotest.Webhook{{ID: "offload", Endpoint: "http://" + srv.addr + "/v1/events", AuthToken: freshToken}}
	}
	m, err := miniotest.Launch(filepath.Join(dir, "minio"), miniotest.Options{Webhooks: hooks})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	target, err := url.Parse(m.URL)
	if err != nil {
		return nil, err
	}
	proxy.target.Store(target)

	s3c := m.Client()
	if err := setupBucket(ctx, m, purge); err != nil {
		return nil, fmt.Errorf("%w\nminio log:\n%s", err, m.Log())
	}
	for obj := range cfg.Objects {
		if err := putVersion(ctx, s3c, cfg, obj, 0); err != nil {
			return nil, err
		}
	}
	if purge {
		// The first versions' notifications purge too; let them land
		// before the cache is filled.
		if err := srv.waitPurges(cfg.Objects, 30*time.Second); err != nil {
			return nil, fmt.Errorf("%w\nminio log:\n%s", err, m.Log())
		}
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Readers, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	// Fill the cache as if it had been running: the copies' ages are
	// spread evenly over the TTL, so they do not all expire at once.
	ages := map[string]int{}
	for obj := range cfg.Objects {
		ages["/"+freshBucket+"/"+freshKey(obj)] = int(time.Duration(obj) * run.TTL / time.Duration(cfg.Objects) / time.Second)
	}
	proxy.ages.Store(&ages)
	for obj := range cfg.Objects {
		if ver, _, err := readObject(ctx, client, cache.URL, obj); err != nil || ver != 0 {
			return nil, fmt.Errorf("warming %s: version %d, %v", freshKey(obj), ver, err)
		}
	}
	proxy.ages.Store(nil)

	var batches0, purges0 int
	if srv != nil {
		batches0, purges0 = srv.batches()
	}

	// Readers: each on its own schedule, together Rate a second, round
	// robin over the objects so that each is read every Objects/Rate.
	start := time.Now()
	rctx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	perReader := make([][]freshRead, cfg.Readers)
	var next atomic.Int64
	var wg sync.WaitGroup
	interval := time.Duration(cfg.Readers) * time.Second / time.Duration(cfg.Rate)
	for i := range cfg.Readers {
		wg.Go(func() {
			select {
			case <-rctx.Done():
				return
			case <-time.After(interval * time.Duration(i) / time.Duration(cfg.Readers)):
			}
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-rctx.Done():
					return
				case <-tick.C:
				}
				obj := int(next.Add(1)-1) % cfg.Objects
				r := freshRead{Start: time.Since(start), Obj: int32(obj)}
				ver, miss, err := readObject(rctx, client, cache.URL, obj)
				if rctx.Err() != nil {
					return // cut off at the end: not a read
				}
				r.Ver, r.Miss = int32(ver), miss
				if err != nil {
					r.Ver = -1
				}
				perReader[i] = append(perReader[i], r)
			}
		})
	}

	// The writer: one update every Every, on a fixed schedule.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	vers := make([]int, cfg.Objects)
	for i := range cfg.Updates {
		time.Sleep(time.Until(start.Add(cfg.Lead + time.Duration(i)*cfg.Every)))
		obj := rng.IntN(cfg.Objects)
		vers[obj]++
		if err := putVersion(ctx, s3c, cfg, obj, vers[obj]); err != nil {
			stopReading()
			wg.Wait()
			return nil, err
		}
		run.Updates = append(run.Updates, freshUpdate{Obj: obj, Ver: vers[obj], Put: time.Since(start)})
		if (i+1)%50 == 0 {
			logf(o, "5   %d of %d updates", i+1, cfg.Updates)
		}
	}
	logf(o, "5   reading for %s more", fmtSetting(cfg.Quiet))
	time.Sleep(cfg.Quiet)
	stopReading()
	wg.Wait()
	run.Elapsed = time.Since(start)

	for _, rs := range perReader {
		run.Reads = append(run.Reads, rs...)
	}
	slices.SortFunc(run.Reads, func(a, b freshRead) int { return cmp.Compare(a.Start, b.Start) })
	for _, t := range proxy.gets() {
		if d := t.Sub(start); d >= 0 && d <= run.Elapsed {
			run.Origin = append(run.Origin, d)
		}
	}
	run.NotMod = int(proxy.notModified.Load())
	run.settle()
	if srv != nil {
		b, p := srv.batches()
		run.Batches, run.Purges = b-batches0, p-purges0
		if depth, failing, err := srv.inbox(); err != nil || depth != 0 || failing != 0 {
			return nil, fmt.Errorf("serve's inbox at the end: depth %d, failing %d, %v\nserve log:\n%s", depth, failing, err, srv.log)
		}
	}
	if n := run.stats().Errors; n > len(run.Reads)/100 {
		return nil, fmt.Errorf("%d of %d reads through Varnish failed", n, len(run.Reads))
	}
	return run, nil
}

// settle finds when each update was first seen.
func (r *freshRun) settle() {
	byObj := map[int32][]freshRead{}
	for _, rd := range r.Reads {
		byObj[rd.Obj] = append(byObj[rd.Obj], rd)
	}
	for i := range r.Updates {
		u := &r.Updates[i]
		u.Fresh = -1
		reads := byObj[int32(u.Obj)]
		j, _ := slices.BinarySearchFunc(reads, u.Put, func(rd freshRead, t time.Duration) int { return cmp.Compare(rd.Start, t) })
		for _, rd := range reads[j:] {
			if int(rd.Ver) >= u.Ver {
				u.Fresh = rd.Start - u.Put
				break
			}
		}
	}
}

// freshStats are one run's figures.
type freshStats struct {
	P50, P90, P99, Max time.Duration // -1: some updates never seen fresh
	Never              int
	Reads, Errors      int
	Stale              int // reads of a version older than the newest PUT had returned when they began
	Misses             int // X-Cache: MISS
	Origin             int // GETs that reached MinIO
	OriginLead         int // before the first update
	OriginUpdating     int // from the first update to the last
	OriginQuiet        int // after the last update
	Quiet              time.Duration
}

func (r *freshRun) stats() freshStats {
	var s freshStats
	var delays []time.Duration
	for _, u := range r.Updates {
		if u.Fresh < 0 {
			s.Never++
			continue
		}
		delays = append(delays, u.Fresh)
	}
	slices.Sort(delays)
	q := func(p float64) time.Duration {
		n := len(r.Updates)
		if n == 0 {
			return 0
		}
		i := int(p*float64(n)+0.999999) - 1 // nearest rank
		i = max(0, min(i, n-1))
		if i >= len(delays) {
			return -1
		}
		return delays[i]
	}
	s.P50, s.P90, s.P99, s.Max = q(0.50), q(0.90), q(0.99), q(1)

	// The newest version of each object whose PUT had returned by t.
	puts := map[int][]freshUpdate{}
	for _, u := range r.Updates {
		puts[u.Obj] = append(puts[u.Obj], u)
	}
	for _, rd := range r.Reads {
		if rd.Ver < 0 {
			s.Errors++
			continue
		}
		s.Reads++
		if rd.Miss {
			s.Misses++
		}
		us := puts[int(rd.Obj)]
		k, _ := slices.BinarySearchFunc(us, rd.Start, func(u freshUpdate, t time.Duration) int {
			if u.Put <= t {
				return -1
			}
			return 1
		})
		if k > 0 && int(rd.Ver) < us[k-1].Ver {
			s.Stale++
		}
	}
	s.Origin = len(r.Origin)
	if len(r.Updates) > 0 {
		first, last := r.Updates[0].Put, r.Updates[len(r.Updates)-1].Put
		s.Quiet = r.Elapsed - last
		for _, t := range r.Origin {
			switch {
			case t > last:
				s.OriginQuiet++
			case t >= first:
				s.OriginUpdating++
			default:
				s.OriginLead++
			}
		}
	}
	return s
}

// readObject GETs an object through Varnish and returns the version it got.
func readObject(ctx context.Context, c *http.Client, cacheURL string, obj int) (ver int, miss bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cacheURL+"/"+freshBucket+"/"+freshKey(obj), nil)
	if err != nil {
		return 0, false, err
	}
	req.Host = freshHost
	resp, err := c.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("GET %s: %s: %.200s", req.URL.Path, resp.Status, body)
	}
	ver, err = bodyVersion(body)
	return ver, resp.Header.Get("X-Cache") == "MISS", err
}

func putVersion(ctx context.Context, c *s3.Client, cfg freshConfig, obj, ver int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(freshBucket), Key: aws.String(freshKey(obj)),
		Body: strings.NewReader(freshBody(obj, ver, cfg.Size)), ContentType: aws.String("text/html"),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s version %d: %w", freshBucket, freshKey(obj), ver, err)
	}
	return nil
}

// setupBucket makes the site's bucket, readable by anyone (Varnish's
// origin), with its notifications sent to serve's webhook when notify.
func setupBucket(ctx context.Context, m *miniotest.MinIO, notify bool) error {
	if err := m.MakeBucket(ctx, freshBucket); err != nil {
		return err
	}
	if err := m.SetAnonymousRead(ctx, freshBucket); err != nil || !notify {
		return err
	}
	return m.SetNotify(ctx, freshBucket, "offload")
}

// countingProxy forwards to MinIO and notes when each GET reached it.
type countingProxy struct {
	target atomic.Pointer[url.URL]
	rp     *httputil.ReverseProxy
	mu     sync.Mutex
	at     []time.Time

	notModified atomic.Int64 // revalidations MinIO answered 304
	// ages, while set, are the Age headers (seconds) added to the
	// answers for these paths.
	ages atomic.Pointer[map[string]int]
}

func newCountingProxy() *countingProxy {
	p := &countingProxy{}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.target.Load())
			r.Out.Host = r.In.Host // as Varnish sent it
			// Varnish revalidates an expired copy with both validators.
			// MinIO answers 304 when If-Modified-Since holds even though
			// If-None-Match does not (RFC 9110 13.2.2 says to ignore the
			// date then), and Last-Modified has whole seconds: a version
			// written in the same second as the cached one would never
			// be fetched. S3 honours If-None-Match first; so does this.
			if r.Out.Header.Get("If-None-Match") != "" {
				r.Out.Header.Del("If-Modified-Since")
			}
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusNotModified {
				p.notModified.Add(1)
			}
			if ages := p.ages.Load(); ages != nil {
				if age, ok := (*ages)[resp.Request.URL.Path]; ok {
					resp.Header.Set("Age", strconv.Itoa(age))
				}
			}
			return nil
		},
	}
	return p
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.target.Load() == nil {
		http.Error(w, "origin not started", http.StatusServiceUnavailable)
		return
	}
	if r.Method == http.MethodGet {
		p.mu.Lock()
		p.at = append(p.at, time.Now())
		p.mu.Unlock()
	}
	p.rp.ServeHTTP(w, r)
}

func (p *countingProxy) gets() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.at)
}

// serveProc is a running `offload serve`.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	log  *syncbuf.Buffer
	done chan struct{}
}

// startServe runs `offload serve` with a configuration that purges the
// Varnish at cacheURL for the bucket's objects, its batch window the
// default, and waits until it listens.
func startServe(bin, dir, cacheURL string) (*serveProc, error) {
	// MinIO serves path-style, so the site's URLs start with the bucket.
	// The rate limit is raised above the default 10 a second: MinIO sends
	// one request per object changed, 40 at once at the start.
	return launchServe(bin, dir, "offload", fmt.Sprintf(`auth:
  tokens: [env:OFFLOAD_BENCH_TOKEN]
  rate: 200
  burst: 400
state:
  path: %s
sites:
  - name: www
    bucket: %s
    targets: [edge]
targets:
  - {name: edge, provider: varnish, endpoints: [%s], host: %s, base_url: "http://%s/%s"}
`, filepath.Join(dir, "offload.db"), freshBucket, cacheURL, freshHost, freshHost, freshBucket))
}

func (p *serveProc) eachLog(f func(map[string]any)) {
	sc := bufio.NewScanner(strings.NewReader(p.log.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			f(m)
		}
	}
}

// batches counts the inbox batches serve applied and the purge decisions
// in them, from its log.
func (p *serveProc) batches() (batches, purges int) {
	p.eachLog(func(m map[string]any) {
		if m["msg"] == "inbox batch applied" {
			batches++
			n, _ := m["purge"].(float64)
			purges += int(n)
		}
	})
	return batches, purges
}

func (p *serveProc) waitPurges(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if _, got := p.batches(); got >= n {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("offload serve applied %d purges after %v, want %d\nserve log:\n%s", got, timeout, n, p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *serveProc) inbox() (depth, failing int, err error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/v1/inbox", nil)
	req.Header.Set("Authorization", "Bearer "+freshToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var st struct{ Depth, Failing int }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		return 0, 0, errors.Join(fmt.Errorf("GET /v1/inbox: %s", resp.Status), err)
	}
	return st.Depth, st.Failing, nil
}

// stop ends serve as Ctrl-C would, and kills it if it does not go.
func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// fmtSetting writes a configured duration: a TTL, an interval.
func fmtSetting(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		if d == 24*time.Hour {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	default:
		return fmtDur(d)
	}
}

// fmtDur writes a delay with a precision that suits it.
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

func (r *freshResult) write(p printer) {
	c := r.Cfg
	a, b := r.A.stats(), r.B.stats()
	readEvery := fmtSetting(time.Duration(c.Objects) * time.Second / time.Duration(c.Rate))
	p("## 5. Freshness and offload, end to end")
	p("")
	p("MinIO (`%s`) is the origin and Varnish (%s) in front of it", r.MinIO, r.Varnish)
	p("the edge, all on 127.0.0.1. %d objects of %s bytes each say in their first line which version", c.Objects, commas(int64(c.Size)))
	p("they are. A writer PUTs a new version of a random object every %s, %d updates in %s, while a", fmtSetting(c.Every), c.Updates, fmtDur(time.Duration(c.Updates-1)*c.Every))
	p("Go load generator reads through Varnish at %d reads a second in all, from %d kept-alive", c.Rate, c.Readers)
	p("connections, round robin over the objects, so each object is read every %s. Reading starts %s", readEvery, fmtSetting(c.Lead))
	p("before the first update and goes on for %s after the last. The same workload (the same seed, so", fmtSetting(c.Quiet))
	p("the same objects in the same order) runs twice, each time against a new MinIO and Varnish:")
	p("")
	p("- **%s**: MinIO sends its notifications by webhook to `offload serve`,", r.A.Label)
	p("  built from this tree (bolt state, the default batch window of %s), which purges the object's", fmtSetting(r.Window))
	p("  URL from Varnish (`PURGE`).")
	p("- **%s**: no notifications, no purges.", r.B.Label)
	p("")
	p("Before reading, each object's first version is read once through Varnish, and those answers get")
	p("an `Age` spread evenly over the TTL (object i of N: i × TTL / N), so that the copies expire as in a")
	p("cache that has been running, not all at once.")
	p("")
	p("An update's **time to fresh** is from its PUT returning to the start of the first read of that")
	p("object that returned that version or a newer one. A **stale read** returned an older version than")
	p("the newest whose PUT had returned when the read began. **Reads reaching MinIO** are the GETs that")
	p("a counting reverse proxy between Varnish and MinIO forwarded while the load generator read.")
	p("")
	p("| | %s | %s | B ÷ A |", r.A.Label, r.B.Label)
	p("|---|---:|---:|---:|")
	p("| updates | %d | %d | |", len(r.A.Updates), len(r.B.Updates))
	p("| time to fresh, p50 | %s | %s | %s |", fmtDur(a.P50), fmtDur(b.P50), durRatio(b.P50, a.P50))
	p("| time to fresh, p90 | %s | %s | %s |", fmtDur(a.P90), fmtDur(b.P90), durRatio(b.P90, a.P90))
	p("| time to fresh, p99 | %s | %s | %s |", fmtDur(a.P99), fmtDur(b.P99), durRatio(b.P99, a.P99))
	p("| time to fresh, max | %s | %s | %s |", fmtDur(a.Max), fmtDur(b.Max), durRatio(b.Max, a.Max))
	p("| updates never seen fresh | %d | %d | |", a.Never, b.Never)
	p("| reads (a second) | %s (%s) | %s (%s) | |", commas(int64(a.Reads)), fmtNum(float64(a.Reads)/r.A.Elapsed.Seconds()),
		commas(int64(b.Reads)), fmtNum(float64(b.Reads)/r.B.Elapsed.Seconds()))
	if a.Errors+b.Errors > 0 {
		p("| failed reads (not counted above) | %d | %d | |", a.Errors, b.Errors)
	}
	p("| stale reads (share of reads) | %s (%s) | %s (%s) | %s |", commas(int64(a.Stale)), pct(a.Stale, a.Reads),
		commas(int64(b.Stale)), pct(b.Stale, b.Reads), ratioOrDash(float64(b.Stale), float64(a.Stale)))
	p("| stale reads per update | %s | %s | |", fmtNum(float64(a.Stale)/float64(len(r.A.Updates))), fmtNum(float64(b.Stale)/float64(len(r.B.Updates))))
	p("| reads reaching MinIO (share of reads) | %s (%s) | %s (%s) | %s |", commas(int64(a.Origin)), pct(a.Origin, a.Reads),
		commas(int64(b.Origin)), pct(b.Origin, b.Reads), ratioOrDash(float64(b.Origin), float64(a.Origin)))
	p("| … of them revalidations answered 304 | %d | %d | |", r.A.NotMod, r.B.NotMod)
	p("| … before the first update (%s) | %d | %d | |", fmtSetting(c.Lead), a.OriginLead, b.OriginLead)
	p("| … from the first update to the last (%s) | %d | %d | |", fmtDur(time.Duration(c.Updates-1)*c.Every), a.OriginUpdating, b.OriginUpdating)
	p("| … after the last update (%s) | %d | %d | |", fmtSetting(c.Quiet), a.OriginQuiet, b.OriginQuiet)
	p("| X-Cache: MISS | %s | %s | |", commas(int64(a.Misses)), commas(int64(b.Misses)))
	p("| serve: batches applied, objects purged | %d, %d | — | |", r.A.Batches, r.A.Purges)
	p("")
	if r.PNG != "" {
		p("![Time to fresh of each update (CDF, log scale) and reads reaching MinIO over time, both runs](docs/freshness.png)")
	} else {
		p("The chart (`docs/freshness.png`) was not written in this run: the report went to stdout and %s was not set.", freshPNGEnv)
	}
	p("")
	p("How to read this, and what it does not show:")
	p("")
	p("- Time to fresh includes the wait for the object's next read: each object is read every %s, so", readEvery)
	p("  a figure is up to that much (on average half that) later than Varnish first had the new bytes.")
	p("- In A it is MinIO's webhook delivery, serve's durable inbox (an fsync before the 202), planning")
	p("  against the ledger and the PURGE. An update every %s finds the inbox idle, so serve applies it", fmtSetting(c.Every))
	p("  at once; the window of %s only bounds how long events that keep arriving are gathered (a", fmtSetting(r.Window))
	p("  burst still becomes few batches and few requests). Most of A's figures is the wait for the")
	p("  object's next read. Varnish drops an object at once on PURGE; CloudFront and Akamai take")
	p("  seconds to minutes, which this does not model.")
	p("- In B an update shows once the copy Varnish held expires, at most %s later. Varnish's default", fmtSetting(c.ShortTTL))
	p("  grace (10 s) serves the expired copy once more while it fetches the new one in the background;")
	p("  that fetch is a HIT in X-Cache, which is why MinIO's count comes from the proxy. Varnish")
	p("  revalidates with both `If-None-Match` and `If-Modified-Since`, and MinIO answers 304 when the")
	p("  date holds though the ETag differs (RFC 9110 says to ignore the date then), with whole-second")
	p("  dates: a version written in the same second as the cached one would stay unseen until the next")
	p("  change. The proxy drops `If-Modified-Since` when `If-None-Match` is sent, so B shows what a TTL")
	p("  gives, not that bug. A is not affected: a purged object is fetched anew, unconditionally.")
	p("- Purging costs one origin fetch per change that is read again; a TTL costs one per object per")
	p("  TTL, changed or not. This workload changes each object every %s on average, far more often", fmtDur(time.Duration(c.Objects)*c.Every))
	if a.OriginUpdating > b.OriginUpdating {
		p("  than most sites, which is why A fetched more from MinIO than B while it updated (%d against", a.OriginUpdating)
		p("  %d). After the last update A fetched %d and B %d in %s: with rare changes A's share tends", b.OriginUpdating, a.OriginQuiet, b.OriginQuiet, fmtSetting(c.Quiet))
	} else {
		p("  than most sites; while it updated A fetched %d from MinIO and B %d. After the last update A", a.OriginUpdating, b.OriginUpdating)
		p("  fetched %d and B %d in %s: with rare changes A's share tends", a.OriginQuiet, b.OriginQuiet, fmtSetting(c.Quiet))
	}
	p("  to nothing and B's stays at %d objects per %s.", c.Objects, fmtSetting(c.ShortTTL))
	p("- One run of each, on the shared machine above, where MinIO, Varnish, serve and the load")
	p("  generator all run; the tail (p99 of %d updates is its %s largest) is noisy.", c.Updates, ordinal(c.Updates-int(0.99*float64(c.Updates)+0.999999)+1))
	p("")
}

func durRatio(num, den time.Duration) string {
	if num < 0 || den <= 0 {
		return "—"
	}
	return fmtNum(float64(num)/float64(den)) + "×"
}

func pct(n, of int) string {
	if of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return fmt.Sprintf("%dth", n)
	case n%10 == 1:
		return fmt.Sprintf("%dst", n)
	case n%10 == 2:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3:
		return fmt.Sprintf("%drd", n)
	}
	return fmt.Sprintf("%dth", n)
}
