package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/offload-dev/offload/cache"
	"github.com/offload-dev/offload/cache/secretcache"
	"github.com/offload-dev/offload/cache/ssmcache"
	"github.com/offload-dev/offload/internal/awstest"
)

// callsRow is measurement 2 for one count of entries: the API calls one
// refresh of all of them made, counted at the HTTP transport.
type callsRow struct {
	Entries      int
	Offload      int    // calls by offload's cache for one refresh
	OffloadOps   string // which operations
	PerEntry     int    // calls by one Get call per entry
	PerEntryOps  string
	SecondRounds int // calls by offload for a second refresh (should equal Offload)
}

type callsResult struct {
	Parameters []callsRow
	Secrets    []callsRow
}

func init() {
	register(measurement{Num: 2, Title: "API calls to refresh N entries",
		What:    "calls to refresh 1, 10, 25 and 100 SSM parameters and secrets, against one call per entry",
		Measure: func(o options) (section, error) { return measureCalls(o) }})
}

func (c *callsResult) write(p printer) { writeCalls(p, c) }

func measureCalls(opts options) (*callsResult, error) {
	logf(opts, "2 API calls: starting moto")
	moto, err := awstest.StartMoto()
	if err != nil {
		return nil, err
	}
	defer moto.Close()
	res := &callsResult{}
	for _, n := range opts.Counts {
		row, err := parameterCalls(moto, n)
		if err != nil {
			return nil, fmt.Errorf("%d parameters: %w", n, err)
		}
		res.Parameters = append(res.Parameters, row)
		row, err = secretCalls(moto, n)
		if err != nil {
			return nil, fmt.Errorf("%d secrets: %w", n, err)
		}
		res.Secrets = append(res.Secrets, row)
		logf(opts, "2 %d entries: parameters %d vs %d, secrets %d vs %d", n, res.Parameters[len(res.Parameters)-1].Offload, res.Parameters[len(res.Parameters)-1].PerEntry, row.Offload, row.PerEntry)
	}
	return res, nil
}

func parameterCalls(moto *awstest.Moto, n int) (callsRow, error) {
	ctx := context.Background()
	if err := moto.Reset(); err != nil {
		return callsRow{}, err
	}
	counter := awstest.NewCounter()
	api := ssm.NewFromConfig(moto.Config(counter))
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("/bench/app/p%03d", i)
		if _, err := api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(names[i]), Value: aws.String("v" + names[i]), Type: types.ParameterTypeSecureString}); err != nil {
			return callsRow{}, err
		}
	}
	params, err := ssmcache.New(ssmcache.Options{Client: api})
	if err != nil {
		return callsRow{}, err
	}
	// One decorator per value: one GetParameter each.
	return countCalls(counter, names, func(name string) cache.Spec[string] { return params.String(name) }, func(name string) (string, error) {
		out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Parameter.Value), nil
	})
}

func secretCalls(moto *awstest.Moto, n int) (callsRow, error) {
	ctx := context.Background()
	if err := moto.Reset(); err != nil {
		return callsRow{}, err
	}
	counter := awstest.NewCounter()
	api := secretsmanager.NewFromConfig(moto.Config(counter))
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("bench/s%03d", i)
		if _, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(names[i]), SecretString: aws.String("v" + names[i])}); err != nil {
			return callsRow{}, err
		}
	}
	sm, err := secretcache.New(secretcache.Options{Client: api})
	if err != nil {
		return callsRow{}, err
	}
	return countCalls(counter, names, func(name string) cache.Spec[string] { return sm.String(name) }, func(name string) (string, error) {
		out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.SecretString), nil
	})
}

// countCalls counts the calls offload's cache makes to refresh an entry per
// name (twice, to see the count holds), and the calls one read per name
// makes; every value read back must be "v" + its name.
func countCalls(counter *awstest.Counter, names []string, spec func(string) cache.Spec[string], perEntry func(string) (string, error)) (callsRow, error) {
	ctx := context.Background()
	row := callsRow{Entries: len(names)}
	c, err := cache.New(cache.Options{})
	if err != nil {
		return row, err
	}
	entries := make([]cache.Loadable, len(names))
	typed := make([]*cache.Entry[string], len(names))
	for i, name := range names {
		if typed[i], err = cache.Add(c, spec(name)); err != nil {
			return row, err
		}
		entries[i] = typed[i]
	}
	counter.Reset()
	if err := c.Refresh(ctx, entries...); err != nil {
		return row, err
	}
	row.Offload, row.OffloadOps = counter.Count(), counter.String()
	for i, e := range typed {
		if v, err := e.Get(ctx); err != nil || v != "v"+names[i] {
			return row, fmt.Errorf("%s: got %q, %v", names[i], v, err)
		}
	}
	counter.Reset()
	if err := c.Refresh(ctx, entries...); err != nil {
		return row, err
	}
	row.SecondRounds = counter.Count()

	counter.Reset()
	for _, name := range names {
		v, err := perEntry(name)
		if err != nil {
			return row, err
		}
		if v != "v"+name {
			return row, fmt.Errorf("%s: got %q", name, v)
		}
	}
	row.PerEntry, row.PerEntryOps = counter.Count(), counter.String()
	return row, nil
}
