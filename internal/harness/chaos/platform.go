package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"helm.sh/helm/v3/pkg/chartutil"
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

// Names the platform runs under on the chaos stack.
const (
	taskQueue = "store-platform"
	dbName    = "storeplatform"
	// RolloutVersion is the store chart version scenario 7 rolls out: the
	// chart in charts/store packaged under this version.
	RolloutVersion = "0.4.1"
	// workers is how many `storeplatform worker` processes poll the queue.
	workers = 2
)

// conns are the suite's own clients of one stack: what it observes the
// platform through, never what the platform uses.
type conns struct {
	kubeconfig string
	rest       *rest.Config
	kube       kubernetes.Interface
	mongo      *mongo.Client
	db         *mongo.Database
	temporal   client.Client
}

func dial(ctx context.Context, kubeconfig, mongoURI, temporalAddr string) (*conns, error) {
	c := &conns{kubeconfig: kubeconfig}
	var err error
	if c.rest, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
		return nil, err
	}
	c.rest.Timeout = 30 * time.Second
	if c.kube, err = kubernetes.NewForConfig(c.rest); err != nil {
		return nil, err
	}
	if c.mongo, err = mongo.Connect(options.Client().ApplyURI(mongoURI).SetServerSelectionTimeout(10 * time.Second)); err != nil {
		return nil, err
	}
	c.db = c.mongo.Database(dbName)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if c.temporal, err = client.DialContext(dctx, client.Options{HostPort: temporalAddr,
		Logger: temporallog.NewStructuredLogger(slog.New(slog.DiscardHandler))}); err != nil {
		_ = c.mongo.Disconnect(ctx)
		return nil, err
	}
	return c, nil
}

func (c *conns) close() {
	if c.temporal != nil {
		c.temporal.Close()
	}
	if c.mongo != nil {
		_ = c.mongo.Disconnect(context.Background())
	}
}

// token makes an API token of tenant straight in the database.
func (c *conns) token(ctx context.Context, tenant string, role auth.Role) (string, error) {
	plain, _, err := auth.NewMongoTokens(c.db).Create(ctx, tenant, role, "chaos", time.Now())
	return plain, err
}

// platform is the chaos stack: devstack's processes (FerretDB among them,
// as a process of its own) and, as child processes of the suite, one
// `storeplatform api` and two `storeplatform worker` from bin/, all of
// which the scenarios kill and start again.
type platform struct {
	opts   Options
	stack  *devstack.Stack
	c      *conns
	env    []string
	apiURL string
	logDir string

	mu       sync.Mutex
	api      *childproc.Process
	workers  [workers]*childproc.Process
	gens     [workers]int
	stopping bool
	// unexpected counts exits of the platform's processes that the suite
	// did not cause.
	unexpected []string
}

func startPlatform(ctx context.Context, o Options) (*platform, error) {
	p := &platform{opts: o, logDir: filepath.Join(o.Dir, "platform-logs")}
	if err := os.MkdirAll(p.logDir, 0o755); err != nil {
		return nil, err
	}
	var err error
	p.stack, err = devstack.Start(ctx, devstack.Options{
		Dir: filepath.Join(o.Dir, "stack"), BinDir: o.BinDir, Nodes: 6, TemporalUIPort: -1,
		SearchAttributes: workflows.SearchAttributeFlags(), FerretDBCommand: o.FerretDBCommand,
		Logger: o.Logger, StartTimeout: 5 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			p.stop()
		}
	}()
	if p.c, err = dial(ctx, p.stack.Kubeconfig(), p.stack.MongoURI(), p.stack.TemporalAddress()); err != nil {
		return nil, err
	}
	// As `storeplatform dev` does: the indexes exist before the API and the
	// workers start, which would create them at once.
	if err := store.NewMongoRepository(p.c.db).EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	if err := auth.NewMongoTokens(p.c.db).EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	versions, err := packageVersion(o.RepoRoot, filepath.Join(o.Dir, "versions"), RolloutVersion)
	if err != nil {
		return nil, err
	}
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	p.apiURL = "http://127.0.0.1:" + strconv.Itoa(port)
	p.env = []string{
		"TEMPORAL_ADDRESS=" + p.stack.TemporalAddress(), "MONGODB_URI=" + p.stack.MongoURI(), "MONGODB_DB=" + dbName,
		"KUBECONFIG=" + p.stack.Kubeconfig(), "TEMPORAL_TASK_QUEUE=" + taskQueue,
		"CHART_DIR=" + filepath.Join(o.RepoRoot, "charts", "store"), "CHART_VERSIONS_DIR=" + versions,
		"STORE_PROFILE=local", "LOG_LEVEL=info", "LOG_FORMAT=json", "WEB_DIR=",
		"LISTEN_ADDR=127.0.0.1:" + strconv.Itoa(port), "STORE_LIMIT=100000",
	}
	if err := p.startAPI(); err != nil {
		return nil, err
	}
	for i := range workers {
		if err := p.startWorker(i); err != nil {
			return nil, err
		}
	}
	for i := range workers {
		if err := p.worker(i).WaitUp(2 * time.Minute); err != nil {
			return nil, err
		}
	}
	ok = true
	return p, nil
}

