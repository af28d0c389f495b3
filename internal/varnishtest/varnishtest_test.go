package varnishtest

import (
	"fmt"
	"net/http"
	"testing"
)

func TestStartCachesAndPurges(t *testing.T) {
	for _, o := range []Options{{}, {SoftPurge: true}} {
		t.Run(fmt.Sprintf("SoftPurge=%v", o.SoftPurge), func(t *testing.T) {
			origin := NewOrigin(t)
			v := Start(t, HostPort(origin.URL), o)
			const host = "www.example.com"
			origin.Set(host, "/a.html", "one")

			steps := []struct {
				purge      bool
				newContent string
				wantBody   string
				wantCache  string
			}{
				{wantBody: "one", wantCache: "MISS"},
				{wantBody: "one", wantCache: "HIT"},
				{purge: true, newContent: "two", wantBody: "two", wantCache: "MISS"},
				{wantBody: "two", wantCache: "HIT"},
			}
			for i, s := range steps {
				if s.newContent != "" {
					origin.Set(host, "/a.html", s.newContent)
				}
				if s.purge {
					req, _ := http.NewRequest("PURGE", v.URL+"/a.html", nil)
					req.Host = host
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("PURGE: got %s, want 200", resp.Status)
					}
				}
				body, cache, err := v.Get(host, "/a.html")
				if err != nil {
					t.Fatalf("step %d: %v\n%s", i, err, v.Log())
				}
				if body != s.wantBody || cache != s.wantCache {
					t.Errorf("step %d: got %q %s, want %q %s", i, body, cache, s.wantBody, s.wantCache)
				}
			}
			if got := origin.Hits(host, "/a.html"); got != 2 {
				t.Errorf("origin hits: got %d, want 2", got)
			}
		})
	}
}
