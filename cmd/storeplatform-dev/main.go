// Command storeplatform-dev runs the whole platform on one machine for
// development: the local stack (Kubernetes control plane with kwok nodes,
// the Temporal dev server and the embedded FerretDB, from the binaries
// `make tools` built) with the worker and the API in this process. It is
// not in the platform's image: `storeplatform` (cmd/storeplatform) is what
// runs in production, and links neither the stack nor FerretDB.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/metrics"
	"github.com/storeplatform/storeplatform/internal/platform"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// Well-known local ports of `storeplatform-dev`.
const (
	devTemporalPort   = 7233
	devTemporalUIPort = 8233
	devMongoPort      = 27017
	devAPIServerPort  = 6443
	// The real node's ingress on the loopback: a store is
	// http://<name>.stores.localhost:8088 (https on 8443).
	devIngressPort    = 8088
	devIngressTLSPort = 8443
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the platform until ctx ends and returns the exit code: 0 on a
// clean stop (or -h), 1 on a runtime or configuration error, 2 on a usage
// error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return config.ExitCode(stderr, "storeplatform-dev", runDev(ctx, args, getenv, stdout, stderr))
}

// devFlags are the command's flags.
type devFlags struct {
	dir, bin, listen, kubeconfig, chartDir, webDir, storeValues string
	temporalPort, temporalUIPort, mongoPort                     int
	ingressPort, ingressTLSPort                                 int
	realNode, stackOnly                                         bool
}

