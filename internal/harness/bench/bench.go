// Package bench is `make bench` (issue #13): on a local stack of its own it
// measures the platform side by side with the tools it replaces — the helm
// CLI (namespace, Secret and `helm install --wait` of the same chart and
// values) and the cluster's floor (the same rendered manifests applied
// straight through client-go and watched until ready) — and the API on the
// embedded store, and reports each figure with its ratio. cmd/bench wires
// it; TestBenchSmoke runs it small, without peers, in `make test`.
//
// Figures are printed, never asserted: timings depend on the machine.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// Options configure a run. Zero sizes take the defaults of `make bench`.
type Options struct {
	// Suite is the repository, bin/ (storeplatform, helm, the stack's), the
	// run's directory (its stack, logs and values files), FerretDB's
	// command and the logger.
	stack.Suite
	// Stores is the size of the at-once rows (default 100); Single how many
	// times one store is timed (default 3, the median is reported);
	// Sequential how many stores of the sequential flow are timed (default
	// 10; the estimate for Stores is scaled from them).
	Stores, Single, Sequential int
	// Peers runs the helm CLI's and the floor's rows, and the sequential
	// flow (which uses the helm CLI).
	Peers bool
	// API runs the API's rows; PostRequests from PostClients clients
	// (default 500 from 50) of a tenant each, PostOneTenantRequests
	// (default 50) from as many clients of one tenant, ListTenant records
	// of one tenant among ListTotal (default 1,000 of 10,000) listed
	// ListRequests times (default 200, or as many as a minute allows, at
	// least 20), Streams open event streams compared with one (default 50).
	API                                 bool
	PostRequests, PostClients           int
	PostOneTenantRequests               int
	ListTenant, ListTotal, ListRequests int
	Streams                             int
	StreamWindow                        time.Duration
	// ProfilePath, when set, is where the worker's CPU profile of the
	// at-once creation is written (ProfileSeconds long, default 60).
	ProfilePath    string
	ProfileSeconds int
	// Timeout bounds each wait for stores (default 15 minutes).
	Timeout time.Duration
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Stores, 100)
	def(&o.Single, 3)
	def(&o.Sequential, 10)
	def(&o.PostRequests, 500)
	def(&o.PostClients, 50)
	def(&o.PostOneTenantRequests, 50)
	def(&o.ListTenant, 1000)
	def(&o.ListTotal, 10000)
	def(&o.ListRequests, 200)
	def(&o.Streams, 50)
	def(&o.ProfileSeconds, 60)
	if o.StreamWindow == 0 {
		o.StreamWindow = 10 * time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Report is what a run measured. A slice left empty is a row not run.
type Report struct {
	Started time.Time
	Elapsed time.Duration
	Machine string
	// Cores is how many CPUs the machine has.
	Cores int
	// LoadBefore and LoadAfter are the 1, 5 and 15 minute load averages
	// at the start and the end: anything else running skews the figures.
	LoadBefore, LoadAfter string
	Versions              string
	Options               Options

	// One holds the single store's times, request to ready.
	OnePlatform, OneHelm []time.Duration
	// Create* are each store's time to ready in the at-once creation,
	// from the common start; PostsAnswered is when the last POST of the
	// platform's was answered.
	CreatePlatform, CreateHelm, CreateFloor []time.Duration
	PostsAnswered                           time.Duration
	// Delete* are each store's time until its namespace was gone (and,
	// for the platform, its record deleted). The floor's is a plain
	// namespace deletion.
	DeletePlatform, DeleteHelm, DeleteFloor []time.Duration
	// SequentialN stores one after another took SequentialTotal.
	SequentialN     int
	SequentialTotal time.Duration
	// Post and List are the API's latencies; EventFinds the MongoDB finds
	// per second with 1 and with Options.Streams event streams.
	// PostOneTenant is Post with every client of one tenant: concurrent
	// creates of a tenant race for the same free slot of its STORE_LIMIT.
	Post, PostOneTenant, List latencies
	// PostUse is the CPU of every process from Post's first request until
	// the workflows of its stores were all started.
	PostUse APIUse
	// ListFloor is what the embedded store alone takes for List's page:
	// its query, and as many reads by _id, one after another.
	ListFloor  ListFloor
	EventFinds []float64
	// CPU is the CPU time of each process during the platform's at-once
	// creation (api, worker and every process of the stack: APIUse's);
	// WorkerPeakRSS the worker's peak resident set then.
	CPU           map[string]time.Duration
	WorkerPeakRSS int64
	// APIUse is what each at-once creation cost kube-apiserver, by who
	// created ("platform", "helm CLI", "floor").
	APIUse map[string]APIUse
	// ProfileTop is `go tool pprof -top -cum` of the worker's profile.
	ProfileTop string
	// Problems are the rows that could not be measured, and why.
	Problems []string
}

// Run starts a stack in o.Dir, runs the rows and stops the stack. A row
// that fails is named in Report.Problems and the others still run; the
// error is for a run that could not start.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	r := &Report{Started: time.Now().UTC(), Options: o, CPU: map[string]time.Duration{}, APIUse: map[string]APIUse{}}
	r.Machine, r.Cores = machine(), runtime.NumCPU()
	r.LoadBefore = loadAverage()
	log := o.Logger
	log.Info("starting the bench stack", "dir", o.Dir, "nodes", nodesFor(o.Stores))
	e, err := startEnv(ctx, o)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	r.Versions = e.versions(ctx)
	c := apiclient.New(e.apiURL, apiclient.Options{Timeout: 3 * time.Minute, MaxIdleConns: 200, Limit: 16 << 20})
	fail := func(row string, err error) {
		log.Error("row not measured", "row", row, "error", err)
		r.Problems = append(r.Problems, row+": "+err.Error())
	}

	e.runOne(ctx, c, r, fail)
	e.runAtOnce(ctx, c, r, fail)
	if o.Peers {
		e.runPeers(ctx, r, fail)
	}
	if o.API {
		e.runAPI(ctx, c, r, fail)
	}
	r.Elapsed = time.Since(r.Started)
	r.LoadAfter = loadAverage()
	return r, ctx.Err()
}

