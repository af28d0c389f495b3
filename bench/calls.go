package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	awscache "github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/internal/awstest"
)

// Measurement 2: the API calls each cache contender makes to load N
// parameters or secrets and to refresh them once they are due, counted at
// the HTTP transport against moto; and the cost of a hit where a contender
// caches.

// The contenders, as the report names them, in its order.
const (
	cOffload    = "offload"
	cPerEntry   = "one call per entry"
	cBatched    = "batched, no cache"
	cPowertools = "Powertools (TypeScript)"
	cAWSCache   = "aws-secretsmanager-caching-go"
)

// awsCacheVersion is the version of aws-secretsmanager-caching-go in
// go.mod: the newest the module proxy here serves whole (v2.3.0's info is
// served, its zip is refused).
const awsCacheVersion = "v2.2.0"

// callCount is one phase's calls: how many, and by operation.
type callCount struct {
	Calls int
	Ops   string
}

// phases are a contender's calls to load N entries and to refresh them.
type phases struct{ Load, Refresh callCount }

// callsRow is measurement 2 for one count of entries.
type callsRow struct {
	Entries int
	By      map[string]phases // by contender
}

// hitRow is what one read of a cached value costs a contender, per round.
type hitRow struct {
	Contender string
	Ns        []float64
	Allocs    int64 // -1 when not measured (Node.js)
}

type callsResult struct {
	Parameters []callsRow
	Secrets    []callsRow
	HitRounds  int
	ParamHits  []hitRow
	SecretHits []hitRow
	Powertools string // versions, from package-lock.json
}

// callsParams sizes measurement 2; the harness uses opts.Counts and
// opts.Rounds, the smoke test something tiny.
type callsParams struct {
	Counts    []int
	HitRounds int
	HitReads  int // reads per round in Node.js
}

func init() {
	register(measurement{Num: 2, Title: "API calls to load and refresh N entries",
		What: "API calls to load and to refresh 1, 10, 25 and 100 SSM parameters and secrets by offload, Powertools for AWS Lambda (TypeScript), aws-secretsmanager-caching-go, one call per entry and plain batched calls, and the cost of a hit",
		Measure: func(o options) (section, error) {
			return measureCalls(o, callsParams{Counts: o.Counts, HitRounds: o.Rounds, HitReads: 200000})
		}})
}

func (c *callsResult) write(p printer) { writeCalls(p, c) }

func measureCalls(opts options, cp callsParams) (*callsResult, error) {
	pt, err := powertoolsDir()
	if err != nil {
		return nil, err
	}
	logf(opts, "2 API calls: starting moto")
	moto, err := awstest.StartMoto()
	if err != nil {
		return nil, err
	}
	defer moto.Close()
	res := &callsResult{HitRounds: cp.HitRounds, Powertools: powertoolsVersions(pt)}
	for _, n := range cp.Counts {
		if err := moto.Reset(); err != nil {
			return nil, err
		}
		e, err := newCallsEnv(moto, n)
		if err != nil {
			return nil, fmt.Errorf("%d entries: %w", n, err)
		}
		params, secrets, err := e.count(pt)
		e.Close()
		if err != nil {
			return nil, fmt.Errorf("%d entries: %w", n, err)
		}
		res.Parameters = append(res.Parameters, params)
		res.Secrets = append(res.Secrets, secrets)
		logf(opts, "2 %d entries: parameters %v; secrets %v", n, params.By, secrets.By)
	}
	if cp.HitRounds > 0 {
		if err := moto.Reset(); err != nil {
			return nil, err
		}
		e, err := newCallsEnv(moto, 1)
		if err != nil {
			return nil, err
		}
		defer e.Close()
		if err := e.hits(pt, cp, res); err != nil {
			return nil, fmt.Errorf("hits: %w", err)
		}
	}
	return res, nil
}

// callsEnv is moto holding N SecureString parameters and N secrets, each
// of value "v" + its name, and the clients every Go contender shares: one
// transport (the counter over awstest.Transport) and one aws.Config.
type callsEnv struct {
	counter *awstest.Counter
	proxy   *httptest.Server // the counter in front of moto, for Node.js
	ssm     *ssm.Client
	sm      *secretsmanager.Client
	params  []string
	secrets []string
}

