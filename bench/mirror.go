package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/internal/akamaitest"
	"github.com/offload-dev/offload/internal/memtest"
	"github.com/offload-dev/offload/internal/miniotest"
	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/netstorage"
	"github.com/offload-dev/offload/mirror/s3mirror"
	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
)

// Measurement 6: objects streamed by pipeline.Mirror from a source bucket
// (MinIO) to NetStorage (the fake of internal/akamaitest) and to another
// bucket (s3mirror, to the same MinIO), each in a child process of its own
// so its peak memory is the mirror's alone. MinIO and the NetStorage fake
// run outside the child: MinIO as its own process, the fake in the parent.

// mirrorSizes are the object sizes streamed.
var mirrorSizes = []int64{10 * memtest.MiB, 100 * memtest.MiB, memtest.GiB}

// mirrorRoundsDefault is how many times each object is streamed to each
// destination; the whole measurement took about 75 s on two shared cores.
const mirrorRoundsDefault = 5

// Destinations, as the report names them.
const (
	destNetStorage = "netstorage"
	destS3         = "s3"
)

var mirrorDests = []string{destNetStorage, destS3}

// NetStorage account of the fake.
const (
	nsCPCode  = "123456"
	nsKeyName = "uploader"
	nsKey     = "bench-netstorage-key"
	nsDir     = "site"
)

// mirrorJob is what the parent asks a child to mirror.
type mirrorJob struct {
	Dest      string // destNetStorage or destS3
	S3URL     string // MinIO's S3 API, source and S3 destination alike
	Bucket    string // source bucket
	Key       string // source key
	Path      string // the key at the mirror
	NSURL     string // the NetStorage fake
	DstBucket string // the S3 destination
}

// mirrorRun is one object streamed once, as the child measured it.
type mirrorRun struct {
	Dest      string
	Size      int64 // the object's size
	ElapsedNs int64 // wall time of pipeline.Mirror, GetObject to the mirror's answer
	CPUNs     int64 // user+system CPU time of the mirroring process over it
	HeapAlloc int64 // Go heap allocated over it
	RSSBefore int64 // resident after the clients were built
	PeakRSS   int64 // VmHWM over the mirror, reset before it
	PeakReset bool  // whether the reset of VmHWM worked
}

func (r *mirrorRun) mibps() float64 {
	return float64(r.Size) / memtest.MiB / (float64(r.ElapsedNs) / 1e9)
}

func init() {
	registerChild("mirror", mirrorChild)
	register(measurement{Num: 6, Title: "Mirror streaming",
		What:    "peak memory and throughput for 10 MiB, 100 MiB and 1 GiB objects streamed from an S3-compatible bucket to NetStorage and to another S3-compatible bucket",
		Measure: func(o options) (section, error) { return measureMirror(o) }})
}

const mirrorJobEnv = "OFFLOAD_BENCH_MIRROR_JOB"

// mirrorChild mirrors the object the parent named in the environment and
// prints its mirrorRun as JSON.
func mirrorChild(w io.Writer) error {
	var job mirrorJob
	if err := json.Unmarshal([]byte(os.Getenv(mirrorJobEnv)), &job); err != nil {
		return fmt.Errorf("%s: %w", mirrorJobEnv, err)
	}
	r, err := mirrorOnce(job)
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(r)
}

func runMirrorChild(job mirrorJob) (*mirrorRun, error) {
	raw, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	var r mirrorRun
	err = inChild("mirror", []string{mirrorJobEnv + "=" + string(raw)}, &r)
	return &r, err
}

// benchS3Client is an S3 client for MinIO built as `offload` builds its own
// (the SDK's default configuration), with MinIO's credentials, path-style.
func benchS3Client(ctx context.Context, url string) (*s3.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(miniotest.RootUser, miniotest.RootPassword, "")))
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	}), nil
}

