package natsinbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/pipeline"
)

// idleWait is how long one pull waits for a first message; an idle worker
// asks again after it.
const idleWait = 10 * time.Second

// Run drains the shared consumer until ctx ends: it waits for a message,
// gathers more as Options.Window, Quiet and BatchSize say (up to BatchBytes),
// applies them as one batch through a, and settles each message: an ack when all
// its changes succeeded (the ledger commit included), a nak with backoff
// when one failed, and after MaxDeliveries a move to the dead-letter
// stream. Every replica runs one; JetStream shares the messages out. When
// ctx ends Run finishes the batch in hand and returns ctx's error. A lost
// connection is waited out: the client reconnects by itself.
func (in *Inbox) Run(ctx context.Context, a pipeline.Applier) error {
	if a == nil {
		return errors.New("natsinbox: Run needs an Applier")
	}
	failures := 0
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_, err := in.RunOnce(ctx, a)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failures++
			wait := in.o.Backoff.Backoff(failures)
			if failures == 1 || failures%10 == 0 {
				in.o.Logger.Warn("inbox: cannot pull from JetStream; trying again", "stream", in.o.Stream,
					"consumer", in.o.Consumer, "attempt", failures, "retry_in", wait.Round(time.Millisecond), "err", err)
			}
			if !sleep(ctx, wait) {
				return ctx.Err()
			}
			continue
		}
		if failures > 0 {
			in.o.Logger.Info("inbox: pulling from JetStream again", "stream", in.o.Stream, "after_failures", failures)
			failures = 0
		}
	}
}

// RunOnce pulls one batch (waiting up to idleWait for its first message),
// applies and settles it, and returns how many messages it took.
func (in *Inbox) RunOnce(ctx context.Context, a pipeline.Applier) (int, error) {
	msgs, err := in.pull(ctx)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	return len(msgs), in.apply(ctx, a, msgs)
}

func (in *Inbox) pull(ctx context.Context) ([]jetstream.Msg, error) {
	c, err := in.consumer(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, idleWait)
	first, err := c.Next(jetstream.FetchContext(wctx))
	cancel()
	switch {
	case err == nil:
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return nil, nil // idle
	default:
		return nil, err
	}
	msgs := []jetstream.Msg{first}
	size := len(first.Data())
	firstAt := in.stored(first)
	lastAt := firstAt
	in.mu.Lock()
	prev := in.last
	in.mu.Unlock()
	g := pipeline.Gather{Window: in.o.Window, Quiet: in.o.Quiet, Fill: in.o.BatchSize}
	// What is there already comes at once: the messages the stream held
	// behind the first when it was delivered (its NumPending), waited for
	// up to the window, not guessed at within a millisecond, which a
	// loaded machine may not deliver in (another replica may take some
	// meanwhile: then the window bounds the wait). Then, unless the
	// consumer was idle, more for as long as Gather says.
	want, wait := in.o.BatchSize-len(msgs), time.Millisecond
	if md, err := first.Metadata(); err == nil && md.NumPending > 0 {
		want, wait = int(min(md.NumPending, uint64(want))), in.o.Window
	}
	for len(msgs) < in.o.BatchSize && size < in.o.BatchBytes && wait > 0 {
		b, err := c.Fetch(want, jetstream.FetchMaxWait(wait), jetstream.FetchMaxBytes(in.o.BatchBytes-size))
		if err != nil {
			in.o.Logger.Warn("inbox: gather a batch", "err", err) // apply what is in hand
			break
		}
		for m := range b.Messages() {
			msgs = append(msgs, m)
			size += len(m.Data())
			if t := in.stored(m); t.After(lastAt) {
				lastAt = t
			}
		}
		want, wait = in.o.BatchSize-len(msgs), g.Due(len(msgs), prev, firstAt, lastAt).Sub(in.o.Now())
	}
	in.mu.Lock()
	in.last = lastAt
	in.mu.Unlock()
	return msgs, nil
}

// stored is when JetStream stored m, as this process's clock reads it: a
// server clock ahead of it reads as now.
func (in *Inbox) stored(m jetstream.Msg) time.Time {
	now := in.o.Now()
	md, err := m.Metadata()
	if err != nil || md.Timestamp.After(now) {
		return now
	}
	return md.Timestamp
}

// consumer returns the shared consumer's handle, looked up once.
func (in *Inbox) consumer(ctx context.Context) (jetstream.Consumer, error) {
	in.mu.Lock()
	c := in.cons
	in.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := in.js.Consumer(ctx, in.o.Stream, in.o.Consumer)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", in.o.Consumer, in.o.Stream, err)
	}
	in.mu.Lock()
	in.cons = c
	in.mu.Unlock()
	return c, nil
}

