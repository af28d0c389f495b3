package retry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/offload-dev/offload/retry"
)

type fakeTime struct {
	now   time.Time
	waits []time.Duration
}

func (f *fakeTime) policy(p retry.Policy) retry.Policy {
	p.Now = func() time.Time { return f.now }
	p.Sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.waits = append(f.waits, d)
		f.now = f.now.Add(d)
		return nil
	}
	return p
}

func TestDoRetriesOnlyWhatIsMarked(t *testing.T) {
	ft := &fakeTime{now: time.Unix(0, 0)}
	p := ft.policy(retry.Policy{Initial: time.Second, Max: 8 * time.Second})
	calls := 0
	res, err := p.Do(context.Background(), func(ctx context.Context, attempt int) error {
		calls++
		if attempt < 4 {
			return retry.Retryable(errors.New("503"))
		}
		return nil
	})
	if err != nil || calls != 4 || res.Attempts != 4 {
		t.Fatalf("got err %v, %d calls, res %+v; want success on the 4th", err, calls, res)
	}
	for i, w := range ft.waits {
		ceiling := time.Second << i
		if w < 500*time.Millisecond || w > ceiling {
			t.Fatalf("wait %d: got %s, want within [500ms, %s]", i, w, ceiling)
		}
	}

	calls = 0
	_, err = p.Do(context.Background(), func(context.Context, int) error {
		calls++
		return errors.New("400 bad request")
	})
	if err == nil || calls != 1 {
		t.Fatalf("an unmarked error: got %v after %d calls, want it at once", err, calls)
	}
}

func TestDoHonoursRetryAfterAndBudget(t *testing.T) {
	ft := &fakeTime{now: time.Unix(0, 0)}
	p := ft.policy(retry.Policy{Initial: 100 * time.Millisecond, Budget: 10 * time.Second, MaxAttempts: 100})
	_, err := p.Do(context.Background(), func(context.Context, int) error {
		return retry.After(errors.New("429"), 3*time.Second)
	})
	if !errors.Is(err, retry.ErrBudget) {
		t.Fatalf("got %v, want ErrBudget", err)
	}
	if len(ft.waits) != 3 {
		t.Fatalf("waits: got %v, want three of 3s inside a 10s budget", ft.waits)
	}
	for _, w := range ft.waits {
		if w != 3*time.Second {
			t.Fatalf("wait %s, want the 3s the server asked for", w)
		}
	}
}

func TestDoStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ft := &fakeTime{now: time.Unix(0, 0)}
	p := ft.policy(retry.Policy{})
	calls := 0
	_, err := p.Do(ctx, func(context.Context, int) error {
		calls++
		cancel()
		return retry.Retryable(errors.New("503"))
	})
	if err == nil || calls != 1 {
		t.Fatalf("got %v after %d calls, want a stop after 1", err, calls)
	}
}

func TestHTTPStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		status     int
		header     string
		retryable  bool
		wantAfter  time.Duration
		errorAtAll bool
	}{
		{200, "", false, 0, false},
		{304, "", false, 0, false},
		{400, "", false, 0, true},
		{403, "", false, 0, true},
		{408, "", true, 0, true},
		{429, "7", true, 7 * time.Second, true},
		{500, "", true, 0, true},
		{501, "", false, 0, true},
		{503, "1.5", true, 1500 * time.Millisecond, true},
	} {
		resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
		if tt.header != "" {
			resp.Header.Set("Retry-After", tt.header)
		}
		err := retry.HTTPStatus(resp, nil)
		if (err != nil) != tt.errorAtAll || retry.IsRetryable(err) != tt.retryable {
			t.Errorf("%d: got %v (retryable %v), want error %v retryable %v", tt.status, err, retry.IsRetryable(err), tt.errorAtAll, tt.retryable)
		}
		var re *retry.Error
		if errors.As(err, &re) && re.After != tt.wantAfter {
			t.Errorf("%d: after %s, want %s", tt.status, re.After, tt.wantAfter)
		}
	}
	h := http.Header{"Retry-After": []string{now.Add(90 * time.Second).Format(http.TimeFormat)}}
	if got := retry.RetryAfter(h, now); got != 90*time.Second {
		t.Fatalf("HTTP-date Retry-After: got %s, want 1m30s", got)
	}
}

// Network retries what a later attempt may not meet again, and not a
// certificate no attempt will trust: real TLS handshakes with a test
// server.
func TestNetwork(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	closed := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	closedURL := closed.URL
	closed.Close()

	trusting := srv.Client()
	otherName := srv.Client()
	otherName.Transport.(*http.Transport).TLSClientConfig.ServerName = "other.test"
	for _, c := range []struct {
		name      string
		client    *http.Client
		url       string
		retryable bool
	}{
		{"an unknown authority", &http.Client{}, srv.URL, false},
		{"another host's certificate", otherName, srv.URL, false},
		{"connection refused", trusting, closedURL, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := c.client.Get(c.url)
			if err == nil {
				resp.Body.Close()
				t.Fatal("got an answer, want an error")
			}
			got := retry.Network(err)
			if retry.IsRetryable(got) != c.retryable || !errors.Is(got, err) {
				t.Errorf("Network(%v): got retryable %v, want %v (and the error itself)", err, retry.IsRetryable(got), c.retryable)
			}
		})
	}
	if retry.Network(nil) != nil {
		t.Error("Network(nil): got an error, want nil")
	}
}
