package main

import (
	"flag"
	"strings"
	"testing"
	"time"
)

// TestCallsSmoke runs measurement 2 for 1 and 12 entries, with every
// contender against moto, one round of hits.
func TestCallsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs moto and Node.js")
	}
	if err := flag.Set("test.benchtime", "1000x"); err != nil {
		t.Fatal(err)
	}
	r, err := measureCalls(options{}, callsParams{Counts: []int{1, 12}, HitRounds: 1, HitReads: 1000})
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ load, refresh string }
	tests := []struct {
		name string
		row  callsRow
		want map[string]want
	}{
		{"12 parameters", r.Parameters[1], map[string]want{
			cOffload:    {"GetParameters=2", "GetParameters=2"},
			cPowertools: {"GetParameters=2", "GetParameters=2"},
			cPerEntry:   {"GetParameter=12", "GetParameter=12"},
			cBatched:    {"GetParameters=2", "GetParameters=2"},
		}},
		{"12 secrets", r.Secrets[1], map[string]want{
			cOffload:    {"BatchGetSecretValue=1", "BatchGetSecretValue=1"},
			cPowertools: {"GetSecretValue=12", "GetSecretValue=12"},
			cAWSCache:   {"DescribeSecret=12, GetSecretValue=12", "DescribeSecret=12"},
			cPerEntry:   {"GetSecretValue=12", "GetSecretValue=12"},
			cBatched:    {"BatchGetSecretValue=1", "BatchGetSecretValue=1"},
		}},
		{"1 secret", r.Secrets[0], map[string]want{
			cOffload:  {"GetSecretValue=1", "GetSecretValue=1"},
			cAWSCache: {"DescribeSecret=1, GetSecretValue=1", "DescribeSecret=1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, w := range tt.want {
				got := tt.row.By[name]
				if got.Load.Ops != w.load || got.Refresh.Ops != w.refresh {
					t.Errorf("%s: got load %q, refresh %q; want %q, %q", name, got.Load.Ops, got.Refresh.Ops, w.load, w.refresh)
				}
			}
		})
	}
	if len(r.ParamHits) != 2 || len(r.SecretHits) != 3 {
		t.Fatalf("got %d parameter and %d secret hit rows, want 2 and 3", len(r.ParamHits), len(r.SecretHits))
	}
	for _, h := range append(r.ParamHits, r.SecretHits...) {
		if len(h.Ns) != 1 || h.Ns[0] <= 0 {
			t.Errorf("%s hit: got %v ns, want one round timed", h.Contender, h.Ns)
		}
	}

	var b strings.Builder
	if err := writeReport(&b, report{Machine: machine(), Start: time.Now(), Sections: map[int]section{2: r}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"| contender | N=1 load | refresh | N=12 load | refresh |",
		"| offload | 1 | 1 | 2 | 2 |",
		"| aws-secretsmanager-caching-go | 2 | 1 | 24 | 12 |",
		"`@aws-lambda-powertools/parameters@2.35.0`",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}
