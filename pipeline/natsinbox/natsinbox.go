package natsinbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/retry"
)

// Options configure New. Zero fields take their defaults.
type Options struct {
	// JetStream is the connection's JetStream context; required. The
	// caller owns the connection and closes it after the Inbox.
	JetStream jetstream.JetStream

	// Stream is the inbox stream. Default "OFFLOAD".
	Stream string
	// Subject is what events are published on: by the webhook, and by
	// MinIO's NATS target (MINIO_NOTIFY_NATS_SUBJECT). Default
	// "offload.events".
	Subject string
	// Consumer is the durable pull consumer every replica shares. Default
	// "offload".
	Consumer string
	// DeadLetterStream and DeadLetterSubject keep the messages that failed
	// MaxDeliveries times. Default "OFFLOAD_DEAD" and "offload.dead".
	DeadLetterStream  string
	DeadLetterSubject string
	// MaxDeliveries is how many deliveries a message gets before a failure
	// sends it to the dead-letter stream. Default 10.
	MaxDeliveries int
	// MaxAge, if set, also sends a message that fails when it is older
	// than this (since it was stored) to the dead-letter stream. Default 0:
	// none.
	MaxAge time.Duration
	// AckWait is how long a replica may hold a message without word before
	// JetStream gives it to another (the worker says "in progress" every
	// third of it while it applies a batch, so a slow batch is not
	// redelivered; a replica that died is). Default 30s.
	AckWait time.Duration
	// MaxAckPending bounds the messages delivered and not yet acked,
	// across replicas. Default 20,000.
	MaxAckPending int
	// Replicas is how many copies of the streams a JetStream cluster
	// keeps, for streams this package creates. Default 1.
	Replicas int

	// Window and Quiet are how a worker gathers messages before it applies
	// them together (pipeline.Gather): a message that finds the consumer
	// idle at once, with whatever is there; messages that keep coming until
	// they pause for Quiet, BatchSize of them are there, or the first has
	// waited Window. Default 500ms and Window/20.
	Window time.Duration
	Quiet  time.Duration
	// BatchSize and BatchBytes bound a batch. Default 1000 and 64 MiB.
	BatchSize  int
	BatchBytes int
	// Backoff spaces the redeliveries of a failed message (NakWithDelay):
	// Backoff(deliveries so far). Default Initial 1s, Max 5m.
	Backoff retry.Policy
	// Timeout bounds one batch's apply. Default 5m.
	Timeout time.Duration
	// Logger logs batches and failures. Default slog.Default().
	Logger *slog.Logger
	// Now tells the time (the oldest entry's age). Default time.Now.
	Now func() time.Time
}

// Inbox is a pipeline.Queue on a JetStream stream, shared by every replica
// of `offload serve`. It is safe for concurrent use.
type Inbox struct {
	o  Options
	js jetstream.JetStream

	mu       sync.Mutex
	failures map[uint64]pipeline.Entry // failed here, not yet settled; bounded
	cons     jetstream.Consumer        // the shared consumer, once looked up
	last     time.Time                 // when the newest message this worker took was stored
}

// maxFailures bounds the failed messages a replica remembers for Stats.
const maxFailures = 1000

