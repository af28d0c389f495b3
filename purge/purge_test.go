package purge_test

import (
	"errors"
	"testing"

	"github.com/offload-dev/offload/purge"
)

// JoinURL drops the base's trailing slashes and keeps the path as it is,
// double slashes included, so a key's "//" survives.
func TestJoinURL(t *testing.T) {
	tests := []struct{ name, base, path, want string }{
		{"plain", "https://www.example.com", "/a.html", "https://www.example.com/a.html"},
		{"trailing slash on base", "https://www.example.com/", "/a.html", "https://www.example.com/a.html"},
		{"trailing slashes on base", "https://www.example.com//", "/a.html", "https://www.example.com/a.html"},
		{"base with a path", "https://www.example.com/site", "/a.html", "https://www.example.com/site/a.html"},
		{"base with a path and a slash", "https://www.example.com/site/", "/a.html", "https://www.example.com/site/a.html"},
		{"path without leading slash", "https://www.example.com", "a.html", "https://www.example.com/a.html"},
		{"double slashes in path kept", "https://www.example.com", "/a//b.html", "https://www.example.com/a//b.html"},
		{"leading double slash kept", "https://www.example.com/", "//a.html", "https://www.example.com//a.html"},
		{"root", "https://www.example.com", "/", "https://www.example.com/"},
		{"empty path", "https://www.example.com/", "", "https://www.example.com/"},
		{"encoded path not touched", "https://www.example.com", "/a%20b%2541.html", "https://www.example.com/a%20b%2541.html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := purge.JoinURL(tt.base, tt.path); got != tt.want {
				t.Errorf("JoinURL(%q, %q): got %q, want %q", tt.base, tt.path, got, tt.want)
			}
		})
	}
}

func TestResultErr(t *testing.T) {
	ok := purge.Outcome{Item: purge.Paths("/a")[0], OK: true}
	bad := purge.Outcome{Item: purge.Paths("/b")[0], Err: "HTTP 400"}
	tests := []struct {
		name     string
		outcomes []purge.Outcome
		want     string // "" for nil
	}{
		{"all ok", []purge.Outcome{ok, ok}, ""},
		{"none", nil, ""},
		{"one failed", []purge.Outcome{ok, bad, bad}, "fake: 2 of 3 items not purged: path:/b: HTTP 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &purge.Result{Provider: "fake", Outcomes: tt.outcomes}
			err := r.Err()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tt.want != "":
				var pe *purge.PartialError
				if !errors.As(err, &pe) || err.Error() != tt.want {
					t.Errorf("got %v, want a *PartialError %q", err, tt.want)
				}
			}
		})
	}
}