// mirrorOnce streams one object through pipeline.Mirror, the pipeline's
// own code path for a changed object, and measures it.
func mirrorOnce(job mirrorJob) (*mirrorRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	src, err := benchS3Client(ctx, job.S3URL)
	if err != nil {
		return nil, err
	}
	var m mirror.Mirror
	switch job.Dest {
	case destNetStorage:
		m, err = netstorage.New(netstorage.Options{APIURL: job.NSURL, Host: "bench-nsu.akamaihd.net",
			CPCode: nsCPCode, Dir: nsDir, KeyName: nsKeyName, Key: nsKey})
	case destS3:
		m, err = s3mirror.New(s3mirror.Options{Client: src, Bucket: job.DstBucket})
	default:
		err = fmt.Errorf("unknown destination %q", job.Dest)
	}
	if err != nil {
		return nil, err
	}
	p, err := pipeline.New(pipeline.Options{Ledger: ledger.NewMemory(), Mirrors: map[string]mirror.Mirror{job.Dest: m}, Source: src})
	if err != nil {
		return nil, err
	}
	op := plan.MirrorOp{Mirror: job.Dest, Op: "upload", Bucket: job.Bucket, Key: job.Key, Path: job.Path}

	r := &mirrorRun{Dest: job.Dest}
	runtime.GC()
	debug.FreeOSMemory()
	r.RSSBefore, _ = procStatus("VmRSS")
	r.PeakReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu, start := cpuTime(), time.Now()
	if err := p.Mirror(ctx, op); err != nil {
		return nil, err
	}
	r.ElapsedNs = int64(time.Since(start))
	r.CPUNs = int64(cpuTime() - cpu)
	r.PeakRSS, _ = procStatus("VmHWM")
	runtime.ReadMemStats(&after)
	r.HeapAlloc = int64(after.TotalAlloc - before.TotalAlloc)
	return r, nil
}

// mirrorEnv is the parent's side: the source bucket in MinIO, the S3
// destination bucket, and the NetStorage fake.
type mirrorEnv struct {
	minio  *miniotest.MinIO
	client *s3.Client
	ns     *akamaitest.NetStorage
	sums   map[int64]string // SHA-256 of each source object, hex
}

const (
	mirrorSrcBucket = "bench-source"
	mirrorDstBucket = "bench-mirror"
)

func newMirrorEnv(ctx context.Context, m *miniotest.MinIO) (*mirrorEnv, error) {
	client, err := benchS3Client(ctx, m.URL)
	if err != nil {
		return nil, err
	}
	e := &mirrorEnv{minio: m, client: client, sums: map[int64]string{}}
	for _, b := range []string{mirrorSrcBucket, mirrorDstBucket} {
		if err := m.MakeBucket(ctx, b); err != nil {
			return nil, err
		}
	}
	e.ns = akamaitest.NewNetStorage(nsCPCode, nsKeyName, nsKey)
	return e, nil
}

func (e *mirrorEnv) Close() { e.ns.Close() }

func sizeName(n int64) string {
	if n >= memtest.GiB && n%memtest.GiB == 0 {
		return fmt.Sprintf("%d GiB", n/memtest.GiB)
	}
	if n%memtest.MiB == 0 {
		return fmt.Sprintf("%d MiB", n/memtest.MiB)
	}
	return commas(n) + " bytes"
}

func srcKey(size int64) string {
	return "objects/" + strings.ReplaceAll(sizeName(size), " ", "") + ".bin"
}

// upload puts an object of size deterministic bytes (memtest.Reader's) in
// the source bucket with one PutObject, streamed (the SDK reads the body
// again to sign it, so it gets a generator it can seek, not a buffer), and
// records its SHA-256. A single-part upload's ETag is its MD5, which
// pipeline.Mirror passes on to NetStorage.
func (e *mirrorEnv) upload(ctx context.Context, size int64) error {
	h := sha256.New()
	if _, err := io.Copy(h, memtest.Reader(size)); err != nil {
		return err
	}
	e.sums[size] = hex.EncodeToString(h.Sum(nil))
	_, err := e.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(mirrorSrcBucket), Key: aws.String(srcKey(size)),
		Body: &genSeeker{size: size}, ContentLength: aws.Int64(size), ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fmt.Errorf("upload %s: %w", sizeName(size), err)
	}
	return nil
}