// New checks opts and returns an Inbox; Provision makes the streams and
// the consumer it needs.
func New(opts Options, optFns ...func(*Options)) (*Inbox, error) {
	for _, f := range optFns {
		f(&opts)
	}
	if opts.JetStream == nil {
		return nil, errors.New("natsinbox: Options.JetStream is required")
	}
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"MaxDeliveries", int64(opts.MaxDeliveries)}, {"AckWait", int64(opts.AckWait)}, {"MaxAckPending", int64(opts.MaxAckPending)},
		{"Replicas", int64(opts.Replicas)}, {"Window", int64(opts.Window)}, {"Quiet", int64(opts.Quiet)},
		{"BatchSize", int64(opts.BatchSize)}, {"BatchBytes", int64(opts.BatchBytes)}, {"MaxAge", int64(opts.MaxAge)}, {"Timeout", int64(opts.Timeout)},
	} {
		if c.v < 0 {
			return nil, fmt.Errorf("natsinbox: Options.%s is negative; want 0 (its default) or more", c.name)
		}
	}
	o := &opts
	o.Stream = cmpOr(o.Stream, "OFFLOAD")
	o.Subject = cmpOr(o.Subject, "offload.events")
	o.Consumer = cmpOr(o.Consumer, "offload")
	o.DeadLetterStream = cmpOr(o.DeadLetterStream, "OFFLOAD_DEAD")
	o.DeadLetterSubject = cmpOr(o.DeadLetterSubject, "offload.dead")
	if o.Stream == o.DeadLetterStream {
		return nil, fmt.Errorf("natsinbox: Options.Stream and Options.DeadLetterStream are both %q; want two streams", o.Stream)
	}
	if subjectsOverlap(o.Subject, o.DeadLetterSubject) {
		return nil, fmt.Errorf("natsinbox: Options.Subject %q and Options.DeadLetterSubject %q overlap; want subjects apart", o.Subject, o.DeadLetterSubject)
	}
	defaults := []struct {
		p *int
		v int
	}{{&o.MaxDeliveries, 10}, {&o.MaxAckPending, 20000}, {&o.Replicas, 1}, {&o.BatchSize, 1000}, {&o.BatchBytes, 64 << 20}}
	for _, d := range defaults {
		if *d.p == 0 {
			*d.p = d.v
		}
	}
	if o.AckWait == 0 {
		o.AckWait = 30 * time.Second
	}
	if o.Window == 0 {
		o.Window = 500 * time.Millisecond
	}
	if o.Quiet == 0 {
		o.Quiet = o.Window / 20
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Backoff.Initial <= 0 {
		o.Backoff.Initial = time.Second
	}
	if o.Backoff.Max <= 0 {
		o.Backoff.Max = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Inbox{o: opts, js: opts.JetStream, failures: map[uint64]pipeline.Entry{}}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Options returns the options in force, defaults filled in.
func (in *Inbox) Options() Options { return in.o }

// StreamConfig is the inbox stream Provision creates when there is none:
// work-queue retention (a message is removed once acked), file storage,
// and a two-minute window in which a repeated message id is dropped.
func (in *Inbox) StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        in.o.Stream,
		Description: "offload inbox: S3 change events waiting to be applied",
		Subjects:    []string{in.o.Subject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    in.o.Replicas,
		Duplicates:  2 * time.Minute,
	}
}

// DeadLetterStreamConfig is the dead-letter stream Provision creates when
// there is none: kept until replayed or discarded.
func (in *Inbox) DeadLetterStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        in.o.DeadLetterStream,
		Description: "offload dead letters: events that failed too often; replay or discard them",
		Subjects:    []string{in.o.DeadLetterSubject},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    in.o.Replicas,
		Duplicates:  2 * time.Minute,
	}
}

// ConsumerConfig is the durable pull consumer Provision creates or
// updates. MaxDeliver is unlimited: the worker moves a message to the
// dead-letter stream itself after MaxDeliveries, with the reason, so that
// JetStream never holds a message it will not deliver again.
func (in *Inbox) ConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       in.o.Consumer,
		Description:   "offload serve replicas",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       in.o.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: in.o.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// Provision makes the inbox stream, the dead-letter stream and the shared
// consumer, or checks the streams that are there: an existing stream is
// used as it is, if it takes the subject. Every replica calls it at start;
// they may race.
func (in *Inbox) Provision(ctx context.Context) error {
	for _, cfg := range []jetstream.StreamConfig{in.StreamConfig(), in.DeadLetterStreamConfig()} {
		if err := in.stream(ctx, cfg); err != nil {
			return err
		}
	}
	if _, err := in.js.CreateOrUpdateConsumer(ctx, in.o.Stream, in.ConsumerConfig()); err != nil {
		return fmt.Errorf("natsinbox: consumer %s on stream %s: %w", in.o.Consumer, in.o.Stream, err)
	}
	return nil
}

func (in *Inbox) stream(ctx context.Context, cfg jetstream.StreamConfig) error {
	s, err := in.js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = in.js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = in.js.Stream(ctx, cfg.Name) // another replica made it first
		}
	}
	if err != nil {
		return fmt.Errorf("natsinbox: stream %s: %w", cfg.Name, err)
	}
	have := s.CachedInfo().Config.Subjects
	if !slices.ContainsFunc(have, func(s string) bool { return subjectMatches(s, cfg.Subjects[0]) }) {
		return fmt.Errorf("natsinbox: stream %s does not take subject %s (its subjects: %v): add it, or set the subject to one of them", cfg.Name, cfg.Subjects[0], have)
	}
	return nil
}

