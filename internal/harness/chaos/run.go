package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
	"github.com/storeplatform/storeplatform/internal/store"
)

// Scale is the load of a run: how many stores each scenario asks for, how
// often workers are killed, how long faults last.
type Scale struct {
	// Name is "full" (make chaos) or "quick" (make test).
	Name string
	// Stores is the number of stores of each scenario, by number; a
	// scenario with none is not run.
	Stores map[int]int
	// Kills bounds the worker kills of scenarios 1 and 7 (0: kill until
	// the scenario's work is done).
	Kills int
	// KillEvery is the range of the random pause between two kills.
	KillEvery [2]time.Duration
	// KillFor bounds how long scenarios 1 and 7 go on killing (0: no
	// bound); then their stores have Deadline to settle.
	KillFor time.Duration
	// TemporalDown, APIServerDown and FerretDBDown are how long each stays
	// dead in scenarios 2, 4 and 3.
	TemporalDown, APIServerDown, FerretDBDown time.Duration
	// Deadline bounds the wait for each scenario's stores to settle, from
	// its last fault.
	Deadline time.Duration
}

// Full is the scale of `make chaos`.
var Full = Scale{
	Name:      "full",
	Stores:    map[int]int{1: 50, 2: 20, 3: 20, 4: 20, 5: 30, 6: 20, 7: 30},
	KillEvery: [2]time.Duration{3 * time.Second, 7 * time.Second}, KillFor: 4 * time.Minute,
	TemporalDown: 10 * time.Second, APIServerDown: 10 * time.Second, FerretDBDown: 30 * time.Second,
	Deadline: 6 * time.Minute,
}

// Quick is the scale of the test in `make test`: small, and only the
// scenarios that hold every time on this platform. Scenarios 4 and 7 can
// reveal bugs (docs/reliability.md: a release left pending-install, or a
// store stuck behind old pods, after a kube-apiserver crash; a 500 for a
// rollout query while a worker is dead), and scenario 6 needs ports that a
// developer's `make dev` holds: `make chaos` runs them.
var Quick = Scale{
	Name:   "quick",
	Stores: map[int]int{1: 10, 2: 5, 3: 5, 5: 6},
	Kills:  2, KillEvery: [2]time.Duration{3 * time.Second, 5 * time.Second},
	TemporalDown: 5 * time.Second, APIServerDown: 5 * time.Second, FerretDBDown: 20 * time.Second,
	Deadline: 4 * time.Minute,
}

// Options configure a run of the suite.
type Options struct {
	// Suite is the repository, bin/, the run's directory, FerretDB's
	// command (scenario 3 stops that process) and the logger.
	stack.Suite
	// Seed makes the run's choices: kill moments, victims, deletion
	// moments.
	Seed  uint64
	Scale Scale
	// Only runs just these scenarios (nil: every scenario of the scale).
	Only []int
}

// Report is the outcome of a run.
type Report struct {
	Seed    uint64
	Scale   string
	Started time.Time
	Elapsed time.Duration
	Results []*Result
	// Machine describes where it ran: architecture, cores, Go, load.
	Machine Machine
}

// Held reports whether every scenario that ran held every invariant.
func (r *Report) Held() bool {
	for _, res := range r.Results {
		if res.NotRun == "" && !res.Held() {
			return false
		}
	}
	return true
}

// suite is one run over the shared chaos stack.
type suite struct {
	opts Options
	log  *slog.Logger
	rng  *rand.Rand
	p    *platform
	api  *apiclient.Client
	sw   *secretWatch
	// reported holds the orphans that earlier checks already counted.
	reported map[string]bool
	// owners maps each credential value to the store that owns it, for the
	// log scan at the end.
	owners   map[string]string
	tokensMu sync.Mutex
	tokens   map[string]string
}

