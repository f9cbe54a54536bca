package main

import (
	"context"
	"flag"
	"io"

	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/metrics"
	"github.com/storeplatform/storeplatform/internal/platform"
)

// loadConfig parses the command's flags over the environment.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet("storeplatform "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return config.Load(fs, args, getenv)
}

// runAPI serves the HTTP API until ctx ends.
func runAPI(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig("api", args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := platform.Logger(cfg, stderr)
	d, err := deps.Connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.Close(context.WithoutCancel(ctx))
	if err := platform.ServePprof(ctx, cfg.PprofAddr, logger); err != nil {
		return err
	}
	return platform.ServeAPI(ctx, cfg, d, logger, nil)
}

// runWorker runs the Temporal worker until ctx ends.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig("worker", args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := platform.Logger(cfg, stderr)
	m := metrics.NewWorker()
	d, err := deps.Connect(ctx, cfg, logger, deps.WithTemporalMetrics(m.TemporalHandler()))
	if err != nil {
		return err
	}
	defer d.Close(context.WithoutCancel(ctx))
	if err := platform.ServePprof(ctx, cfg.PprofAddr, logger); err != nil {
		return err
	}
	return platform.RunWorker(ctx, cfg, d, m, logger)
}