// verify checks that the mirror got every byte of the object: at the
// NetStorage fake, its size and SHA-256 as the fake hashed the stream
// (which also checked the MD5 the upload declared); at the S3
// destination, the object read back and hashed. The S3 copy is deleted
// after, to free MinIO's disk.
func (e *mirrorEnv) verify(ctx context.Context, job mirrorJob, size int64) error {
	want := e.sums[size]
	switch job.Dest {
	case destNetStorage:
		f, ok := e.ns.File("/" + nsCPCode + "/" + nsDir + "/" + job.Path)
		if !ok {
			return fmt.Errorf("netstorage has no %s", job.Path)
		}
		if f.Size != size || f.SHA256 != want || f.Chunked {
			return fmt.Errorf("netstorage got %d bytes with SHA-256 %s (chunked %v), want %d bytes with %s", f.Size, f.SHA256, f.Chunked, size, want)
		}
		return nil
	case destS3:
		// Hashed here; the SDK would only warn that it cannot validate
		// a multipart upload's composite checksum.
		out, err := e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(job.DstBucket), Key: aws.String(job.Path)},
			func(o *s3.Options) { o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired })
		if err != nil {
			return fmt.Errorf("read back s3://%s/%s: %w", job.DstBucket, job.Path, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, out.Body)
		out.Body.Close()
		if err != nil {
			return fmt.Errorf("read back s3://%s/%s: %w", job.DstBucket, job.Path, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); n != size || got != want {
			return fmt.Errorf("s3://%s/%s holds %d bytes with SHA-256 %s, want %d bytes with %s", job.DstBucket, job.Path, n, got, size, want)
		}
		_, err = e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(job.DstBucket), Key: aws.String(job.Path)})
		return err
	}
	return fmt.Errorf("unknown destination %q", job.Dest)
}

// genSeeker is memtest.Reader's bytes behind a Seek, for an SDK that reads
// a body twice: a seek starts the generator again and skips to the offset.
type genSeeker struct {
	size, off int64
	r         io.Reader
}

func (g *genSeeker) Read(p []byte) (int, error) {
	if g.r == nil {
		g.r = memtest.Reader(g.size)
		if _, err := io.CopyN(io.Discard, g.r, g.off); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
	}
	n, err := g.r.Read(p)
	g.off += int64(n)
	return n, err
}

func (g *genSeeker) Seek(offset int64, whence int) (int64, error) {
	abs := offset
	switch whence {
	case io.SeekCurrent:
		abs += g.off
	case io.SeekEnd:
		abs += g.size
	}
	if abs < 0 {
		return 0, errors.New("genSeeker: negative position")
	}
	if abs != g.off {
		g.r, g.off = nil, abs
	}
	return abs, nil
}

type mirrorResult struct {
	Sizes []int64
	Dests []string
	Runs  map[string][]*mirrorRun // by runKey, one per round
}

func runKey(size int64, dest string) string { return sizeName(size) + " " + dest }

func (mr *mirrorResult) write(p printer) { writeMirror(p, mr) }

