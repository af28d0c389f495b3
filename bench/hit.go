package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/internal/awstest"
)

// hitResult is measurement 1: ns per read of one cached SSM parameter, by
// way of reading it, per round.
type hitResult struct {
	Rounds    int
	Library   []float64 // cache.Entry.Get
	Extension []float64 // localhost HTTP, extension-style
	SDK       []float64 // ssm.GetParameter to moto
	LibAllocs int64
	ExtAllocs int64
	SDKAllocs int64
}

const (
	hitParam = "/bench/app/db_url"
	hitValue = "postgres://app:secret@db.internal:5432/app"
)

func init() {
	register(measurement{Num: 1, Title: "Cache hit cost",
		What:    "ns per read of a cached value through the library, against an extension-style localhost HTTP server and a direct SDK call to moto",
		Measure: func(o options) (section, error) { return measureHit(o) }})
}

func (h *hitResult) write(p printer) { writeHit(p, h) }

func measureHit(opts options) (*hitResult, error) {
	logf(opts, "1 cache hit cost: starting moto")
	moto, err := awstest.StartMoto()
	if err != nil {
		return nil, err
	}
	defer moto.Close()
	ctx := context.Background()
	api := ssm.NewFromConfig(moto.Config())
	if _, err := api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(hitParam), Value: aws.String(hitValue), Type: types.ParameterTypeSecureString}); err != nil {
		return nil, err
	}

	// offload's cache, warm.
	c, err := cache.New(cache.Options{})
	if err != nil {
		return nil, err
	}
	params, err := ssmcache.New(ssmcache.Options{Client: api})
	if err != nil {
		return nil, err
	}
	entry, err := cache.Add(c, params.String(hitParam))
	if err != nil {
		return nil, err
	}
	if v, err := entry.Get(ctx); err != nil || v != hitValue {
		return nil, fmt.Errorf("library read: got %q, %v", v, err)
	}

	// An extension-style server on 127.0.0.1, warm.
	ext, err := startExtension(api)
	if err != nil {
		return nil, err
	}
	defer ext.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Second}
	if v, err := ext.read(ctx, client, hitParam); err != nil || v != hitValue {
		return nil, fmt.Errorf("extension read: got %q, %v", v, err)
	}

	sdkRead := func() (string, error) {
		out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(hitParam), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Parameter.Value), nil
	}
	if v, err := sdkRead(); err != nil || v != hitValue {
		return nil, fmt.Errorf("SDK read: got %q, %v", v, err)
	}

	res := &hitResult{Rounds: opts.Rounds}
	var failed error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
	}
	bench := func(read func() (string, error)) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v, err := read(); err != nil || v != hitValue {
					fail(fmt.Errorf("read: got %q, %v", v, err))
					b.SkipNow()
				}
			}
		})
	}
	for r := range opts.Rounds {
		lib := bench(func() (string, error) { return entry.Get(ctx) })
		ex := bench(func() (string, error) { return ext.read(ctx, client, hitParam) })
		sdk := bench(sdkRead)
		if failed != nil {
			return nil, failed
		}
		res.Library = append(res.Library, float64(lib.NsPerOp()))
		res.Extension = append(res.Extension, float64(ex.NsPerOp()))
		res.SDK = append(res.SDK, float64(sdk.NsPerOp()))
		res.LibAllocs, res.ExtAllocs, res.SDKAllocs = lib.AllocsPerOp(), ex.AllocsPerOp(), sdk.AllocsPerOp()
		logf(opts, "1 round %d: library %d ns, extension %d ns, SDK %d ns", r+1, lib.NsPerOp(), ex.NsPerOp(), sdk.NsPerOp())
	}
	return res, nil
}

// extension mimics the AWS Parameters and Secrets Lambda Extension: it
// answers GET /systemsmanager/parameters/get?name=... (with the
// X-Aws-Parameters-Secrets-Token header) with GetParameter's JSON, from its
// own in-memory cache, filled from SSM on a miss.
type extension struct {
	URL   string
	Token string
	srv   *http.Server
	api   *ssm.Client

	mu    sync.Mutex
	cache map[string][]byte // name → response body
}

func startExtension(api *ssm.Client) (*extension, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &extension{URL: "http://" + ln.Addr().String(), Token: "bench-session-token", api: api, cache: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /systemsmanager/parameters/get", e.serve)
	e.srv = &http.Server{Handler: mux}
	go e.srv.Serve(ln)
	return e, nil
}

func (e *extension) Close() error { return e.srv.Close() }

func (e *extension) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Aws-Parameters-Secrets-Token") != e.Token {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	name := r.URL.Query().Get("name")
	e.mu.Lock()
	body, ok := e.cache[name]
	e.mu.Unlock()
	if !ok {
		out, err := e.api.GetParameter(r.Context(), &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(r.URL.Query().Get("withDecryption") == "true")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p := out.Parameter
		body, err = json.Marshal(map[string]any{
			"Parameter": extParameter{
				ARN: aws.ToString(p.ARN), DataType: aws.ToString(p.DataType), LastModifiedDate: aws.ToTime(p.LastModifiedDate),
				Name: aws.ToString(p.Name), Type: string(p.Type), Value: aws.ToString(p.Value), Version: p.Version,
			},
			"ResultMetadata": struct{}{},
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		e.mu.Lock()
		e.cache[name] = body
		e.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// extParameter is the Parameter of the extension's GetParameter answer.
type extParameter struct {
	ARN              string    `json:"ARN"`
	DataType         string    `json:"DataType"`
	LastModifiedDate time.Time `json:"LastModifiedDate"`
	Name             string    `json:"Name"`
	Selector         *string   `json:"Selector"`
	SourceResult     *string   `json:"SourceResult"`
	Type             string    `json:"Type"`
	Value            string    `json:"Value"`
	Version          int64     `json:"Version"`
}

// read is what a function does to read a parameter from the extension:
// one GET on a kept-alive connection and a JSON decode.
func (e *extension) read(ctx context.Context, client *http.Client, name string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/systemsmanager/parameters/get?withDecryption=true&name="+url.QueryEscape(name), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-Aws-Parameters-Secrets-Token", e.Token)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("extension: status %d", resp.StatusCode)
	}
	var out struct{ Parameter extParameter }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	if out.Parameter.Value == "" {
		return "", errors.New("extension: empty value")
	}
	return out.Parameter.Value, nil
}