// Add publishes body to the inbox subject and returns its stream sequence
// once JetStream has stored it. The message id is the body's SHA-256, so a
// sender's retry of the same notification within the stream's duplicate
// window is stored once (and answered with the first one's sequence).
func (in *Inbox) Add(ctx context.Context, body []byte) (uint64, error) {
	sum := sha256.Sum256(body)
	ack, err := in.js.Publish(ctx, in.o.Subject, body, jetstream.WithMsgID(hex.EncodeToString(sum[:16])), jetstream.WithExpectStream(in.o.Stream))
	if err != nil {
		return 0, fmt.Errorf("natsinbox: publish to %s: %w", in.o.Subject, err)
	}
	return ack.Sequence, nil
}

// Stats reads the streams and the consumer. Depth is the messages in the
// inbox stream (not yet acked), Pending the consumer's undelivered ones
// (its lag), InFlight the delivered and unacked, Redelivered those
// delivered more than once and unacked (Failing too), DeadLettered the
// dead-letter stream's messages. Failures lists the messages this replica
// saw fail that are still in the stream.
func (in *Inbox) Stats(ctx context.Context, maxFailures int) (pipeline.InboxStats, error) {
	st := pipeline.InboxStats{Driver: "nats", Failures: []pipeline.Entry{}}
	s, err := in.js.Stream(ctx, in.o.Stream)
	if err != nil {
		return st, fmt.Errorf("natsinbox: stream %s: %w", in.o.Stream, err)
	}
	si := s.CachedInfo()
	st.Depth = int(si.State.Msgs)
	if st.Depth > 0 && !si.State.FirstTime.IsZero() {
		st.Oldest = si.State.FirstTime
		st.OldestAge = max(0, in.o.Now().Sub(st.Oldest).Seconds())
	}
	c, err := s.Consumer(ctx, in.o.Consumer)
	if err != nil {
		return st, fmt.Errorf("natsinbox: consumer %s: %w", in.o.Consumer, err)
	}
	ci := c.CachedInfo()
	st.Pending, st.InFlight, st.Redelivered = int(ci.NumPending), ci.NumAckPending, ci.NumRedelivered
	st.Failing = ci.NumRedelivered
	d, err := in.js.Stream(ctx, in.o.DeadLetterStream)
	if err != nil {
		return st, fmt.Errorf("natsinbox: stream %s: %w", in.o.DeadLetterStream, err)
	}
	st.DeadLettered = int(d.CachedInfo().State.Msgs)

	in.mu.Lock()
	ids := make([]uint64, 0, len(in.failures))
	for id := range in.failures {
		ids = append(ids, id)
	}
	in.mu.Unlock()
	slices.Sort(ids)
	for _, id := range ids {
		if len(st.Failures) >= maxFailures {
			break
		}
		if _, err := s.GetMsg(ctx, id); errors.Is(err, jetstream.ErrMsgNotFound) {
			in.forget(id) // settled by another replica
			continue
		}
		in.mu.Lock()
		e, ok := in.failures[id]
		in.mu.Unlock()
		if ok {
			st.Failures = append(st.Failures, e)
		}
	}
	return st, nil
}

// Delete removes message id from the inbox stream, wherever it is.
func (in *Inbox) Delete(ctx context.Context, id uint64) error {
	if err := in.deleteMsg(ctx, in.o.Stream, id); err != nil {
		return fmt.Errorf("natsinbox: delete %d: %w", id, err)
	}
	in.forget(id)
	return nil
}

func (in *Inbox) deleteMsg(ctx context.Context, stream string, id uint64) error {
	s, err := in.js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	err = s.DeleteMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
		// The client keeps the server's reason only as text: ask whether
		// the message is there.
		if _, gerr := s.GetMsg(ctx, id); errors.Is(gerr, jetstream.ErrMsgNotFound) {
			err = jetstream.ErrMsgNotFound
		}
	}
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%s message %d: %w", stream, id, pipeline.ErrNotFound)
	}
	return err
}

func (in *Inbox) forget(id uint64) {
	in.mu.Lock()
	delete(in.failures, id)
	in.mu.Unlock()
}

func (in *Inbox) remember(e pipeline.Entry) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.failures[e.ID]; !ok && len(in.failures) >= maxFailures {
		return
	}
	e.Body = nil
	in.failures[e.ID] = e
}