func newCallsEnv(moto *awstest.Moto, n int) (*callsEnv, error) {
	ctx := context.Background()
	e := &callsEnv{counter: awstest.NewCounter()}
	cfg := moto.Config(e.counter)
	e.ssm, e.sm = ssm.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg)
	for i := range n {
		p, s := fmt.Sprintf("/bench/app/p%03d", i), fmt.Sprintf("bench/s%03d", i)
		if _, err := e.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(p), Value: aws.String("v" + p), Type: types.ParameterTypeSecureString}); err != nil {
			return nil, err
		}
		if _, err := e.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(s), SecretString: aws.String("v" + s)}); err != nil {
			return nil, err
		}
		e.params, e.secrets = append(e.params, p), append(e.secrets, s)
	}
	var err error
	e.proxy, err = awsProxy(moto.URL, e.counter)
	return e, err
}

func (e *callsEnv) Close() { e.proxy.Close() }

// awsProxy forwards to target through counter, so that a contender
// that is not in this process (Node.js, the bootstrap) reaches moto by
// AWS_ENDPOINT_URL and has its calls counted by the same transport.
func awsProxy(target string, counter *awstest.Counter) (*httptest.Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = counter
	return httptest.NewServer(rp), nil
}

// reader reads every name once and returns the values, in order.
type reader func(ctx context.Context) ([]string, error)

// phase counts the calls of one read, whose values must be "v" + name.
func (e *callsEnv) phase(read reader, names []string) (callCount, error) {
	e.counter.Reset()
	got, err := read(context.Background())
	if err != nil {
		return callCount{}, err
	}
	if err := checkValues(names, got); err != nil {
		return callCount{}, err
	}
	return callCount{Calls: e.counter.Count(), Ops: e.counter.String()}, nil
}

func checkValues(names, got []string) error {
	if len(got) != len(names) {
		return fmt.Errorf("got %d values, want %d", len(got), len(names))
	}
	for i, name := range names {
		if got[i] != "v"+name {
			return fmt.Errorf("%s: got %q, want %q", name, got[i], "v"+name)
		}
	}
	return nil
}

// count runs every contender over the N parameters and the N secrets:
// a first read (load) and a read once everything is due (refresh).
func (e *callsEnv) count(powertools string) (params, secrets callsRow, err error) {
	params = callsRow{Entries: len(e.params), By: map[string]phases{}}
	secrets = callsRow{Entries: len(e.secrets), By: map[string]phases{}}
	both := func(row callsRow, name string, names []string, load, refresh reader) error {
		var ph phases
		if ph.Load, err = e.phase(load, names); err != nil {
			return fmt.Errorf("%s, load: %w", name, err)
		}
		if ph.Refresh, err = e.phase(refresh, names); err != nil {
			return fmt.Errorf("%s, refresh: %w", name, err)
		}
		row.By[name] = ph
		return nil
	}
	// offload: cache.Refresh of every entry, the first time and again.
	p, s, err := offloadReaders(e.ssm, e.sm, e.params, e.secrets)
	if err != nil {
		return
	}
	if err = both(params, cOffload, e.params, p, p); err != nil {
		return
	}
	if err = both(secrets, cOffload, e.secrets, s, s); err != nil {
		return
	}
	p, s = perEntryReaders(e.ssm, e.sm, e.params, e.secrets)
	if err = both(params, cPerEntry, e.params, p, p); err != nil {
		return
	}
	if err = both(secrets, cPerEntry, e.secrets, s, s); err != nil {
		return
	}
	p, s = batchedReaders(e.ssm, e.sm, e.params, e.secrets)
	if err = both(params, cBatched, e.params, p, p); err != nil {
		return
	}
	if err = both(secrets, cBatched, e.secrets, s, s); err != nil {
		return
	}
	// aws-secretsmanager-caching-go with a TTL of 1 ns: every secret is
	// due at the second read, as after its TTL.
	ac, err := awscache.New(func(c *awscache.Cache) { c.Client = e.sm; c.CacheItemTTL = 1 })
	if err != nil {
		return
	}
	s = awsCacheReader(ac, e.secrets)
	if err = both(secrets, cAWSCache, e.secrets, s, s); err != nil {
		return
	}
	err = e.powertools(powertools, params, secrets)
	return
}