func (p *platform) bin() string { return filepath.Join(p.opts.BinDir, "storeplatform") }

func (p *platform) startAPI() error {
	c, err := childproc.Start("api", filepath.Join(p.logDir, "api.log"), "api listening", p.env, p.bin(), "api")
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.api = c
	p.mu.Unlock()
	go p.supervise(c, func() error { return p.startAPI() })
	if err := c.WaitUp(2 * time.Minute); err != nil {
		return err
	}
	return childproc.WaitHTTP(p.apiURL+"/health", time.Minute)
}

// startWorker starts worker slot i (again); its output is appended to
// worker-<i>.log.
func (p *platform) startWorker(i int) error {
	p.mu.Lock()
	p.gens[i]++
	name := fmt.Sprintf("worker-%d.%d", i+1, p.gens[i])
	p.mu.Unlock()
	c, err := childproc.Start(name, filepath.Join(p.logDir, fmt.Sprintf("worker-%d.log", i+1)), "worker polling", p.env, p.bin(), "worker")
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.workers[i] = c
	p.mu.Unlock()
	go p.supervise(c, func() error { return p.startWorker(i) })
	return nil
}

// supervise starts a process again that exited without the suite killing
// it, as a process supervisor would, and counts it.
func (p *platform) supervise(c *childproc.Process, restart func() error) {
	<-c.Done()
	p.mu.Lock()
	stopping := p.stopping
	if !stopping && !c.Killed() {
		p.unexpected = append(p.unexpected, fmt.Sprintf("%s exited by itself at %s (%v)", c.Name, time.Now().Format(time.TimeOnly), c.Cmd.ProcessState))
	}
	p.mu.Unlock()
	if stopping || c.Killed() {
		return
	}
	time.Sleep(time.Second)
	if err := restart(); err != nil {
		p.opts.Logger.Error("restart after an unexpected exit", "process", c.Name, "error", err)
	}
}

func (p *platform) worker(i int) *childproc.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.workers[i]
}

// unexpectedExits returns and forgets the unexpected exits so far.
func (p *platform) unexpectedExits() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.unexpected
	p.unexpected = nil
	return u
}

func (p *platform) stop() {
	p.mu.Lock()
	p.stopping = true
	procs := append([]*childproc.Process{p.api}, p.workers[:]...)
	p.mu.Unlock()
	for _, c := range procs {
		if c != nil {
			c.Stop(15 * time.Second)
		}
	}
	if p.c != nil {
		p.c.close()
	}
	if p.stack != nil {
		p.stack.Stop()
	}
}

// logFiles are the logs the secret scan reads: the API's and the workers'
// output, Temporal's log, and the rest of the stack's.
func (p *platform) logFiles() []string {
	files, _ := filepath.Glob(filepath.Join(p.logDir, "*.log"))
	stackLogs, _ := filepath.Glob(filepath.Join(p.stack.Dir(), "logs", "*.log"))
	return append(files, stackLogs...)
}

// packageVersion packages charts/store as version into dir, as `helm
// package` would, for CHART_VERSIONS_DIR, and returns dir.
func packageVersion(repoRoot, dir, version string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	c, err := storechart.Load(filepath.Join(repoRoot, "charts", "store"))
	if err != nil {
		return "", err
	}
	c.Metadata.Version = version
	if _, err := chartutil.Save(c, dir); err != nil {
		return "", err
	}
	return dir, nil
}