// runOne times one store, o.Single times each: the platform, then the
// helm CLI; each is removed again before the next.
func (e *env) runOne(ctx context.Context, c *apiclient.Client, r *Report, fail func(string, error)) {
	log := e.o.Logger
	for i := range e.o.Single {
		name := fmt.Sprintf("one-p%d", i+1)
		d, err := e.platformOne(ctx, c, name)
		if err != nil {
			fail("one store (platform)", err)
			return
		}
		log.Info("one store ready (platform)", "store", name, "seconds", d.Seconds())
		r.OnePlatform = append(r.OnePlatform, d)
		if _, err := e.platformDelete(ctx, c, []string{name}, []string{e.adminTok}); err != nil {
			fail("one store (platform, clean-up)", err)
			return
		}
		if !e.o.Peers {
			continue
		}
		spec := e.specFor(fmt.Sprintf("one-h%d", i+1), "bench")
		if d, err = e.helmOne(ctx, spec); err != nil {
			fail("one store (helm CLI)", err)
			return
		}
		log.Info("one store ready (helm CLI)", "store", spec.Name, "seconds", d.Seconds())
		r.OneHelm = append(r.OneHelm, d)
		if _, err := e.helmDelete(ctx, []store.Spec{spec}); err != nil {
			fail("one store (helm CLI, clean-up)", err)
			return
		}
	}
}