// Run runs the scenarios of o.Scale (scenario 6 on a `storeplatform-dev`
// of its own, the others on one shared chaos stack) and returns their
// results in the order of their numbers. An error means the suite itself
// could not run (no stack), not that an invariant failed.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	rep := &Report{Seed: o.Seed, Scale: o.Scale.Name, Started: time.Now(), Machine: machine(o.RepoRoot, o.BinDir)}
	want := func(n int) bool {
		return o.Scale.Stores[n] > 0 && (o.Only == nil || slices.Contains(o.Only, n))
	}
	s := &suite{opts: o, log: o.Logger, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed)), reported: map[string]bool{},
		owners: map[string]string{}, tokens: map[string]string{}}
	shared := []int{1, 2, 3, 4, 5, 7}
	if slices.ContainsFunc(shared, want) {
		s.log.Info("starting the chaos stack", "dir", o.Dir)
		t0 := time.Now()
		p, err := startPlatform(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("chaos stack: %w", err)
		}
		s.p, s.api, s.sw = p, apiclient.New(p.apiURL, apiclient.Options{}), newSecretWatch(p.c)
		wctx, stopWatch := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() { s.sw.run(wctx, 500*time.Millisecond); close(watched) }()
		s.log.Info("chaos stack ready", "elapsed", time.Since(t0).Round(time.Second), "api", p.apiURL,
			"temporal", p.stack.TemporalAddress(), "mongodb", p.stack.MongoURI())
		for _, n := range shared {
			if !want(n) {
				continue
			}
			res := s.run(ctx, n)
			rep.Results = append(rep.Results, res)
		}
		stopWatch()
		<-watched
		s.scanLogs(rep.Results, p.logFiles(), []string{filepath.Join(p.stack.Dir(), "temporal.db")})
		p.stop()
	}
	if want(6) {
		t0 := time.Now()
		res := s.powerLoss(ctx)
		res.Elapsed = time.Since(t0)
		rep.Results = append(rep.Results, res)
	}
	slices.SortFunc(rep.Results, func(a, b *Result) int { return a.N - b.N })
	rep.Elapsed = time.Since(rep.Started)
	rep.Machine.LoadAfter = loadAverage()
	return rep, nil
}

// run runs shared scenario n, timing it and catching a panic of the suite
// as a failed scenario rather than a lost run.
func (s *suite) run(ctx context.Context, n int) (res *Result) {
	t0 := time.Now()
	s.log.Info(fmt.Sprintf("scenario %d: %s", n, scenarioNames[n]))
	defer func() {
		if r := recover(); r != nil {
			res = &Result{N: n, Name: scenarioNames[n]}
			res.fail("the suite panicked: %v", r)
		}
		res.Elapsed = time.Since(t0)
		res.Unexpected = append(res.Unexpected, s.p.unexpectedExits()...)
		s.log.Info(fmt.Sprintf("scenario %d done", n), "held", res.Held(), "elapsed", res.Elapsed.Round(time.Second),
			"ready", res.Ready, "lost", res.Lost, "failures", len(res.Failures))
		for _, f := range firstN(res.Failures, 10) {
			s.log.Warn(fmt.Sprintf("scenario %d: %s", n, f))
		}
	}()
	switch n {
	case 1:
		return s.workerKills(ctx)
	case 2:
		return s.componentRestart(ctx, 2)
	case 3:
		return s.ferretOutage(ctx)
	case 4:
		return s.componentRestart(ctx, 4)
	case 5:
		return s.createDeleteRaces(ctx)
	case 7:
		return s.rollout(ctx)
	}
	return &Result{N: n, Name: scenarioNames[n], NotRun: "unknown scenario"}
}

// token is the API token of tenant on the shared stack, made once.
func (s *suite) token(ctx context.Context, tenant string, role auth.Role) (string, error) {
	s.tokensMu.Lock()
	defer s.tokensMu.Unlock()
	if t, ok := s.tokens[tenant]; ok {
		return t, nil
	}
	t, err := s.p.c.token(ctx, tenant, role)
	if err == nil {
		s.tokens[tenant] = t
	}
	return t, err
}

// storeNames are n fresh store names for scenario sc.
func storeNames(sc, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("s%d-%03d", sc, i+1)
	}
	return out
}

// wantAll expects every store of names to end in phase.
func wantAll(names []string, phase store.Phase) map[string]store.Phase {
	m := make(map[string]store.Phase, len(names))
	for _, n := range names {
		m[n] = phase
	}
	return m
}

// between is a random duration in [lo, hi).
func (s *suite) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

func firstN[T any](xs []T, n int) []T {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// mkdir makes dir and returns it.
func mkdir(dir string) (string, error) { return dir, os.MkdirAll(dir, 0o755) }