// offloadReaders are the offload contender: one cache per kind, an entry
// per name, and one cache.Refresh of them all per read. All of offload's
// API used by measurement 2 is here and in offloadHit.
func offloadReaders(p *ssm.Client, s *secretsmanager.Client, params, secrets []string) (reader, reader, error) {
	read := func(spec func(string) cache.Spec[string], names []string) (reader, error) {
		c, err := cache.New(cache.Options{})
		if err != nil {
			return nil, err
		}
		typed := make([]*cache.Entry[string], len(names))
		all := make([]cache.Loadable, len(names))
		for i, name := range names {
			if typed[i], err = cache.Add(c, spec(name)); err != nil {
				return nil, err
			}
			all[i] = typed[i]
		}
		return func(ctx context.Context) ([]string, error) {
			if err := c.Refresh(ctx, all...); err != nil {
				return nil, err
			}
			out := make([]string, len(typed))
			for i, e := range typed {
				v, err := e.Get(ctx)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}, nil
	}
	ps, err := ssmcache.New(ssmcache.Options{Client: p})
	if err != nil {
		return nil, nil, err
	}
	ss, err := secretcache.New(secretcache.Options{Client: s})
	if err != nil {
		return nil, nil, err
	}
	pr, err := read(func(n string) cache.Spec[string] { return ps.String(n) }, params)
	if err != nil {
		return nil, nil, err
	}
	sr, err := read(func(n string) cache.Spec[string] { return ss.String(n) }, secrets)
	return pr, sr, err
}

// offloadHit is a read of one cached secret and one cached parameter
// through offload's cache, loaded once.
func offloadHit(ctx context.Context, p *ssm.Client, s *secretsmanager.Client, param, secret string) (readParam, readSecret func() (string, error), err error) {
	c, err := cache.New(cache.Options{})
	if err != nil {
		return nil, nil, err
	}
	ps, err := ssmcache.New(ssmcache.Options{Client: p})
	if err != nil {
		return nil, nil, err
	}
	ss, err := secretcache.New(secretcache.Options{Client: s})
	if err != nil {
		return nil, nil, err
	}
	pe, err := cache.Add(c, ps.String(param))
	if err != nil {
		return nil, nil, err
	}
	se, err := cache.Add(c, ss.String(secret))
	if err != nil {
		return nil, nil, err
	}
	if err := c.Refresh(ctx, pe, se); err != nil {
		return nil, nil, err
	}
	return func() (string, error) { return pe.Get(ctx) }, func() (string, error) { return se.Get(ctx) }, nil
}

// perEntryReaders are what stacked per-value decorators do: one
// GetParameter or GetSecretValue per name, every time.
func perEntryReaders(p *ssm.Client, s *secretsmanager.Client, params, secrets []string) (reader, reader) {
	return func(ctx context.Context) ([]string, error) {
			var out []string
			for _, n := range params {
				o, err := p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(n), WithDecryption: aws.Bool(true)})
				if err != nil {
					return nil, err
				}
				out = append(out, aws.ToString(o.Parameter.Value))
			}
			return out, nil
		}, func(ctx context.Context) ([]string, error) {
			var out []string
			for _, n := range secrets {
				o, err := s.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(n)})
				if err != nil {
					return nil, err
				}
				out = append(out, aws.ToString(o.SecretString))
			}
			return out, nil
		}
}

// batchedReaders are the batched floor without a cache: GetParameters of
// ten names a call, BatchGetSecretValue of twenty ids a call, every time.
func batchedReaders(p *ssm.Client, s *secretsmanager.Client, params, secrets []string) (reader, reader) {
	return func(ctx context.Context) ([]string, error) {
			got := map[string]string{}
			for chunk := range slices.Chunk(params, 10) {
				o, err := p.GetParameters(ctx, &ssm.GetParametersInput{Names: chunk, WithDecryption: aws.Bool(true)})
				if err != nil {
					return nil, err
				}
				for _, v := range o.Parameters {
					got[aws.ToString(v.Name)] = aws.ToString(v.Value)
				}
			}
			return inOrder(params, got), nil
		}, func(ctx context.Context) ([]string, error) {
			got := map[string]string{}
			for chunk := range slices.Chunk(secrets, 20) {
				o, err := s.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: chunk})
				if err != nil {
					return nil, err
				}
				for _, v := range o.SecretValues {
					got[aws.ToString(v.Name)] = aws.ToString(v.SecretString)
				}
			}
			return inOrder(secrets, got), nil
		}
}

func inOrder(names []string, got map[string]string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = got[n]
	}
	return out
}