// parseFlags reads the flags in args, with the environment's LISTEN_ADDR,
// KUBECONFIG, CHART_DIR, WEB_DIR and STORE_VALUES as their defaults.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (devFlags, error) {
	var f devFlags
	fs := flag.NewFlagSet("storeplatform-dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.dir, "dir", ".local", "data directory of the local stack (kept across runs)")
	fs.StringVar(&f.bin, "bin", "bin", "directory of the binaries built by `make tools`")
	fs.StringVar(&f.listen, "listen", orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"), "address of the HTTP API (env LISTEN_ADDR)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", getenv("KUBECONFIG"), "use this cluster instead of starting a local one (env KUBECONFIG)")
	fs.StringVar(&f.chartDir, "chart-dir", orDefault(getenv("CHART_DIR"), "charts/store"), "directory of the store chart (env CHART_DIR)")
	fs.StringVar(&f.webDir, "web-dir", orDefault(getenv("WEB_DIR"), "web/dist"), "directory of the dashboard's build (env WEB_DIR)")
	// Other ports than the well-known ones let a second stack (hack/e2e-cluster.sh,
	// its test) run beside `make dev`; 0 picks a free port.
	fs.IntVar(&f.temporalPort, "temporal-port", devTemporalPort, "port of the Temporal dev server; 0 picks a free one")
	fs.IntVar(&f.temporalUIPort, "temporal-ui-port", devTemporalUIPort, "port of the Temporal Web UI; 0 picks a free one, -1 runs none")
	fs.IntVar(&f.mongoPort, "mongo-port", devMongoPort, "port of the embedded FerretDB; 0 picks a free one")
	fs.BoolVar(&f.realNode, "real-node", false, "add a real node (containerd, kubelet, kube-proxy; root and `make node-tools`) beside the kwok nodes, with an ingress on 127.0.0.1: docs/real-node.md")
	fs.IntVar(&f.ingressPort, "ingress-port", devIngressPort, "loopback port of the real node's ingress (HTTP); 0 picks a free one")
	fs.IntVar(&f.ingressTLSPort, "ingress-tls-port", devIngressTLSPort, "loopback port of the real node's ingress (HTTPS); 0 picks a free one")
	fs.StringVar(&f.storeValues, "store-values", getenv("STORE_VALUES"), "values file layered over every store's (env STORE_VALUES); with -real-node, the real node's own")
	fs.BoolVar(&f.stackOnly, "stack-only", false, "start the local stack (with -real-node: and its store images) and print where it is, but no API and no worker: for hack/e2e-cluster.sh against the local real node")
	if err := fs.Parse(args); err != nil {
		return f, fmt.Errorf("%w: %w", config.ErrUsage, config.Reported{Err: err})
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("%w: unexpected argument %q", config.ErrUsage, fs.Arg(0))
	}
	if f.realNode && f.kubeconfig != "" {
		return f, fmt.Errorf("%w: -real-node joins the local cluster; it cannot be used with -kubeconfig (or KUBECONFIG) %s", config.ErrUsage, f.kubeconfig)
	}
	if f.realNode && f.storeValues != "" {
		return f, fmt.Errorf("%w: -real-node writes its own store values; -store-values (or STORE_VALUES) %s cannot be used with it", config.ErrUsage, f.storeValues)
	}
	return f, nil
}

// SimulatedNodesNotice is the dashboard's note beside store URLs when the
// local cluster has only kwok nodes: no container runs, so no URL serves.
const SimulatedNodesNotice = "Nothing serves this URL: the local stack's nodes are simulated (kwok) and run no containers. Run storeplatform-dev -real-node (docs/real-node.md) to see a store serve."

// devConfig is the configuration the worker and the API run with: every
// setting's default, with the flags' and the local profile; MONGODB_URI
// and TEMPORAL_ADDRESS are placeholders until the stack runs (withStack).
func devConfig(f devFlags) (config.Config, error) {
	cfg := config.Defaults()
	cfg.ListenAddr, cfg.Kubeconfig, cfg.LogFormat = f.listen, f.kubeconfig, "text"
	cfg.ChartDir, cfg.ChartVersionsDir, cfg.WebDir = f.chartDir, filepath.Join(filepath.Dir(f.chartDir), "versions"), f.webDir
	cfg.StoreProfile = "local"
	cfg.StoreValues = f.storeValues
	if !f.realNode && f.kubeconfig == "" {
		cfg.StoreURLNotice = SimulatedNodesNotice
	}
	return cfg, cfg.Validate()
}

// withStack points cfg at the running stack.
func withStack(cfg config.Config, stack *devstack.Stack) config.Config {
	cfg.MongoURI, cfg.TemporalAddress, cfg.Kubeconfig = stack.MongoURI(), stack.TemporalAddress(), stack.Kubeconfig()
	cfg.TemporalUIURL = stack.TemporalUIURL()
	if v := stack.StoreValues(); v != "" {
		cfg.StoreValues = v
	}
	cfg.ConnectTimeout = 15 * time.Second
	return cfg
}

// runDev starts the local stack, then the worker and the API in this
// process, prints where everything is, and runs until ctx ends (Ctrl-C),
// when it stops everything it started.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg, err := devConfig(f)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	logger.Info("starting the local stack", "dir", f.dir)
	stack, err := devstack.Start(ctx, devstack.Options{
		Dir: f.dir, BinDir: f.bin, Kubeconfig: f.kubeconfig,
		Cluster:      devstack.ClusterPorts{APIServer: devAPIServerPort, EtcdClient: 2379, EtcdPeer: 2380, Kwok: 10247},
		TemporalPort: f.temporalPort, TemporalUIPort: f.temporalUIPort,
		SearchAttributes: workflows.SearchAttributeFlags(),
		MongoPort:        f.mongoPort,
		RealNode:         f.realNode,
		IngressHTTPPort:  f.ingressPort, IngressHTTPSPort: f.ingressTLSPort,
		Logger: logger,
	})
	if err != nil {
		return err
	}
	defer func() {
		logger.Info("stopping the local stack")
		stack.Stop()
		logger.Info("stopped")
	}()
	if f.realNode {
		// Stores go to the real node (STORE_VALUES); it runs only images
		// built here.
		if err := stack.ImportStoreImages(ctx); err != nil {
			logger.Warn("the real node has no store images: stores will not start there", "err", err)
		} else {
			logger.Info("store images imported; create Medusa stores with medusaImage " + devstack.MedusaImage)
		}
	}
	if f.stackOnly {
		printStack(stdout, stack)
		<-ctx.Done()
		return nil
	}
	return runPlatform(ctx, withStack(cfg, stack), stack, stdout, logger)
}