// runAtOnce creates o.Stores stores at once through the API, with the CPU
// of the processes and the worker's profile and peak memory, then deletes
// them at once.
func (e *env) runAtOnce(ctx context.Context, c *apiclient.Client, r *Report, fail func(string, error)) {
	log := e.o.Logger
	n := e.o.Stores
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("p%03d", i+1)
	}
	// A tenant each: the stores of one tenant would first race for its
	// STORE_LIMIT slots (the POST rows show what that costs).
	toks, err := e.tenantTokens(ctx, "bench", n)
	if err != nil {
		fail("stores at once (platform)", err)
		return
	}
	resetPeakRSS(e.worker.PID())
	profiled := make(chan error, 1)
	if e.o.ProfilePath != "" {
		go func() { profiled <- fetchProfile(ctx, e.pprofURL, e.o.ProfileSeconds, e.o.ProfilePath) }()
	} else {
		profiled <- nil
	}
	am := e.startAPIMeter(ctx, map[string]int{"api": e.api.PID(), "worker": e.worker.PID()})
	log.Info("creating stores at once (platform)", "stores", n)
	times, answered, err := e.platformCreate(ctx, c, names, toks)
	r.APIUse[peerPlatform] = am.stop(ctx)
	r.CPU = r.APIUse[peerPlatform].CPU
	if rss, err := peakRSS(e.worker.PID()); err == nil {
		r.WorkerPeakRSS = rss
	}
	if err != nil {
		fail("stores at once (platform)", err)
	} else {
		r.CreatePlatform, r.PostsAnswered = times, answered
		log.Info("stores ready (platform)", "stores", n, "seconds", slowest(times).Seconds(), "posts_answered", answered.Seconds())
	}
	if perr := <-profiled; perr != nil {
		fail("worker CPU profile", perr)
	} else if e.o.ProfilePath != "" {
		top, terr := profileTop(ctx, filepath.Join(e.o.BinDir, "storeplatform"), e.o.ProfilePath, 30)
		if terr != nil {
			fail("worker CPU profile (top)", terr)
		}
		r.ProfileTop = top
	}
	if err != nil {
		return
	}
	log.Info("deleting stores at once (platform)", "stores", n)
	if r.DeletePlatform, err = e.platformDelete(ctx, c, names, toks); err != nil {
		fail("deletions at once (platform)", err)
		return
	}
	log.Info("stores deleted (platform)", "stores", n, "seconds", slowest(r.DeletePlatform).Seconds())
}

// runPeers runs the helm CLI's and the floor's at-once rows and the
// sequential flow, each set of stores removed before the next.
func (e *env) runPeers(ctx context.Context, r *Report, fail func(string, error)) {
	log := e.o.Logger
	specs := func(prefix string, n int) []store.Spec {
		out := make([]store.Spec, n)
		for i := range out {
			out[i] = e.specFor(fmt.Sprintf("%s%03d", prefix, i+1), "bench")
		}
		return out
	}
	var err error
	hs := specs("h", e.o.Stores)
	log.Info("creating stores at once (helm CLI)", "stores", len(hs))
	am := e.startAPIMeter(ctx, nil)
	r.CreateHelm, err = e.helmCreate(ctx, hs)
	r.APIUse[peerHelm] = am.stop(ctx)
	if err != nil {
		r.CreateHelm = nil
		fail("stores at once (helm CLI)", err)
	} else {
		log.Info("stores ready (helm CLI)", "seconds", slowest(r.CreateHelm).Seconds())
	}
	if r.DeleteHelm, err = e.helmDelete(ctx, hs); err != nil {
		fail("deletions at once (helm CLI)", err)
	} else {
		log.Info("stores deleted (helm CLI)", "seconds", slowest(r.DeleteHelm).Seconds())
	}
	fs := specs("f", e.o.Stores)
	log.Info("creating stores at once (floor)", "stores", len(fs))
	am = e.startAPIMeter(ctx, nil)
	r.CreateFloor, err = e.floorCreate(ctx, fs)
	r.APIUse[peerFloor] = am.stop(ctx)
	if err != nil {
		fail("stores at once (floor)", err)
	} else {
		log.Info("stores ready (floor)", "seconds", slowest(r.CreateFloor).Seconds())
	}
	if r.DeleteFloor, err = e.deleteNamespaces(ctx, fs); err != nil {
		fail("deletions at once (floor)", err)
	} else {
		log.Info("namespaces deleted (floor)", "seconds", slowest(r.DeleteFloor).Seconds())
	}
	ss := specs("s", e.o.Sequential)
	log.Info("stores one after another (record, then helm install --wait)", "stores", len(ss))
	if r.SequentialTotal, err = e.sequential(ctx, ss); err != nil {
		fail("sequential flow", err)
	} else {
		r.SequentialN = len(ss)
		log.Info("sequential flow done", "stores", len(ss), "seconds", r.SequentialTotal.Seconds())
	}
	if _, err := e.helmDelete(ctx, ss); err != nil {
		fail("sequential flow (clean-up)", err)
	}
}

