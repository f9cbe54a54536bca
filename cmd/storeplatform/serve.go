package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	sdkclient "go.temporal.io/sdk/client"
	sdkconverter "go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/metrics"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/worker"
)

// loadConfig parses the command's flags over the environment.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet("storeplatform "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return config.Load(fs, args, getenv)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runAPI(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig("api", args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	d, err := deps.Connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.Close(context.WithoutCancel(ctx))
	if err := servePprof(ctx, cfg.PprofAddr, logger); err != nil {
		return err
	}
	return serveAPI(ctx, cfg, d, logger, nil)
}

// serveAPI serves the API until ctx ends, then drains requests for up to 10
// seconds. ready, if not nil, receives the bound address.
func serveAPI(ctx context.Context, cfg config.Config, d *deps.Deps, logger *slog.Logger, ready chan<- string) error {
	stores := store.NewMongoRepository(d.DB)
	tokens := auth.NewMongoTokens(d.DB)
	if err := stores.EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("mongodb indexes: %w", err)
	}
	if err := tokens.EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("mongodb indexes: %w", err)
	}
	if cfg.WebDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.WebDir, "index.html")); err != nil {
			logger.Warn("the dashboard is not built: / explains how (make web)", "web_dir", cfg.WebDir)
		} else {
			logger.Info("serving the dashboard", "web_dir", cfg.WebDir)
		}
	}
	profile, err := storechart.LoadProfile(cfg.ChartDir, cfg.StoreProfile)
	if err != nil {
		return fmt.Errorf("CHART_DIR/STORE_PROFILE: %w", err)
	}
	current, err := storechart.Load(cfg.ChartDir)
	if err != nil {
		return fmt.Errorf("CHART_DIR: %w", err)
	}
	versions, err := storechart.LoadVersions(current, cfg.ChartVersionsDir)
	if err != nil {
		return fmt.Errorf("CHART_VERSIONS_DIR: %w", err)
	}
	releases, err := helmclient.NewRunner(d.KubeConfig, logger)
	if err != nil {
		return err
	}
	go reconcileLoop(ctx, stores, d.Temporal, cfg.TaskQueue, logger)
	stop := make(chan struct{})
	var codec sdkconverter.PayloadCodec // a nil *codec.Codec must not become a non-nil interface
	dataConverter := sdkconverter.GetDefaultDataConverter()
	if d.Codec != nil {
		codec, dataConverter = d.Codec, d.Codec.DataConverter()
		logger.Info("payload encryption on; admins may decode at /codec/decode", "current_key_id", d.Codec.CurrentKeyID())
	}
	router := api.Router(api.Options{
		Codec: codec, DataConverter: dataConverter,
		Stop:   stop,
		Logger: logger, Stores: stores, Tokens: tokens, Temporal: d.Temporal, TaskQueue: cfg.TaskQueue,
		StoreDomain: cfg.StoreDomain, StoreLimit: cfg.StoreLimit, Kube: d.Kube, Audit: api.NewMongoAudit(d.DB),
		MaxStreamsPerToken: cfg.MaxStreamsPerToken, MaxStreams: cfg.MaxStreams, MetricsToken: cfg.MetricsToken,
		Releases: releases, Profile: profile, Versions: versions,
		Dashboard: api.DashboardDir(cfg.WebDir), TemporalUIURL: cfg.TemporalUIURL, TemporalNamespace: cfg.TemporalNamespace,
		Checks: []api.Check{
			{Name: "mongodb", Probe: func(ctx context.Context) error { return d.Mongo.Ping(ctx, readpref.Primary()) }},
			{Name: "temporal", Probe: func(ctx context.Context) error {
				_, err := d.Temporal.CheckHealth(ctx, &sdkclient.CheckHealthRequest{})
				return err
			}},
			{Name: "kubernetes", Probe: func(ctx context.Context) error { return deps.KubeReady(ctx, d.Kube) }},
		},
	})
	l, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(func() { close(stop) })
	logger.Info("api listening", "address", l.Addr().String())
	if ready != nil {
		ready <- l.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// reconcileLoop starts the workflows of records left "requested" (the API
// died between writing a record and starting its workflow): at start, then
// every 30 seconds, until ctx ends.
func reconcileLoop(ctx context.Context, stores api.StoreRepository, c sdkclient.Client, queue string, logger *slog.Logger) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		if n, err := api.Reconcile(ctx, stores, c, queue); err != nil {
			logger.Warn("reconcile requested stores", "error", err.Error())
		} else if n > 0 {
			logger.Info("reconciled requested stores", "started", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig("worker", args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	m := metrics.NewWorker()
	d, err := deps.Connect(ctx, cfg, logger, deps.WithTemporalMetrics(m.TemporalHandler()))
	if err != nil {
		return err
	}
	defer d.Close(context.WithoutCancel(ctx))
	if err := servePprof(ctx, cfg.PprofAddr, logger); err != nil {
		return err
	}
	return runWorkerWith(ctx, cfg, d, m, logger)
}

// runWorkerWith runs the worker until ctx ends; m holds its metrics (d's
// Temporal client was dialled with m's handler), served with the probes at
// WORKER_HTTP_ADDR when it is set.
func runWorkerWith(ctx context.Context, cfg config.Config, d *deps.Deps, m *metrics.Worker, logger *slog.Logger) error {
	access, err := activities.ParseStoreAccess(cfg.StoreRoleBindings)
	if err != nil {
		return fmt.Errorf("STORE_ROLE_BINDINGS: %w", err)
	}
	health := worker.NewHealth(func(ctx context.Context) error {
		_, err := d.Temporal.CheckHealth(ctx, &sdkclient.CheckHealthRequest{})
		return err
	})
	health.Metrics = m.Handler(store.NewMongoRepository(d.DB))
	if cfg.WorkerHTTPAddr != "" {
		if _, err := serveSide(ctx, "WORKER_HTTP_ADDR", cfg.WorkerHTTPAddr, health.Handler(), logger); err != nil {
			return err
		}
	}
	acts, err := worker.NewActivities(ctx, worker.ActivityDeps{
		Kube: d.Kube, RESTConfig: d.KubeConfig, DB: d.DB, Temporal: d.Temporal, Logger: logger, HelmConcurrency: cfg.HelmConcurrency,
	}, cfg.ChartDir, cfg.ChartVersionsDir, cfg.StoreProfile)
	if err != nil {
		return err
	}
	acts.StoreAccess = access
	acts.Metrics = m
	logger.Info("worker polling", "task_queue", cfg.TaskQueue, "chart", cfg.ChartDir, "profile", cfg.StoreProfile,
		"payload_encryption", d.Codec != nil, "temporal_tls", cfg.TemporalTLSOn())
	return worker.Run(ctx, d.Temporal, worker.Options{
		TaskQueue:               cfg.TaskQueue,
		MaxConcurrentActivities: cfg.MaxActivities,
		ActivityPollers:         cfg.ActivityPollers,
		WorkflowPollers:         cfg.WorkflowPollers,
		Register:                func(r sdkworker.Registry) { worker.Register(r, acts) },
		Started:                 health.Started,
		Interceptors:            []interceptor.WorkerInterceptor{worker.NewInterceptor(logger, m)},
	})
}
