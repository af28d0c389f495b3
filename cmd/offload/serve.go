//go:build !offload_lambda

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/httpapi"
	"github.com/offload-dev/offload/internal/redact"
)

// serveOptions are offload serve's flags.
type serveOptions struct {
	common commonFlags
	listen string
}

func newServeCmd() *command {
	o := &serveOptions{}
	fs := newFlagSet()
	o.common.register(fs)
	fs.StringVar(&o.listen, "listen", "", "the `address` to listen on, as the configuration's listen (default 127.0.0.1:8080)")
	return &command{
		name:    "serve",
		summary: "run the webhook server, control API and dashboard",
		usage:   []string{"serve [--config F] [--listen A]"},
		about: `Run the webhook (POST /v1/events), the control API and the dashboard. Events go
to a durable inbox, in the state's bolt file (or, with inbox.driver: nats, a NATS
JetStream stream that several replicas share), before the answer, and are applied
in batches. On the embedded defaults purges are logged, not sent, and with no
auth.tokens only loopback callers are served. Ctrl-C gives the current batch up
to 15s to finish and stops; what is unfinished stays in the inbox.`,
		flags: flags(fs),
		run: noArgs(func(ctx context.Context, s streams) error {
			return runServe(ctx, o, s)
		}),
	}
}

func runServe(ctx context.Context, o *serveOptions, s streams) error {
	cfg, err := loadConfig(o.common.config)
	if err != nil {
		return badInput(err)
	}
	if o.listen != "" {
		cfg.Listen = o.listen
	}
	return serve(ctx, cfg, o.common.logger(s.err), s.redact)
}

// shutdownGrace bounds how long in-flight requests, and the worker's batch
// in hand, get to finish on shutdown; the two run out together.
const shutdownGrace = 15 * time.Second

// serve runs the server until ctx ends, then stops taking requests,
// finishes the batch in hand, and returns. Its answers go through red, as
// its logs do (the logger writes through it).
func serve(ctx context.Context, cfg *config.Config, logger *slog.Logger, red *redact.Redactor) error {
	if cfg.IsDefault() {
		logger.Warn("no configuration file: running on the embedded defaults; purges are logged, not sent (a dry run). Pass --config to purge a CDN",
			"state", cfg.State.Path, "listen", cfg.Listen)
	}
	d, err := newDeps(cfg, logger, red)
	if err != nil {
		return badInput(err)
	}
	defer d.close()
	p, err := d.pipeline(ctx, false)
	if err != nil {
		return badInput(err)
	}

	// The monitor sees the API's traffic and every batch the worker applies.
	monitor := httpapi.NewMonitor(httpapi.MonitorOptions{})
	batch := batchSize(p.Options().Plan)
	inbox, runWorker, closeInbox, err := d.serveInbox(ctx, logger, monitor.Wrap(p), batch)
	if err != nil {
		return err
	}
	defer closeInbox()
	api := httpapi.Options{Inbox: inbox, Pipeline: p, Logger: logger, Monitor: monitor,
		Rate: cfg.Auth.Rate, Burst: cfg.Auth.Burst, CacheStats: d.cache.Stats, Redact: red.String}
	if len(cfg.Auth.Tokens) > 0 || len(cfg.Auth.ScopedTokens) > 0 {
		api.Credentials = apiCredentials(cfg, d)
		// Fail now rather than answer every request with an error.
		creds, err := api.Credentials(ctx)
		if err != nil {
			return badInput(err)
		}
		if !slices.ContainsFunc(creds, func(c httpapi.Credential) bool { return c.Token != "" }) {
			return badInput(errors.New("auth.tokens: every token is empty"))
		}
	} else {
		logger.Warn("NO AUTH TOKENS CONFIGURED: the API and dashboard serve loopback callers only; set auth.tokens to accept webhooks from other hosts",
			"listen", cfg.Listen)
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           httpapi.New(api),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	targets := slices.Sorted(maps.Keys(p.Options().Purgers))
	logger.Info("listening", "addr", ln.Addr().String(), "state", cfg.State.Path, "ledger", cfg.State.Driver,
		"inbox", cfg.Inbox.Driver, "inbox_depth", inboxDepth(ctx, inbox), "targets", targets, "batch_window", cfg.Batch.Window.Duration.String(), "batch_size", batch)

	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		_ = runWorker(wctx)
	}()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var stopped error
	select {
	case <-ctx.Done():
		logger.Info("shutting down: finishing requests in flight and the current batch")
	case err := <-served:
		stopped = fmt.Errorf("server stopped: %w", err)
	}
	stopWorker() // the batch in hand has shutdownGrace, from now
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown: requests still in flight were cut off", "err", err)
	}
	<-workerDone
	logger.Info("stopped", "inbox_depth", inboxDepth(context.WithoutCancel(ctx), inbox))
	return stopped
}
