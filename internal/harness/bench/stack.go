package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/childproc"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

// Names the platform runs under on the bench stack.
const (
	taskQueue = "store-platform"
	dbName    = "storeplatform"
	profile   = "local"
	domain    = "stores.localhost"
)

// env is one bench stack: devstack's processes, one `storeplatform api`
// and one `storeplatform worker` from bin/ as children of the harness, and
// the harness's own clients, which observe and drive the cluster and the
// database but are never what the platform uses.
type env struct {
	o        Options
	stack    *devstack.Stack
	rest     *rest.Config
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	mongo    *mongo.Client
	db       *mongo.Database
	temporal client.Client
	profile  storechart.Profile

	apiURL    string
	pprofURL  string
	logDir    string
	env       []string
	api       *childproc.Process
	worker    *childproc.Process
	chartDir  string
	kubeconf  string
	adminTok  string
	helmEnv   []string
	helmCache string
}

// nodesFor is how many kwok nodes n stores need at once: each local small
// store has 3 pods and requests about 0.35 CPU; a node has 110 pods and 8
// CPUs. One node in 15 stores leaves room for a set still being deleted.
func nodesFor(n int) int { return max(3, (n+14)/15) }

func startEnv(ctx context.Context, o Options) (*env, error) {
	e := &env{o: o, logDir: filepath.Join(o.Dir, "platform-logs"), chartDir: filepath.Join(o.RepoRoot, "charts", "store")}
	if err := os.MkdirAll(e.logDir, 0o755); err != nil {
		return nil, err
	}
	var err error
	e.stack, err = devstack.Start(ctx, devstack.Options{
		Dir: filepath.Join(o.Dir, "stack"), BinDir: o.BinDir, Nodes: nodesFor(o.Stores), TemporalUIPort: -1,
		SearchAttributes: workflows.SearchAttributeFlags(), FerretDBCommand: o.FerretDBCommand,
		Logger: o.Logger, StartTimeout: 5 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			e.stop()
		}
	}()
	e.kubeconf = e.stack.Kubeconfig()
	if err := e.dial(ctx); err != nil {
		return nil, err
	}
	if e.profile, err = storechart.LoadProfile(e.chartDir, profile); err != nil {
		return nil, err
	}
	// As `storeplatform dev` does: the indexes exist before the API and the
	// worker start.
	if err := store.NewMongoRepository(e.db).EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	if err := auth.NewMongoTokens(e.db).EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	if e.adminTok, err = e.token(ctx, "bench-admin", auth.RoleAdmin); err != nil {
		return nil, err
	}
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	pport, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	for pport == port {
		if pport, err = childproc.FreePort(); err != nil {
			return nil, err
		}
	}
	e.apiURL = "http://127.0.0.1:" + strconv.Itoa(port)
	e.pprofURL = "http://127.0.0.1:" + strconv.Itoa(pport)
	e.env = []string{
		"TEMPORAL_ADDRESS=" + e.stack.TemporalAddress(), "MONGODB_URI=" + e.stack.MongoURI(), "MONGODB_DB=" + dbName,
		"KUBECONFIG=" + e.kubeconf, "TEMPORAL_TASK_QUEUE=" + taskQueue,
		"CHART_DIR=" + e.chartDir, "CHART_VERSIONS_DIR=" + filepath.Join(o.Dir, "no-chart-versions"),
		"STORE_PROFILE=" + profile, "STORE_DOMAIN=" + domain, "LOG_LEVEL=info", "LOG_FORMAT=json", "WEB_DIR=",
		"LISTEN_ADDR=127.0.0.1:" + strconv.Itoa(port), "STORE_LIMIT=100000",
	}
	bin := filepath.Join(o.BinDir, "storeplatform")
	if e.api, err = childproc.Start("api", filepath.Join(e.logDir, "api.log"), "api listening", e.env, bin, "api"); err != nil {
		return nil, err
	}
	if err := e.api.WaitUp(2 * time.Minute); err != nil {
		return nil, err
	}
	if err := childproc.WaitHTTP(e.apiURL+"/health", time.Minute); err != nil {
		return nil, err
	}
	wenv := append([]string{"PPROF_ADDR=127.0.0.1:" + strconv.Itoa(pport)}, e.env...)
	if e.worker, err = childproc.Start("worker", filepath.Join(e.logDir, "worker.log"), "worker polling", wenv, bin, "worker"); err != nil {
		return nil, err
	}
	if err := e.worker.WaitUp(2 * time.Minute); err != nil {
		return nil, err
	}
	e.helmCache = filepath.Join(o.Dir, "helm")
	e.helmEnv = []string{"KUBECONFIG=" + e.kubeconf,
		"HELM_CACHE_HOME=" + filepath.Join(e.helmCache, "cache"), "HELM_CONFIG_HOME=" + filepath.Join(e.helmCache, "config"),
		"HELM_DATA_HOME=" + filepath.Join(e.helmCache, "data")}
	ok = true
	return e, nil
}

func (e *env) dial(ctx context.Context) error {
	var err error
	if e.rest, err = clientcmd.BuildConfigFromFlags("", e.kubeconf); err != nil {
		return err
	}
	// The harness's own client must not be what limits the floor: it is
	// sized for 100 stores applied at once.
	e.rest.QPS, e.rest.Burst = 1000, 2000
	e.rest.Timeout = 60 * time.Second
	if e.kube, err = kubernetes.NewForConfig(e.rest); err != nil {
		return err
	}
	if e.dyn, err = dynamic.NewForConfig(e.rest); err != nil {
		return err
	}
	if e.mongo, err = mongo.Connect(options.Client().ApplyURI(e.stack.MongoURI()).SetServerSelectionTimeout(10 * time.Second)); err != nil {
		return err
	}
	e.db = e.mongo.Database(dbName)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e.temporal, err = client.DialContext(dctx, client.Options{HostPort: e.stack.TemporalAddress(),
		Logger: temporallog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	return err
}

// token makes an API token of tenant straight in the database.
func (e *env) token(ctx context.Context, tenant string, role auth.Role) (string, error) {
	plain, _, err := auth.NewMongoTokens(e.db).Create(ctx, tenant, role, "bench", time.Now())
	return plain, err
}

// tokens makes n tokens of tenant: each token may send 10 requests a
// second (burst 40), so clients that send many at once get one each.
func (e *env) tokens(ctx context.Context, tenant string, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		t, err := e.token(ctx, tenant, auth.RoleTenant)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		out[i] = t
	}
	return out, nil
}

// tenantTokens makes one token of each of n tenants prefix-001, prefix-002,
// ...: stores of different tenants never race for the same slot of a
// tenant's STORE_LIMIT (see Report.PostOneTenant).
func (e *env) tenantTokens(ctx context.Context, prefix string, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		t, err := e.token(ctx, fmt.Sprintf("%s-%03d", prefix, i+1), auth.RoleTenant)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		out[i] = t
	}
	return out, nil
}

func (e *env) stop() {
	for _, c := range []*childproc.Process{e.worker, e.api} {
		if c != nil {
			c.Stop(15 * time.Second)
		}
	}
	if e.temporal != nil {
		e.temporal.Close()
	}
	if e.mongo != nil {
		_ = e.mongo.Disconnect(context.Background())
	}
	if e.stack != nil {
		e.stack.Stop()
	}
}
