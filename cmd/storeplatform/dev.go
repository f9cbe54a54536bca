package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/metrics"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// Well-known local ports of `storeplatform dev`.
const (
	devTemporalPort   = 7233
	devTemporalUIPort = 8233
	devMongoPort      = 27017
	devAPIServerPort  = 6443
)

// runDev starts the local stack, then the worker and the API in this
// process, prints where everything is, and runs until ctx ends (Ctrl-C),
// when it stops everything it started.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storeplatform dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".local", "data directory of the local stack (kept across runs)")
	bin := fs.String("bin", "bin", "directory of the binaries built by `make tools`")
	listen := fs.String("listen", orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"), "address of the HTTP API (env LISTEN_ADDR)")
	kubeconfig := fs.String("kubeconfig", getenv("KUBECONFIG"), "use this cluster instead of starting a local one (env KUBECONFIG)")
	chartDir := fs.String("chart-dir", orDefault(getenv("CHART_DIR"), "charts/store"), "directory of the store chart (env CHART_DIR)")
	webDir := fs.String("web-dir", orDefault(getenv("WEB_DIR"), "web/dist"), "directory of the dashboard's build (env WEB_DIR)")
	// Other ports than the well-known ones let a second stack (hack/e2e-cluster.sh,
	// its test) run beside `make dev`; 0 picks a free port.
	temporalPort := fs.Int("temporal-port", devTemporalPort, "port of the Temporal dev server; 0 picks a free one")
	temporalUIPort := fs.Int("temporal-ui-port", devTemporalUIPort, "port of the Temporal Web UI; 0 picks a free one, -1 runs none")
	mongoPort := fs.Int("mongo-port", devMongoPort, "port of the embedded FerretDB; 0 picks a free one")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", config.ErrUsage, config.Reported{Err: err})
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The defaults of every setting, with the stack's own; MONGODB_URI and
	// TEMPORAL_ADDRESS are placeholders until the stack runs.
	cfg := config.Defaults()
	cfg.ListenAddr, cfg.Kubeconfig, cfg.LogFormat = *listen, *kubeconfig, "text"
	cfg.ChartDir, cfg.ChartVersionsDir, cfg.WebDir = *chartDir, filepath.Join(filepath.Dir(*chartDir), "versions"), *webDir
	cfg.StoreProfile = "local"
	if err := cfg.Validate(); err != nil {
		return err
	}

	logger.Info("starting the local stack", "dir", *dir)
	stack, err := devstack.Start(ctx, devstack.Options{
		Dir: *dir, BinDir: *bin, Kubeconfig: *kubeconfig,
		Cluster:      devstack.ClusterPorts{APIServer: devAPIServerPort, EtcdClient: 2379, EtcdPeer: 2380, Kwok: 10247},
		TemporalPort: *temporalPort, TemporalUIPort: *temporalUIPort,
		SearchAttributes: workflows.SearchAttributeFlags(),
		MongoPort:        *mongoPort,
		Logger:           logger,
	})
	if err != nil {
		return err
	}
	defer func() {
		logger.Info("stopping the local stack")
		stack.Stop()
		logger.Info("stopped")
	}()

	cfg.MongoURI, cfg.TemporalAddress, cfg.Kubeconfig = stack.MongoURI(), stack.TemporalAddress(), stack.Kubeconfig()
	cfg.TemporalUIURL = stack.TemporalUIURL()
	cfg.ConnectTimeout = 15 * time.Second
	m := metrics.NewWorker()
	d, err := deps.Connect(ctx, cfg, logger, deps.WithTemporalMetrics(m.TemporalHandler()))
	if err != nil {
		return err
	}
	defer d.Close(context.WithoutCancel(ctx))
	tokens := auth.NewMongoTokens(d.DB)
	if err := tokens.EnsureIndexes(ctx); err != nil {
		return err
	}
	// The API and the worker below both create the stores collection's
	// indexes as they start; on a new database the embedded FerretDB drops
	// one of the two connections when they do it at once (a panic in its
	// createIndexes), so the collection is made here first.
	if err := store.NewMongoRepository(d.DB).EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("mongodb indexes: %w", err)
	}
	adminToken, err := rotateDevToken(ctx, tokens, time.Now())
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	ready := make(chan string, 1)
	wg.Go(func() { errs <- serveAPI(ctx, cfg, d, logger, ready); cancel() })
	wg.Go(func() { errs <- runWorkerWith(ctx, cfg, d, m, logger); cancel() })

	select {
	case addr := <-ready:
		fmt.Fprintf(stdout, `
Store Platform is running. Press Ctrl-C to stop everything.

  Dashboard        http://%[1]s/   (sign in with the admin token below)
  API              http://%[1]s
  API docs         http://%[1]s/docs
  API health       http://%[1]s/health
  Temporal Web UI  %[2]s
  Temporal         %[3]s   (bin/temporal --address %[3]s workflow list)
  MongoDB          %[4]s   (embedded FerretDB, data in %[5]s/ferretdb)
  Kubernetes       bin/kubectl --kubeconfig %[6]s get nodes
  Admin token      %[7]s   (new at every start, the previous one revoked; storeplatform token create for more)

`, addr, stack.TemporalUIURL(), stack.TemporalAddress(), stack.MongoURI(), stack.Dir(), stack.Kubeconfig(), adminToken)
	case <-ctx.Done():
	}
	<-ctx.Done()
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// devTokenName names the admin token that `storeplatform dev` makes.
const devTokenName = "storeplatform dev"

// rotateDevToken makes a new admin token for this run of dev and revokes
// the ones earlier runs made, so that tokens printed to old terminals stop
// working instead of piling up.
func rotateDevToken(ctx context.Context, tokens *auth.MongoTokens, now time.Time) (string, error) {
	all, err := tokens.List(ctx)
	if err != nil {
		return "", fmt.Errorf("list tokens: %w", err)
	}
	for _, t := range all {
		if t.Name == devTokenName && t.Role == auth.RoleAdmin && t.RevokedAt == nil {
			if err := tokens.Revoke(ctx, t.ID, now); err != nil {
				return "", fmt.Errorf("revoke the previous dev token: %w", err)
			}
		}
	}
	plain, _, err := tokens.Create(ctx, "admin", auth.RoleAdmin, devTokenName, now)
	return plain, err
}
