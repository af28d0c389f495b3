package deadline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offload-dev/offload/internal/deadline"
	"github.com/offload-dev/offload/internal/fakeclock"
)

// A request that runs out its deadline holds the provider for one timeout;
// other errors, and the caller's own cancellation, do not.
func TestGuard(t *testing.T) {
	expired := func() (context.Context, context.Context) {
		ctx := context.Background()
		rctx, cancel := context.WithDeadline(ctx, time.Unix(0, 0))
		cancel()
		return ctx, rctx
	}
	tests := []struct {
		name     string
		ctx      func() (ctx, rctx context.Context)
		err      error
		wantHeld bool
	}{
		{"deadline", expired, context.DeadlineExceeded, true},
		{"another error", func() (context.Context, context.Context) {
			return context.Background(), context.Background()
		}, errors.New("connection refused"), false},
		{"the caller gave up", func() (context.Context, context.Context) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, ctx
		}, context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New()
			g := deadline.New(time.Second, clock.Now)
			ctx, rctx := tt.ctx()
			err := g.Check(ctx, rctx, tt.err)
			if got := errors.Is(err, deadline.ErrNoAnswer); got != tt.wantHeld {
				t.Fatalf("Check: got %v, want ErrNoAnswer %v", err, tt.wantHeld)
			}
			for _, step := range []struct {
				after time.Duration
				held  bool
			}{{0, tt.wantHeld}, {999 * time.Millisecond, tt.wantHeld}, {time.Millisecond, false}} {
				clock.Advance(step.after)
				if got := g.Held() != nil; got != step.held {
					t.Errorf("Held after %v more: got %v, want %v", step.after, got, step.held)
				}
				_, cancel, err := g.Start(context.Background())
				if got := err != nil; got != step.held {
					t.Errorf("Start after %v more: got %v, want held %v", step.after, err, step.held)
				}
				if cancel != nil {
					cancel()
				}
			}
		})
	}
}