// runAPI measures the API on the embedded store. The worker is stopped
// first: the POSTs request stores whose workflows then wait in the queue.
func (e *env) runAPI(ctx context.Context, c *apiclient.Client, r *Report, fail func(string, error)) {
	log := e.o.Logger
	o := e.o
	e.worker.Stop(15 * time.Second)
	var err error
	log.Info("timing POST /api/stores, a tenant per client", "requests", o.PostRequests, "clients", o.PostClients)
	done := e.postMeter(ctx)
	if r.Post, err = e.postLatency(ctx, c, "", o.PostClients, o.PostRequests); err != nil {
		fail("POST /api/stores (a tenant per client)", err)
	} else {
		r.PostUse = done(r.Post.statuses[http.StatusAccepted])
	}
	log.Info("timing POST /api/stores, one tenant", "requests", o.PostOneTenantRequests, "clients", o.PostClients)
	if r.PostOneTenant, err = e.postLatency(ctx, c, "bench-post-one", o.PostClients, o.PostOneTenantRequests); err != nil {
		fail("POST /api/stores (one tenant)", err)
	}
	const tenant = "bench-list"
	// The streams are counted before the 10,000 records go in: with them,
	// each read of the shared change feed takes about a second on the
	// embedded store (the GET rows show what reading them costs), and the
	// row would count slow reads, not how many there are.
	log.Info("counting MongoDB finds of event streams", "streams", []int{1, o.Streams})
	if r.EventFinds, err = e.eventQueries(ctx, tenant, []int{1, o.Streams}, o.StreamWindow); err != nil {
		r.EventFinds = nil
		fail("event streams", err)
	}
	log.Info("inserting records", "tenant", o.ListTenant, "total", o.ListTotal)
	if err := e.fillRecords(ctx, tenant, o.ListTenant, o.ListTotal); err != nil {
		fail("GET /api/stores (records)", err)
		return
	}
	log.Info("timing GET /api/stores", "requests", o.ListRequests)
	if r.List, err = e.listLatency(ctx, c, tenant, o.ListRequests, time.Minute); err != nil {
		fail("GET /api/stores", err)
	}
	log.Info("timing the embedded store's floor for that page")
	if r.ListFloor, err = e.listFloor(ctx, tenant, 20); err != nil {
		fail("GET /api/stores (the embedded store's floor)", err)
	}
}

// versions names the helm CLI's version, the store chart's and the
// repository's commit.
func (e *env) versions(ctx context.Context) string {
	helm := "unknown"
	cmd := exec.CommandContext(ctx, filepath.Join(e.o.BinDir, "helm"), "version", "--short")
	cmd.Env = append(os.Environ(), e.helmEnv...)
	if out, err := cmd.Output(); err == nil {
		helm = strings.TrimSpace(string(out))
	}
	chart := "unknown"
	if c, err := storechart.Load(e.chartDir); err == nil {
		chart = c.Metadata.Version
	}
	return fmt.Sprintf("helm CLI %s, store chart %s, %s", helm, chart, commit(e.o.RepoRoot))
}

// machine is "N cores, <kernel>, <go version>".
func machine() string {
	kernel := runtime.GOOS
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		kernel = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%d cores, %s, %s", runtime.NumCPU(), kernel, runtime.Version())
}

// commit is "commit <short hash>" of the repository, "+ changes" when its
// tree differs from it.
func commit(repoRoot string) string {
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		return "commit unknown"
	}
	s := "commit " + strings.TrimSpace(string(out))
	cmd = exec.Command("git", "status", "--porcelain", "--untracked-files=no")
	cmd.Dir = repoRoot
	if out, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		s += " (with uncommitted changes)"
	}
	return s
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func slowest(ts []time.Duration) time.Duration {
	var m time.Duration
	for _, t := range ts {
		m = max(m, t)
	}
	return m
}