// Headers a dead letter carries besides the event.
const (
	HeaderSeq        = "Offload-Inbox-Seq"  // its sequence in the inbox stream
	HeaderReceived   = "Offload-Received"   // when the inbox stored it (RFC 3339)
	HeaderDeliveries = "Offload-Deliveries" // how many times it was delivered
	HeaderError      = "Offload-Last-Error" // why the last attempt failed
	HeaderReplayOf   = "Offload-Replay-Of"  // on a replayed message: the dead letter's sequence
	maxErrorHeader   = 1024                 // bytes of the error kept
)

// DeadLetters returns up to limit dead letters, oldest first. An entry's
// ID is its sequence in the dead-letter stream.
func (in *Inbox) DeadLetters(ctx context.Context, limit int) ([]pipeline.Entry, error) {
	out := []pipeline.Entry{}
	s, err := in.js.Stream(ctx, in.o.DeadLetterStream)
	if err != nil {
		return nil, fmt.Errorf("natsinbox: stream %s: %w", in.o.DeadLetterStream, err)
	}
	state := s.CachedInfo().State
	for seq := state.FirstSeq; len(out) < limit && state.Msgs > 0 && seq <= state.LastSeq; {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(in.o.DeadLetterSubject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("natsinbox: read dead letter %d: %w", seq, err)
		}
		out = append(out, deadEntry(m))
		seq = m.Sequence + 1
	}
	return out, nil
}

func deadEntry(m *jetstream.RawStreamMsg) pipeline.Entry {
	e := pipeline.Entry{ID: m.Sequence, Received: m.Time, Size: len(m.Data), LastErr: m.Header.Get(HeaderError)}
	if t, err := time.Parse(time.RFC3339Nano, m.Header.Get(HeaderReceived)); err == nil {
		e.Received = t
	}
	e.Attempts, _ = strconv.Atoi(m.Header.Get(HeaderDeliveries))
	return e
}

// Replay publishes dead letter id to the inbox subject again and then
// removes it from the dead-letter stream. Its message id is derived from
// the dead letter, so replaying twice within the duplicate window stores
// it once.
func (in *Inbox) Replay(ctx context.Context, id uint64) (uint64, error) {
	s, err := in.js.Stream(ctx, in.o.DeadLetterStream)
	if err != nil {
		return 0, fmt.Errorf("natsinbox: replay %d: stream %s: %w", id, in.o.DeadLetterStream, err)
	}
	m, err := s.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, fmt.Errorf("natsinbox: replay dead letter %d: %w", id, pipeline.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("natsinbox: replay dead letter %d: %w", id, err)
	}
	msg := &nats.Msg{Subject: in.o.Subject, Data: m.Data, Header: nats.Header{}}
	msg.Header.Set(HeaderReplayOf, strconv.FormatUint(id, 10))
	ack, err := in.js.PublishMsg(ctx, msg, jetstream.WithMsgID(fmt.Sprintf("replay-%s-%d", in.o.DeadLetterStream, id)), jetstream.WithExpectStream(in.o.Stream))
	if err != nil {
		return 0, fmt.Errorf("natsinbox: replay dead letter %d: publish to %s: %w", id, in.o.Subject, err)
	}
	if err := in.deleteMsg(ctx, in.o.DeadLetterStream, id); err != nil && !errors.Is(err, pipeline.ErrNotFound) {
		return ack.Sequence, fmt.Errorf("natsinbox: replayed dead letter %d as %d, but it stays in %s: %w", id, ack.Sequence, in.o.DeadLetterStream, err)
	}
	return ack.Sequence, nil
}

// Discard removes dead letter id for good.
func (in *Inbox) Discard(ctx context.Context, id uint64) error {
	if err := in.deleteMsg(ctx, in.o.DeadLetterStream, id); err != nil {
		return fmt.Errorf("natsinbox: discard dead letter %d: %w", id, err)
	}
	return nil
}

// subjectMatches reports whether subject pattern p takes subject s.
func subjectMatches(p, s string) bool {
	pt, st := strings.Split(p, "."), strings.Split(s, ".")
	for i, t := range pt {
		if t == ">" {
			return len(st) > i
		}
		if i >= len(st) || (t != "*" && t != st[i]) {
			return false
		}
	}
	return len(pt) == len(st)
}

// subjectsOverlap reports whether some subject matches both patterns.
func subjectsOverlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		aEnd, bEnd := i == len(at), i == len(bt)
		switch {
		case aEnd || bEnd:
			return aEnd && bEnd
		case at[i] == ">" || bt[i] == ">":
			return true
		case at[i] != "*" && bt[i] != "*" && at[i] != bt[i]:
			return false
		}
	}
}

var _ pipeline.Queue = (*Inbox)(nil)
