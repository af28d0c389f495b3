//go:build !offload_lambda

package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/pipeline"
	"github.com/offload-dev/offload/plan"
)

// serveInbox opens the inbox the configuration names, and returns it, the
// worker that drains it through a, and what closes it.
func (d *deps) serveInbox(ctx context.Context, logger *slog.Logger, a pipeline.Applier, batch int) (pipeline.Queue, func(context.Context) error, func(), error) {
	if d.cfg.Inbox.Driver == "nats" {
		if d.cfg.State.Driver == "bolt" {
			logger.Warn("inbox.driver is nats but state.driver is bolt: each replica keeps a ledger of its own, so a redelivered event may purge again; use state.driver: nats for several replicas")
		}
		q, err := d.natsInbox(ctx, logger, batch)
		if err != nil {
			return nil, nil, nil, err
		}
		return q, func(ctx context.Context) error { return q.Run(ctx, a) }, func() {}, nil
	}

	// The bolt inbox lives in the state's file, beside the ledger when the
	// ledger is there too.
	var db *bbolt.DB
	closeDB := func() {}
	if d.boltDB != nil {
		db = d.boltDB.DB()
	} else {
		var err error
		db, err = bbolt.Open(d.cfg.State.Path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			return nil, nil, nil, badInput(fmt.Errorf("state: inbox: open %s: %w", d.cfg.State.Path, err))
		}
		closeDB = func() { db.Close() }
	}
	inbox, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		closeDB()
		return nil, nil, nil, err
	}
	closeAll := func() {
		if err := inbox.Close(); err != nil {
			logger.Error("inbox: close", "err", err)
		}
		closeDB()
	}
	w, err := pipeline.NewWorker(pipeline.WorkerOptions{Inbox: inbox, Applier: a, Logger: logger, Window: d.cfg.Batch.Window.Duration,
		BatchSize: batch, MaxAttempts: d.cfg.Inbox.MaxDeliveries, MaxAge: d.cfg.Inbox.MaxAge.Duration, Grace: shutdownGrace})
	if err != nil {
		closeAll()
		return nil, nil, nil, badInput(err)
	}
	return inbox, w.Run, closeAll, nil
}

// batchSize is how many entries serve applies together, either inbox:
// 1,000, or, within 3,000, the least multiple of the targets' items per
// request at or above that, so that a burst fills every request
// (plan.Config.FillingBatch): 1,020 for Cloudflare's 30 URLs, 3,000 for
// CloudFront's 3,000 paths.
func batchSize(pc plan.Config) int { return pc.FillingBatch(1000, 3000) }

// inboxDepth is the inbox's depth for a log line; -1 when it cannot be read.
func inboxDepth(ctx context.Context, q pipeline.Queue) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := q.Stats(ctx, 0)
	if err != nil {
		return -1
	}
	return st.Depth
}