// awsCacheReader reads every secret through aws-secretsmanager-caching-go,
// one GetSecretStringWithContext per secret, as its users do.
func awsCacheReader(c *awscache.Cache, secrets []string) reader {
	return func(ctx context.Context) ([]string, error) {
		out := make([]string, len(secrets))
		for i, n := range secrets {
			v, err := c.GetSecretStringWithContext(ctx, n)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
}

// hits times a read of one cached parameter and one cached secret by each
// contender that caches, in rounds.
func (e *callsEnv) hits(powertools string, cp callsParams, res *callsResult) error {
	ctx := context.Background()
	param, secret := e.params[0], e.secrets[0]
	offParam, offSecret, err := offloadHit(ctx, e.ssm, e.sm, param, secret)
	if err != nil {
		return err
	}
	ac, err := awscache.New(func(c *awscache.Cache) { c.Client = e.sm })
	if err != nil {
		return err
	}
	acRead := func() (string, error) { return ac.GetSecretStringWithContext(ctx, secret) }
	goRows := []struct {
		row  *hitRow
		want string
		read func() (string, error)
	}{
		{&hitRow{Contender: cOffload}, "v" + param, offParam},
		{&hitRow{Contender: cOffload}, "v" + secret, offSecret},
		{&hitRow{Contender: cAWSCache}, "v" + secret, acRead},
	}
	for _, g := range goRows {
		if v, err := g.read(); err != nil || v != g.want {
			return fmt.Errorf("%s: got %q, %v; want %q", g.row.Contender, v, err, g.want)
		}
	}
	for range cp.HitRounds {
		for _, g := range goRows {
			var failed error
			r := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if v, err := g.read(); err != nil || v != g.want {
						failed = fmt.Errorf("%s: got %q, %v; want %q", g.row.Contender, v, err, g.want)
						b.SkipNow()
					}
				}
			})
			if failed != nil {
				return failed
			}
			g.row.Ns = append(g.row.Ns, float64(r.NsPerOp()))
			g.row.Allocs = r.AllocsPerOp()
		}
	}
	ptParam, ptSecret := &hitRow{Contender: cPowertools, Allocs: -1}, &hitRow{Contender: cPowertools, Allocs: -1}
	err = runPowertools(powertools, e.proxy.URL, powertoolsJob{Parameters: e.params[:1], Secrets: e.secrets[:1], MaxAge: 1, HitReads: cp.HitReads, HitRounds: cp.HitRounds},
		func(out powertoolsOut) error {
			for _, r := range out.Rounds {
				ptParam.Ns = append(ptParam.Ns, r.Parameter)
				ptSecret.Ns = append(ptSecret.Ns, r.Secret)
			}
			return nil
		})
	if err != nil {
		return err
	}
	if len(ptParam.Ns) != cp.HitRounds {
		return fmt.Errorf("powertools: got %d hit rounds, want %d", len(ptParam.Ns), cp.HitRounds)
	}
	res.ParamHits = []hitRow{*goRows[0].row, *ptParam}
	res.SecretHits = []hitRow{*goRows[1].row, *goRows[2].row, *ptSecret}
	return nil
}

// powertools counts the Powertools contender's calls, phase by phase.
func (e *callsEnv) powertools(dir string, params, secrets callsRow) error {
	var got [2]phases // parameters, secrets
	var phaseErr error
	// Parameters and secrets go in separate processes so each kind's
	// calls are counted alone; maxAge 1 s is waited out before the refresh.
	for i, job := range []powertoolsJob{{Parameters: e.params, MaxAge: 1}, {Secrets: e.secrets, MaxAge: 1}} {
		names := append(slices.Clone(job.Parameters), job.Secrets...)
		e.counter.Reset()
		err := runPowertools(dir, e.proxy.URL, job, func(out powertoolsOut) error {
			vals := out.Parameters
			if len(job.Secrets) > 0 {
				vals = out.Secrets
			}
			got := make([]string, len(names))
			for j, n := range names {
				got[j] = vals[n]
			}
			if err := checkValues(names, got); err != nil {
				return fmt.Errorf("%s: %w", out.Phase, err)
			}
			return nil
		}, func(phase string) {
			c := callCount{Calls: e.counter.Count(), Ops: e.counter.String()}
			switch phase {
			case "load":
				got[i].Load = c
			case "refresh":
				got[i].Refresh = c
			default:
				phaseErr = fmt.Errorf("powertools: unexpected phase %q", phase)
			}
			e.counter.Reset()
		})
		if err != nil {
			return err
		}
	}
	params.By[cPowertools], secrets.By[cPowertools] = got[0], got[1]
	return phaseErr
}