func measureMirror(opts options) (*mirrorResult, error) {
	dir, err := os.MkdirTemp("", "offload-bench-mirror-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	logf(opts, "6 starting MinIO in %s", dir)
	m, err := miniotest.Launch(dir, miniotest.Options{})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	e, err := newMirrorEnv(context.Background(), m)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	return mirrorAll(opts, e, mirrorSizes, mirrorRoundsDefault, runMirrorChild)
}

// mirrorAll uploads an object of each size, then streams each to each
// destination in rounds (round by round, so the machine's noise falls on
// every size alike) with run, checking every copy.
func mirrorAll(opts options, e *mirrorEnv, sizes []int64, rounds int, run func(mirrorJob) (*mirrorRun, error)) (*mirrorResult, error) {
	ctx := context.Background()
	res := &mirrorResult{Sizes: sizes, Dests: mirrorDests, Runs: map[string][]*mirrorRun{}}
	for _, size := range sizes {
		start := time.Now()
		if err := e.upload(ctx, size); err != nil {
			return nil, err
		}
		logf(opts, "6 uploaded the %s source object in %v", sizeName(size), time.Since(start).Round(time.Millisecond))
	}
	for round := range rounds {
		for _, size := range sizes {
			for _, dest := range mirrorDests {
				job := mirrorJob{Dest: dest, S3URL: e.minio.URL, Bucket: mirrorSrcBucket, Key: srcKey(size),
					Path:  fmt.Sprintf("bench/r%d/%s", round+1, strings.TrimPrefix(srcKey(size), "objects/")),
					NSURL: e.ns.URL, DstBucket: mirrorDstBucket}
				r, err := run(job)
				if err != nil {
					return nil, fmt.Errorf("%s to %s: %w", sizeName(size), dest, err)
				}
				r.Size = size
				if err := e.verify(ctx, job, size); err != nil {
					return nil, fmt.Errorf("%s to %s: %w", sizeName(size), dest, err)
				}
				res.Runs[runKey(size, dest)] = append(res.Runs[runKey(size, dest)], r)
				logf(opts, "6 round %d, %s to %s: %v, %.0f MiB/s, %v CPU, RSS %d MiB before, peak %d MiB",
					round+1, sizeName(size), dest, time.Duration(r.ElapsedNs).Round(time.Millisecond), r.mibps(),
					time.Duration(r.CPUNs).Round(time.Millisecond), r.RSSBefore>>20, r.PeakRSS>>20)
			}
		}
	}
	for _, size := range sizes {
		if _, err := e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(mirrorSrcBucket), Key: aws.String(srcKey(size))}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func writeMirror(p printer, mr *mirrorResult) {
	p("## 6. Mirror streaming")
	p("")
	p("A changed object is mirrored by `pipeline.Mirror`, the pipeline's own code path: a `GetObject`")
	p("from the source bucket, whose body goes as a stream to the mirror's `Put`. The source is a")
	p("bucket in MinIO (a process of its own) holding objects of deterministic bytes, each put with")
	p("one `PutObject`, so its ETag is its MD5, which the pipeline passes on to NetStorage. The")
	p("destinations:")
	p("")
	p("- **NetStorage**: `mirror/netstorage` to the NetStorage fake of `internal/akamaitest`, which")
	p("  checks the ACS signature and hashes the body with MD5 and SHA-256 as it arrives, keeping only")
	p("  the digests (and refusing a body whose MD5 or size differs from the upload's). The fake runs")
	p("  in the harness's process.")
	p("- **S3**: `mirror/s3mirror` with its defaults to another bucket in the same MinIO: an object of")
	p("  known size up to %s (`SinglePutMax`) is read into one buffer of its size and sent in one", sizeName(s3mirror.DefaultSinglePutMax))
	p("  `PutObject`; a larger one goes up as a multipart upload in %s parts, %d in flight.", sizeName(s3mirror.DefaultPartSize), s3mirror.DefaultConcurrency)
	p("")
	p("The S3 clients are built from the SDK's default configuration, as `offload` builds them. Every")
	p("copy was checked after it was made: its size and SHA-256 as the fake hashed it, or the S3 copy")
	p("read back and hashed.")
	p("")
	p("Each object is mirrored in a child process of its own that holds only the mirror's side (no")
	p("server, no copy of the object), so its peak resident memory (`VmHWM`, reset after the clients")
	p("were built by writing 5 to `/proc/self/clear_refs`) is the mirror's. RSS before is the child's")
	p("resident memory at that point; Go heap allocated is what the child allocated while mirroring.")
	p("Throughput is the object's size over the wall time of `pipeline.Mirror`, from the `GetObject`")
	p("to the mirror's answer. MiB per CPU-second is the size over the child's user+system CPU time:")
	p("the mirror's own cost, without MinIO's or the fake's.")
	p("")
	p("**Loopback caveat.** The source and both destinations are on 127.0.0.1, so the throughput is")
	p("bound by the CPU (MinIO reading and writing its disk, the fake hashing, the client's signing")
	p("and checksums, all on the same shared cores), not by a network. Mirroring to a real NetStorage")
	p("or S3 across the internet is bound by the network instead; the memory figures are the ones")
	p("that carry over. Each child is a fresh process, as a Lambda cold start is, and each upload has")
	p("a fixed cost, which weighs most on the smallest object: for S3, the buffers (the whole object")
	p("for a single `PutObject`; for a multipart upload, up to Concurrency = %d part buffers), memory", s3mirror.DefaultConcurrency)
	p("the fresh process touches for the first")
	p("time, and for a multipart upload two more requests (create and complete). %d rounds, run", mirrorRounds(mr))
	p("round by round across the sizes; median")
	p("(range).")
	p("")
	p("| object | destination | rounds | MiB/s (wall) | MiB per CPU-second | Go heap allocated | RSS before | peak RSS |")
	p("|---:|---|---:|---:|---:|---:|---:|---:|")
	reset := true
	peaks, growth := map[string]spread{}, map[string]spread{}
	for _, size := range mr.Sizes {
		for _, dest := range mr.Dests {
			runs := mr.Runs[runKey(size, dest)]
			var rate, cpuRate, alloc, before, peak, grown []float64
			for _, r := range runs {
				mib := float64(r.Size) / memtest.MiB
				rate = append(rate, r.mibps())
				cpuRate = append(cpuRate, mib/(float64(r.CPUNs)/1e9))
				alloc = append(alloc, float64(r.HeapAlloc)/memtest.MiB)
				before = append(before, float64(r.RSSBefore)/memtest.MiB)
				peak = append(peak, float64(r.PeakRSS)/memtest.MiB)
				grown = append(grown, float64(r.PeakRSS-r.RSSBefore)/memtest.MiB)
				reset = reset && r.PeakReset
			}
			peaks[runKey(size, dest)], growth[runKey(size, dest)] = spreadOf(peak), spreadOf(grown)
			p("| %s | %s | %d | %s | %s | %s MiB | %s MiB | %s MiB |", sizeName(size), destName(dest), len(runs),
				spreadOf(rate), spreadOf(cpuRate), spreadOf(alloc), spreadOf(before), spreadOf(peak))
		}
	}
	p("")
	if n := len(mr.Sizes); n > 1 {
		var names []string
		for _, size := range mr.Sizes {
			names = append(names, sizeName(size))
		}
		p("Peak RSS above RSS before, median per object (%s):", strings.Join(names, ", "))
		p("")
		for _, dest := range mr.Dests {
			var grown []string
			for _, size := range mr.Sizes {
				grown = append(grown, fmtNum(growth[runKey(size, dest)].Median)+" MiB")
			}
			a, b := mr.Sizes[n-2], mr.Sizes[n-1]
			p("- %s: %s; from %s to %s (%s× the bytes) the median peak RSS changed by %+.1f MiB.", destName(dest),
				strings.Join(grown, ", "), names[n-2], names[n-1], fmtNum(float64(b)/float64(a)),
				peaks[runKey(b, dest)].Median-peaks[runKey(a, dest)].Median)
		}
		p("")
		if mr.Sizes[0] <= s3mirror.DefaultSinglePutMax {
			p("To S3, the %s object goes up in one `PutObject` from a buffer of its own size, which is why", names[0])
			p("its peak is lower than the larger objects'. Those go up in parts read into up to")
			p("Concurrency = %d part buffers of `s3mirror`'s own (each part being read or sent), whatever", s3mirror.DefaultConcurrency)
			p("the object's size.")
			p("")
		}
	}
	if !reset {
		p("The reset of `VmHWM` failed on this machine: peak RSS includes building the clients.")
		p("")
	}
}

func destName(dest string) string {
	if dest == destS3 {
		return "S3 (MinIO)"
	}
	return "NetStorage"
}

// mirrorRounds is the most rounds any row had.
func mirrorRounds(mr *mirrorResult) int {
	n := 0
	for _, runs := range mr.Runs {
		n = max(n, len(runs))
	}
	return n
}