// apply applies msgs as one batch and settles each.
func (in *Inbox) apply(ctx context.Context, a pipeline.Applier, msgs []jetstream.Msg) error {
	start := time.Now()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.o.Timeout)
	defer cancel()

	entries := make([]pipeline.Entry, 0, len(msgs))
	deliveries := map[uint64]int{}
	var apply []jetstream.Msg
	var settle []func() error
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil { // not a JetStream message: cannot be acked either
			in.o.Logger.Error("inbox: a message without JetStream metadata", "subject", m.Subject(), "err", err)
			continue
		}
		e := pipeline.Entry{ID: md.Sequence.Stream, Received: md.Timestamp, Attempts: int(md.NumDelivered) - 1,
			Body: m.Data(), Size: len(m.Data())}
		if int(md.NumDelivered) > in.o.MaxDeliveries {
			// Delivered past the bound without being settled: a replica
			// stopped (or was killed) while applying it, each time. It
			// goes aside rather than take down the next replica.
			reason := fmt.Sprintf("delivered %d times without being settled: a replica stopped while applying it", md.NumDelivered)
			settle = append(settle, func() error { return in.deadLetter(actx, m, e, reason) })
			continue
		}
		entries = append(entries, e)
		deliveries[e.ID] = int(md.NumDelivered)
		apply = append(apply, m)
	}

	// Tell JetStream the batch is in progress until it is settled, so a
	// slow batch is not given to another replica meanwhile.
	stop := make(chan struct{})
	var beat sync.WaitGroup
	beat.Go(func() {
		t := time.NewTicker(max(in.o.AckWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				for _, m := range apply {
					_ = m.InProgress()
				}
			}
		}
	})
	b := pipeline.ApplyBatch(actx, a, entries)
	close(stop)
	beat.Wait()

	done, failed, dead, again := 0, 0, 0, 0
	for _, e := range entries {
		if e.Attempts > 0 {
			again++
		}
	}
	var firstErr string
	for i, m := range apply {
		e := entries[i]
		msg, bad := b.Failed[e.ID]
		switch {
		case !bad:
			done++
			settle = append(settle, func() error { in.forget(e.ID); return m.Ack() })
		case deliveries[e.ID] >= in.o.MaxDeliveries || (in.o.MaxAge > 0 && in.o.Now().Sub(e.Received) >= in.o.MaxAge):
			dead++
			settle = append(settle, func() error { return in.deadLetter(actx, m, e, msg) })
		default:
			failed++
			if firstErr == "" {
				firstErr = msg
			}
			e.Attempts, e.LastErr = deliveries[e.ID], msg
			wait := in.o.Backoff.Backoff(deliveries[e.ID])
			e.Next = in.o.Now().Add(wait)
			in.remember(e)
			settle = append(settle, func() error { return m.NakWithDelay(wait) })
		}
	}
	var errs []error
	for _, f := range settle {
		if err := f(); err != nil {
			errs = append(errs, err)
		}
	}
	// The acks are published without waiting for replies; a flush makes
	// sure the server has them before the batch counts as settled.
	if err := in.js.Conn().FlushWithContext(actx); err != nil {
		errs = append(errs, fmt.Errorf("flush acks: %w", err))
	}
	if failed > 0 {
		in.o.Logger.Warn("inbox entries failed; JetStream will deliver them again", "failed", failed, "of", len(apply), "first_error", firstErr)
	}
	attrs := []any{"entries", len(msgs), "redelivered", again, "changes", b.Changes, "done", done, "failed", failed, "dead_lettered", dead,
		"took", time.Since(start).Round(time.Millisecond)}
	if b.Result != nil {
		attrs = append(attrs, "purge", b.Result.Stats.Purge, "skip", b.Result.Stats.Skip)
	}
	if b.Err != nil {
		attrs = append(attrs, "err", b.Err)
	}
	in.o.Logger.Info("inbox batch applied", attrs...)
	if len(errs) > 0 {
		// Unsettled messages come back after AckWait: a purge may repeat,
		// no event is lost.
		return fmt.Errorf("settle %d messages: %w", len(errs), errors.Join(errs...))
	}
	return nil
}

// deadLetter copies m to the dead-letter stream with why it failed, then
// acks it. If the copy fails, m is nak'd and comes back.
func (in *Inbox) deadLetter(ctx context.Context, m jetstream.Msg, e pipeline.Entry, reason string) error {
	dl := &nats.Msg{Subject: in.o.DeadLetterSubject, Data: m.Data(), Header: nats.Header{}}
	if len(reason) > maxErrorHeader {
		reason = reason[:maxErrorHeader]
	}
	dl.Header.Set(HeaderSeq, strconv.FormatUint(e.ID, 10))
	dl.Header.Set(HeaderReceived, e.Received.UTC().Format(time.RFC3339Nano))
	dl.Header.Set(HeaderDeliveries, strconv.Itoa(e.Attempts+1))
	dl.Header.Set(HeaderError, reason)
	// One dead letter per inbox message, should two replicas get here.
	ack, err := in.js.PublishMsg(ctx, dl, jetstream.WithMsgID(fmt.Sprintf("dead-%s-%d", in.o.Stream, e.ID)), jetstream.WithExpectStream(in.o.DeadLetterStream))
	if err != nil {
		_ = m.NakWithDelay(in.o.Backoff.Backoff(e.Attempts + 1))
		return fmt.Errorf("dead-letter %d: %w", e.ID, err)
	}
	in.o.Logger.Error("inbox entry failed too often: moved to the dead-letter stream; replay it with POST /v1/inbox/dead/{id}/replay once fixed",
		"entry", e.ID, "dead_letter", ack.Sequence, "deliveries", e.Attempts+1, "received", e.Received, "err", reason)
	in.forget(e.ID)
	return m.Ack()
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