// runPlatform connects to the stack, makes this run's admin token, runs
// the API and the worker until ctx ends or either stops, and prints where
// everything is once the API listens.
func runPlatform(ctx context.Context, cfg config.Config, stack *devstack.Stack, stdout io.Writer, logger *slog.Logger) error {
	m := metrics.NewWorker()
	d, err := deps.Connect(ctx, cfg, logger, deps.WithTemporalMetrics(m.TemporalHandler()))
	if err != nil {
		return err
	}
	defer d.Close(context.WithoutCancel(ctx))
	adminToken, err := prepare(ctx, d)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	ready := make(chan string, 1)
	wg.Go(func() { errs <- platform.ServeAPI(ctx, cfg, d, logger, ready); cancel() })
	wg.Go(func() { errs <- platform.RunWorker(ctx, cfg, d, m, logger); cancel() })
	select {
	case addr := <-ready:
		printBanner(stdout, addr, stack, adminToken)
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

// prepare makes the collections' indexes and this run's admin token.
func prepare(ctx context.Context, d *deps.Deps) (string, error) {
	tokens := auth.NewMongoTokens(d.DB)
	if err := tokens.EnsureIndexes(ctx); err != nil {
		return "", err
	}
	// The API and the worker both create the stores collection's indexes as
	// they start; on a new database the embedded FerretDB drops one of the
	// two connections when they do it at once (a panic in its
	// createIndexes), so the collection is made here first.
	if err := store.NewMongoRepository(d.DB).EnsureIndexes(ctx); err != nil {
		return "", fmt.Errorf("mongodb indexes: %w", err)
	}
	return rotateDevToken(ctx, tokens, time.Now())
}

// printBanner says where everything is.
func printBanner(w io.Writer, addr string, stack *devstack.Stack, adminToken string) {
	fmt.Fprintf(w, `
Store Platform is running. Press Ctrl-C to stop everything.

  Dashboard        http://%[1]s/   (sign in with the admin token below)
  API              http://%[1]s
  API docs         http://%[1]s/docs
  API health       http://%[1]s/health
  Temporal Web UI  %[2]s
  Temporal         %[3]s   (bin/temporal --address %[3]s workflow list)
  MongoDB          %[4]s   (embedded FerretDB, data in %[5]s/ferretdb)
  Kubernetes       bin/kubectl --kubeconfig %[6]s get nodes
  Admin token      %[7]s   (new at every start, the previous one revoked; bin/storeplatform token create for more)

`, addr, stack.TemporalUIURL(), stack.TemporalAddress(), stack.MongoURI(), stack.Dir(), stack.Kubeconfig(), adminToken)
	if stack.IngressHTTP() != "" {
		fmt.Fprintf(w, `  Stores           the real node's ingress: http://%[1]s and https://%[2]s by each store's host name, e.g.
                   curl --cacert %[3]s --connect-to ::%[2]s https://shop.%[4]s/health

`, stack.IngressHTTP(), stack.IngressHTTPS(), stack.CACert(), devstack.DefaultStoreDomain)
	}
}

// printStack says where the stack's parts are, for -stack-only: each line
// a name and a value, which scripts read (hack/e2e-cluster-local.sh).
func printStack(w io.Writer, stack *devstack.Stack) {
	fmt.Fprintf(w, "Kubeconfig %s\n", stack.Kubeconfig())
	if stack.IngressHTTP() != "" {
		fmt.Fprintf(w, "Ingress %s\nIngressTLS %s\nIngressClass %s\nCA %s\nStoreValues %s\n",
			stack.IngressHTTP(), stack.IngressHTTPS(), devstack.IngressClass, stack.CACert(), stack.StoreValues())
	}
	fmt.Fprintln(w, "The local stack is running. Press Ctrl-C to stop it.")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// devTokenName names the admin token that `storeplatform-dev` makes.
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
