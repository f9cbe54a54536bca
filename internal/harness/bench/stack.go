package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/sdk/client"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/harness/childproc"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// env is one bench stack: the harness's stack (internal/harness/stack:
// devstack's processes and the harness's own clients, which observe and
// drive the cluster and the database but are never what the platform
// uses), with one `storeplatform api` and one `storeplatform worker` from
// bin/ as children of the harness.
type env struct {
	o     Options
	stack *stack.Stack
	// rest, kube, db and temporal are the stack's clients; dyn a dynamic
	// client on rest.
	rest     *rest.Config
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	db       *mongo.Database
	temporal client.Client
	profile  storechart.Profile
	// cfg is the configuration of the platform's processes.
	cfg config.Config

	apiURL    string
	pprofURL  string
	logDir    string
	api       *childproc.Process
	worker    *childproc.Process
	chartDir  string
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
	// The harness's own client must not be what limits the floor: it is
	// sized for 100 stores applied at once.
	e.stack, err = stack.StartSuite(ctx, o.Suite, nodesFor(o.Stores), stack.ClientOptions{KubeQPS: 1000, KubeBurst: 2000, KubeTimeout: 60 * time.Second})
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			e.stop()
		}
	}()
	e.rest, e.kube, e.db, e.temporal = e.stack.REST, e.stack.Kube, e.stack.DB, e.stack.Temporal
	if e.dyn, err = dynamic.NewForConfig(e.rest); err != nil {
		return nil, err
	}
	e.cfg = e.stack.Config()
	e.cfg.StoreLimit = 100000
	if e.profile, err = storechart.LoadProfile(e.cfg.ChartDir, e.cfg.StoreProfile); err != nil {
		return nil, err
	}
	if e.adminTok, err = e.token(ctx, "bench-admin", auth.RoleAdmin); err != nil {
		return nil, err
	}
	if err := e.startPlatform(); err != nil {
		return nil, err
	}
	e.helmCache = filepath.Join(o.Dir, "helm")
	e.helmEnv = []string{"KUBECONFIG=" + e.stack.Kubeconfig(),
		"HELM_CACHE_HOME=" + filepath.Join(e.helmCache, "cache"), "HELM_CONFIG_HOME=" + filepath.Join(e.helmCache, "config"),
		"HELM_DATA_HOME=" + filepath.Join(e.helmCache, "data")}
	ok = true
	return e, nil
}

// startPlatform starts the API and then the worker, each on a free port
// (the worker's for pprof), with the stack's configuration, a store limit
// no run reaches and no chart versions.
func (e *env) startPlatform() error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	e.cfg.ListenAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
	cfg := e.cfg
	e.apiURL, e.pprofURL = "http://"+cfg.ListenAddr, "http://127.0.0.1:"+strconv.Itoa(ports[1])
	if e.api, err = stack.StartAPI("api", cfg, e.o.BinDir, e.logDir); err != nil {
		return err
	}
	if err := stack.APIReady(e.api, cfg); err != nil {
		return err
	}
	cfg.PprofAddr = "127.0.0.1:" + strconv.Itoa(ports[1])
	if e.worker, err = stack.StartWorker("worker", "worker", cfg, e.o.BinDir, e.logDir); err != nil {
		return err
	}
	return e.worker.WaitUp(2 * time.Minute)
}

// freePorts picks n different free ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		p, err := childproc.FreePort()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// token makes an API token of tenant straight in the database.
func (e *env) token(ctx context.Context, tenant string, role auth.Role) (string, error) {
	return e.stack.Token(ctx, tenant, role, "bench")
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
	if e.stack != nil {
		e.stack.Stop()
	}
}
