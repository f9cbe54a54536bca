package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/harness/childproc"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// The chaos stack's platform.
const (
	// RolloutVersion is the store chart version scenario 7 rolls out: the
	// chart in charts/store packaged under this version.
	RolloutVersion = "0.4.1"
	// workers is how many `storeplatform worker` processes poll the queue.
	workers = 2
)

// conns are the suite's own clients of one stack: what it observes the
// platform through, never what the platform uses.
type conns struct{ *stack.Conns }

// dial connects the suite's clients to a platform's dependencies.
func dial(ctx context.Context, kubeconfig, mongoURI, temporalAddr string) (*conns, error) {
	c, err := stack.Dial(ctx, stack.Addrs{Kubeconfig: kubeconfig, MongoURI: mongoURI, TemporalAddress: temporalAddr, DB: config.Defaults().MongoDB},
		stack.ClientOptions{KubeTimeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	return &conns{c}, nil
}

func (c *conns) close() { c.Conns.Close() }

// token makes an API token of tenant straight in the database.
func (c *conns) token(ctx context.Context, tenant string, role auth.Role) (string, error) {
	return c.Token(ctx, tenant, role, "chaos")
}

// platform is the chaos stack: devstack's processes (FerretDB among them,
// as a process of its own) and, as child processes of the suite, one
// `storeplatform api` and two `storeplatform worker` from bin/, all of
// which the scenarios kill and start again.
type platform struct {
	opts   Options
	stack  *stack.Stack
	c      *conns
	cfg    config.Config
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
	p.stack, err = stack.StartSuite(ctx, o.Suite, 6, stack.ClientOptions{KubeTimeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			p.stop()
		}
	}()
	p.c = &conns{&p.stack.Conns}
	if p.cfg, err = p.config(); err != nil {
		return nil, err
	}
	p.apiURL = "http://" + p.cfg.ListenAddr
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

// config is the configuration of the platform's processes: the stack's,
// the chart packaged as RolloutVersion in CHART_VERSIONS_DIR, a free port
// for the API, and a store limit no scenario reaches.
func (p *platform) config() (config.Config, error) {
	cfg := p.stack.Config()
	versions, err := packageVersion(p.opts.RepoRoot, filepath.Join(p.opts.Dir, "versions"), RolloutVersion)
	if err != nil {
		return cfg, err
	}
	port, err := childproc.FreePort()
	if err != nil {
		return cfg, err
	}
	cfg.ChartVersionsDir = versions
	cfg.ListenAddr, cfg.StoreLimit = "127.0.0.1:"+strconv.Itoa(port), 100000
	return cfg, nil
}

func (p *platform) startAPI() error {
	c, err := stack.StartAPI("api", p.cfg, p.opts.BinDir, p.logDir)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.api = c
	p.mu.Unlock()
	go p.supervise(c, func() error { return p.startAPI() })
	return stack.APIReady(c, p.cfg)
}

// startWorker starts worker slot i (again); its output is appended to
// worker-<i>.log.
func (p *platform) startWorker(i int) error {
	p.mu.Lock()
	p.gens[i]++
	name := fmt.Sprintf("worker-%d.%d", i+1, p.gens[i])
	p.mu.Unlock()
	c, err := stack.StartWorker(name, fmt.Sprintf("worker-%d", i+1), p.cfg, p.opts.BinDir, p.logDir)
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
	if p.stack != nil { // and the suite's clients with it
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
