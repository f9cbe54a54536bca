package platform

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	sdkclient "go.temporal.io/sdk/client"
	sdkconverter "go.temporal.io/sdk/converter"
	helmchart "helm.sh/helm/v3/pkg/chart"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// APIOptions are the API's options for cfg over d: its stores, tokens and
// audit trail in d's database (their indexes ensured), the chart's sizes
// and versions, the Helm history reader, the payload codec, the health
// checks and every limit cfg sets. Stop is left to the server
// (ServeAPI, or a test's httptest server).
func APIOptions(ctx context.Context, cfg config.Config, d *deps.Deps, logger *slog.Logger) (api.Options, error) {
	stores := store.NewMongoRepository(d.DB)
	tokens := auth.NewMongoTokens(d.DB)
	if err := stores.EnsureIndexes(ctx); err != nil {
		return api.Options{}, fmt.Errorf("mongodb indexes: %w", err)
	}
	if err := tokens.EnsureIndexes(ctx); err != nil {
		return api.Options{}, fmt.Errorf("mongodb indexes: %w", err)
	}
	chart, err := loadChart(cfg)
	if err != nil {
		return api.Options{}, err
	}
	releases, err := helmclient.NewRunner(d.KubeConfig, logger)
	if err != nil {
		return api.Options{}, err
	}
	o := api.Options{
		Logger: logger, Stores: stores, Tokens: tokens, Temporal: d.Temporal, TaskQueue: cfg.TaskQueue,
		StoreDomain: cfg.StoreDomain, StoreLimit: cfg.StoreLimit, Kube: d.Kube, Audit: api.NewMongoAudit(d.DB),
		MaxStreamsPerToken: cfg.MaxStreamsPerToken, MaxStreams: cfg.MaxStreams, MetricsToken: cfg.MetricsToken,
		Releases: releases, Profile: chart.profile, Versions: chart.versions,
		TemporalUIURL: cfg.TemporalUIURL, TemporalNamespace: cfg.TemporalNamespace, StoreURLNotice: cfg.StoreURLNotice,
		Dashboard: api.DashboardDir(cfg.WebDir), Checks: checks(d),
	}
	o.DataConverter = sdkconverter.GetDefaultDataConverter()
	if d.Codec != nil { // a nil *codec.Codec must not become a non-nil interface
		o.Codec, o.DataConverter = d.Codec, d.Codec.DataConverter()
	}
	return o, nil
}

// chart is the store chart as the platform loads it: the current chart,
// the packaged versions rollouts may install, and the profile's sizes.
type chart struct {
	current  *helmchart.Chart
	versions *storechart.Versions
	profile  storechart.Profile
}

// loadChart loads CHART_DIR, CHART_VERSIONS_DIR, STORE_PROFILE and
// STORE_VALUES; the error names the setting at fault.
func loadChart(cfg config.Config) (chart, error) {
	var c chart
	var err error
	if c.current, err = storechart.Load(cfg.ChartDir); err != nil {
		return c, fmt.Errorf("CHART_DIR: %w", err)
	}
	if c.versions, err = storechart.LoadVersions(c.current, cfg.ChartVersionsDir); err != nil {
		return c, fmt.Errorf("CHART_VERSIONS_DIR: %w", err)
	}
	if c.profile, err = storechart.LoadProfile(cfg.ChartDir, cfg.StoreProfile); err != nil {
		return c, fmt.Errorf("STORE_PROFILE: %w", err)
	}
	if cfg.StoreValues != "" {
		extra, err := storechart.ValuesFile(filepath.Dir(cfg.StoreValues), filepath.Base(cfg.StoreValues))
		if err != nil {
			return c, fmt.Errorf("STORE_VALUES: %w", err)
		}
		c.profile = c.profile.With(extra)
	}
	return c, nil
}

// checks are the API's /health probes of d's MongoDB, Temporal and
// Kubernetes.
func checks(d *deps.Deps) []api.Check {
	return []api.Check{
		{Name: "mongodb", Probe: func(ctx context.Context) error { return d.Mongo.Ping(ctx, readpref.Primary()) }},
		{Name: "temporal", Probe: func(ctx context.Context) error {
			_, err := d.Temporal.CheckHealth(ctx, &sdkclient.CheckHealthRequest{})
			return err
		}},
		{Name: "kubernetes", Probe: func(ctx context.Context) error { return deps.KubeReady(ctx, d.Kube) }},
	}
}

// ServeAPI serves the API of cfg over d at LISTEN_ADDR, and runs the
// reconciler of records left "requested", until ctx ends; then it drains
// requests for up to 10 seconds. ready, if not nil, receives the bound
// address.
func ServeAPI(ctx context.Context, cfg config.Config, d *deps.Deps, logger *slog.Logger, ready chan<- string) error {
	o, err := APIOptions(ctx, cfg, d, logger)
	if err != nil {
		return err
	}
	logDashboard(cfg.WebDir, logger)
	if d.Codec != nil {
		logger.Info("payload encryption on; admins may decode at /codec/decode", "current_key_id", d.Codec.CurrentKeyID())
	}
	l, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	go reconcileLoop(ctx, o.Stores, d.Temporal, cfg.TaskQueue, logger)
	stop := make(chan struct{})
	o.Stop = stop
	srv := &http.Server{
		Handler:           api.Router(o),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(func() { close(stop) })
	logger.Info("api listening", "address", l.Addr().String())
	if ready != nil {
		ready <- l.Addr().String()
	}
	return serveUntil(ctx, srv, l)
}

// logDashboard says whether the dashboard's build is there to serve.
func logDashboard(dir string, logger *slog.Logger) {
	if dir == "" {
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		logger.Warn("the dashboard is not built: / explains how (make web)", "web_dir", dir)
		return
	}
	logger.Info("serving the dashboard", "web_dir", dir)
}

// serveUntil serves srv on l until ctx ends, then shuts it down, giving
// requests in flight 10 seconds.
func serveUntil(ctx context.Context, srv *http.Server, l net.Listener) error {
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
