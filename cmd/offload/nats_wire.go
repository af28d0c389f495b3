//go:build !offload_lambda

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offload-dev/offload/ledger"
	"github.com/offload-dev/offload/ledger/natskv"
	"github.com/offload-dev/offload/pipeline/natsinbox"
)

// natsState is the inbox's NATS connection, made once.
type natsState struct {
	natsOnce sync.Once
	nc       *nats.Conn
	js       jetstream.JetStream
	natsErr  error
}

// natsConn connects to the inbox's NATS servers once, on first use. The
// client reconnects by itself for as long as the process runs: an outage
// of NATS holds the work, it does not end the server.
func (d *deps) natsConn(ctx context.Context) (jetstream.JetStream, error) {
	d.natsOnce.Do(func() {
		in := d.cfg.Inbox
		host, _ := os.Hostname()
		opts := []nats.Option{
			nats.Name("offload serve " + host),
			nats.MaxReconnects(-1),
			nats.ReconnectWait(250 * time.Millisecond),
			nats.RetryOnFailedConnect(false),
			nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
				d.logger.Warn("nats: disconnected; reconnecting", "err", err)
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) {
				d.logger.Info("nats: reconnected", "server", nc.ConnectedUrlRedacted())
			}),
		}
		switch {
		case in.Credentials != "":
			opts = append(opts, nats.UserCredentials(in.Credentials))
		case in.User != "":
			pw, err := d.secrets.Resolve(ctx, in.Password)
			if err != nil {
				d.natsErr = fmt.Errorf("inbox.password: %w", err)
				return
			}
			opts = append(opts, nats.UserInfo(in.User, pw))
		case in.Token != "":
			tok, err := d.secrets.Resolve(ctx, in.Token)
			if err != nil {
				d.natsErr = fmt.Errorf("inbox.token: %w", err)
				return
			}
			opts = append(opts, nats.Token(tok))
		}
		if in.TLSCA != "" {
			opts = append(opts, nats.RootCAs(in.TLSCA))
		}
		if in.TLSCert != "" {
			opts = append(opts, nats.ClientCert(in.TLSCert, in.TLSKey))
		}
		nc, err := nats.Connect(in.URL, opts...)
		if err != nil {
			// The URL may not say much, but it holds no secret: config
			// refuses one with a user or password in it.
			d.natsErr = fmt.Errorf("inbox: connect to %s: %w", in.URL, err)
			return
		}
		d.nc = nc
		d.js, d.natsErr = jetstream.New(nc)
	})
	return d.js, d.natsErr
}

// natsLedger opens the key-value ledger on the inbox's connection.
func (d *deps) natsLedger(ctx context.Context) (ledger.Ledger, error) {
	js, err := d.natsConn(ctx)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	kv, err := natskv.CreateBucket(ctx, js, d.cfg.State.Bucket, d.cfg.Inbox.Replicas)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return natskv.New(natskv.Options{KV: kv})
}

// natsInbox opens the JetStream inbox, making its streams and consumer if
// they are missing.
func (d *deps) natsInbox(ctx context.Context, logger *slog.Logger, batch int) (*natsinbox.Inbox, error) {
	js, err := d.natsConn(ctx)
	if err != nil {
		return nil, err
	}
	in := d.cfg.Inbox
	q, err := natsinbox.New(natsinbox.Options{
		JetStream: js, Stream: in.Stream, Subject: in.Subject, Consumer: in.Consumer,
		DeadLetterStream: in.DeadLetterStream, DeadLetterSubject: in.DeadLetterSubject,
		MaxDeliveries: in.MaxDeliveries, MaxAge: in.MaxAge.Duration, AckWait: in.AckWait.Duration, Replicas: in.Replicas,
		Window: d.cfg.Batch.Window.Duration, BatchSize: batch, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := q.Provision(pctx); err != nil {
		return nil, fmt.Errorf("inbox: %w (is JetStream enabled on %s?)", err, strings.TrimSpace(in.URL))
	}
	return q, nil
}

func (d *deps) closeNATS() {
	if d.nc != nil {
		_ = d.nc.FlushTimeout(2 * time.Second) // the last acks
		d.nc.Close()
	}
}
