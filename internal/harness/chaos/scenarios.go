package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	sdkclient "go.temporal.io/sdk/client"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// scenarioNames are the scenarios of issue #12, by number.
var scenarioNames = map[int]string{
	1: "Workers SIGKILLed during creates",
	2: "Temporal server killed and restarted",
	3: "FerretDB (MongoDB) stopped for a while",
	4: "kube-apiserver killed and restarted",
	5: "Create/delete races",
	6: "Power loss: storeplatform-dev SIGKILLed with its stack",
	7: "Changes and a fleet rollout with workers SIGKILLed",
}

// submit asks the API for the stores names at once, perTenant stores to a
// tenant (each token has its own rate limit), and returns when it started.
// A request that is not accepted fails the scenario.
func (s *suite) submit(ctx context.Context, res *Result, prefix string, names []string, perTenant int) time.Time {
	toks := make([]string, (len(names)+perTenant-1)/perTenant)
	for i := range toks {
		t, err := s.token(ctx, fmt.Sprintf("%s-t%d", prefix, i+1), auth.RoleTenant)
		if err != nil {
			res.fail("token: %v", err)
			return time.Now()
		}
		toks[i] = t
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, name := range names {
		wg.Go(func() {
			a, err := s.api.CreateStore(ctx, toks[i/perTenant], "Chaos", name)
			if err != nil || a.Status != http.StatusAccepted {
				mu.Lock()
				res.fail("POST /api/stores %s: %d %v %.200s", name, a.Status, err, a.Body)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	s.log.Info(fmt.Sprintf("scenario %d: %d stores requested", res.N, len(names)), "in", took.Round(time.Millisecond))
	res.note("the API accepted the %d creates in %s", len(names), fmtDur(took))
	return start
}

// settledCount reads the records and counts the stores of want that have
// settled, and those ready.
func (s *suite) settledCount(ctx context.Context, c *conns, want map[string]store.Phase) (settledN, ready int, recs map[string]store.Record) {
	recs, err := c.records(ctx, sortedKeys(want))
	if err != nil {
		return 0, 0, nil
	}
	for n, w := range want {
		if r, ok := recs[n]; ok {
			if settled(r.Phase, w) {
				settledN++
			}
			if r.Phase == store.PhaseReady {
				ready++
			}
		}
	}
	return settledN, ready, recs
}

// waitMidRun waits until a quarter of want's stores are ready, or at most
// limit: the moment a fault is injected "mid-run". It returns the ready
// count then.
func (s *suite) waitMidRun(ctx context.Context, c *conns, want map[string]store.Phase, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		_, ready, _ := s.settledCount(ctx, c, want)
		if ready*4 >= len(want) || time.Now().After(deadline) || ctx.Err() != nil {
			return ready
		}
		apiclient.Sleep(ctx, 250*time.Millisecond)
	}
}

// waitInstalls waits, for at most limit, until an eighth of want's stores
// (at least one) are ready while InstallRelease activities run (Helm
// installs whose objects and release records the apiserver is writing;
// early in the run they are mostly creating objects, later also recording
// releases), and returns the ready count and the installs running then.
// (A quarter was too late once stores got faster: every install had ended
// by then.)
func (s *suite) waitInstalls(ctx context.Context, want map[string]store.Phase, limit time.Duration) (ready, installs int) {
	deadline := time.Now().Add(limit)
	var ids []string
	for _, n := range sortedKeys(want) {
		ids = append(ids, workflows.CreateWorkflowID(n, 1))
	}
	for {
		installs = 0
		for _, pa := range describeAll(ctx, s.p.c, ids) {
			if pa.started && pa.kind == "InstallRelease" {
				installs++
			}
		}
		_, ready, _ = s.settledCount(ctx, s.p.c, want)
		if (installs > 0 && ready > 0 && ready*8 >= len(want)) || time.Now().After(deadline) || ctx.Err() != nil {
			return ready, installs
		}
		apiclient.Sleep(ctx, 100*time.Millisecond)
	}
}

// unsettled lists the workflow IDs (id of a record) of want's stores that
// have not settled, for the killer to look at.
func (s *suite) unsettled(ctx context.Context, want map[string]store.Phase, id func(store.Record) []string) func() []string {
	return func() []string {
		recs, err := s.p.c.records(ctx, sortedKeys(want))
		if err != nil {
			return nil
		}
		var out []string
		for n, w := range want {
			r, ok := recs[n]
			if !ok {
				out = append(out, workflows.CreateWorkflowID(n, 1))
				continue
			}
			if !settled(r.Phase, w) || r.Operation != nil {
				out = append(out, id(r)...)
			}
		}
		return out
	}
}

// finish waits for want's stores to settle, then checks every invariant
// and records the API's answers.
func (s *suite) finish(ctx context.Context, res *Result, want map[string]store.Phase, start, deadline time.Time) {
	recs := waitSettled(ctx, s.p.c, want, deadline, s.log, fmt.Sprintf("scenario %d", res.N))
	res.Requested = len(want)
	res.TimeToAll = timeToAll(recs, want, start)
	res.ReadyTimes = perStoreTimes(recs, start)
	s.sw.poll(ctx)
	s.judge(ctx, res, s.p.c, s.sw, want, s.reported)
	res.API, res.APIBad = s.api.TakeStats()
	for _, b := range res.APIBad {
		res.fail("API: %s", b)
	}
}

// judge snapshots the cluster (retrying while a part of the stack is still
// coming back) and applies the invariants; reported holds the orphans of
// this stack that earlier checks counted.
func (s *suite) judge(ctx context.Context, res *Result, c *conns, sw *secretWatch, want map[string]store.Phase, reported map[string]bool) {
	var (
		cl  *cluster
		err error
	)
	for range 10 {
		if cl, err = c.snapshot(ctx); err == nil {
			break
		}
		apiclient.Sleep(ctx, 3*time.Second)
	}
	if err != nil {
		res.fail("cannot read the cluster to check the invariants: %v", err)
		return
	}
	v := check(cl, sw, want, reported)
	failures := append(res.Failures, v.Failures...)
	res.verdict = v
	res.Failures = failures
}

// timeToAll is the time from start until the last store of want reached
// its phase (its ready_at or deleted_at), or 0 when one did not.
func timeToAll(recs map[string]store.Record, want map[string]store.Phase, start time.Time) time.Duration {
	var last time.Time
	for n, w := range want {
		r, ok := recs[n]
		if !ok || r.Phase != w {
			return 0
		}
		at := r.UpdatedAt
		switch {
		case w == store.PhaseReady && r.ReadyAt != nil:
			at = *r.ReadyAt
		case w == store.PhaseDeleted && r.DeletedAt != nil:
			at = *r.DeletedAt
		}
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(start)
}

// perStoreTimes is each ready store's time from start to ready, sorted.
func perStoreTimes(recs map[string]store.Record, start time.Time) []time.Duration {
	var out []time.Duration
	for _, r := range recs {
		if r.ReadyAt != nil {
			out = append(out, r.ReadyAt.Sub(start))
		}
	}
	slices.Sort(out)
	return out
}

// killLoop kills a worker every KillEvery until stop is closed, done says
// the work is over, the scale's kill budget is spent, or KillFor has
// passed; it reports whether it stopped because KillFor passed.
func (s *suite) killLoop(ctx context.Context, k *killer, stop <-chan struct{}, done func() bool) (outlasted bool) {
	begin := time.Now()
	for ctx.Err() == nil {
		if s.opts.Scale.Kills > 0 && k.count() >= s.opts.Scale.Kills {
			return false
		}
		select {
		case <-stop:
			return false
		case <-time.After(s.between(s.opts.Scale.KillEvery[0], s.opts.Scale.KillEvery[1])):
		}
		if done() {
			return false
		}
		if kf := s.opts.Scale.KillFor; kf > 0 && time.Since(begin) > kf {
			return true
		}
		k.killOnce(ctx)
	}
	return false
}

// recoveryFigures writes the killer's figures to res.
func recoveryFigures(res *Result, k *killer) {
	fromUp, fromKill, stuck := k.recoveries()
	res.Kills = k.count()
	res.RecoveryFromUp, res.RecoveryFromKill, res.RecoveryStuck = fromUp, fromKill, stuck
	res.Faults = k.summary()
	if by := k.recoveriesByType(); len(by) > 0 {
		var parts []string
		for _, kind := range sortedKeys(by) {
			parts = append(parts, fmt.Sprintf("%s ×%d max %s", kind, len(by[kind]), fmtDur(slices.Max(by[kind]))))
		}
		res.note("from the kill until an interrupted activity moved again, by activity: %s", strings.Join(parts, ", "))
	}
	if d := k.replacementDelays(); len(d) > 0 {
		res.note("a new worker polled %s (median; max %s) after each kill", fmtDur(median(d)), fmtDur(slices.Max(d)))
	}
}

// workerKills is scenario 1: stores requested at once, a worker SIGKILLed
// every few seconds (each time at another activity where possible) and
// started again at once, until every store is ready.
func (s *suite) workerKills(ctx context.Context) *Result {
	n := s.opts.Scale.Stores[1]
	res := &Result{N: 1, Name: scenarioNames[1], Load: fmt.Sprintf("%d creates at once through the API", n)}
	names := storeNames(1, n)
	want := wantAll(names, store.PhaseReady)
	start := s.submit(ctx, res, "s1", names, 10)
	k := newKiller(s.p, s.rng, s.log, "scenario 1", s.unsettled(ctx, want, func(r store.Record) []string {
		return []string{workflows.CreateWorkflowID(r.Name, r.Generation)}
	}))
	if s.killLoop(ctx, k, nil, func() bool {
		settledN, _, _ := s.settledCount(ctx, s.p.c, want)
		return settledN == len(want)
	}) {
		_, ready, _ := s.settledCount(ctx, s.p.c, want)
		res.note("the kills stopped after %s, with %d/%d stores ready", fmtDur(s.opts.Scale.KillFor), ready, n)
	}
	// The stores have Deadline after the last fault to settle.
	s.finish(ctx, res, want, start, time.Now().Add(s.opts.Scale.Deadline))
	k.wait()
	recoveryFigures(res, k)
	if recs, err := s.p.c.records(ctx, names); err == nil {
		if t := perStoreTimes(recs, start); len(t) > 0 {
			res.note("per store, request to ready: median %s, max %s", fmtDur(median(t)), fmtDur(slices.Max(t)))
		}
	}
	return res
}

// componentRestart is scenarios 2 (Temporal) and 4 (kube-apiserver): the
// process is SIGKILLed when a quarter of the stores are ready, stays dead
// for a while, and is started again on its data (Temporal's SQLite file,
// etcd).
func (s *suite) componentRestart(ctx context.Context, n int) *Result {
	proc, down, what := devstack.ProcTemporal, s.opts.Scale.TemporalDown, "the Temporal dev server"
	if n == 4 {
		proc, down, what = devstack.ProcKubeAPIServer, s.opts.Scale.APIServerDown, "kube-apiserver"
	}
	count := s.opts.Scale.Stores[n]
	res := &Result{N: n, Name: scenarioNames[n], Load: fmt.Sprintf("%d creates at once through the API", count)}
	names := storeNames(n, count)
	want := wantAll(names, store.PhaseReady)
	start := s.submit(ctx, res, fmt.Sprintf("s%d", n), names, 10)
	deadline := start.Add(s.opts.Scale.Deadline)
	moment := ""
	var ready int
	if n == 4 {
		// The moment that tests most: Helm installs in flight mid-run.
		var installs int
		ready, installs = s.waitInstalls(ctx, want, 30*time.Second)
		moment = fmt.Sprintf(" with %d Helm installs running", installs)
	} else {
		ready = s.waitMidRun(ctx, s.p.c, want, 30*time.Second)
	}
	killedAt := time.Now()
	if err := s.p.stack.Kill(proc); err != nil {
		res.fail("kill %s: %v", proc, err)
		return res
	}
	s.log.Info(fmt.Sprintf("scenario %d: SIGKILLed %s", n, what), "ready", ready, "of", count)
	apiclient.Sleep(ctx, down)
	if err := s.p.stack.Restart(proc); err != nil {
		res.fail("restart %s: %v", proc, err)
		return res
	}
	back, err := s.waitComponent(ctx, proc)
	if err != nil {
		res.fail("%s not back: %v", what, err)
	}
	res.Faults = fmt.Sprintf("%s SIGKILLed when %d/%d were ready%s, started again %s later on the same data; answering %s after its restart",
		what, ready, count, moment, fmtDur(down), fmtDur(back.Sub(killedAt)-down))
	s.restartDead(res)
	first := s.firstProgress(ctx, s.p.c, names, back)
	s.finish(ctx, res, want, start, deadline)
	res.Recovery = recoverySince(first, back, res, start)
	return res
}

// waitComponent waits until a restarted part of the stack answers again
// and returns when it did.
func (s *suite) waitComponent(ctx context.Context, proc string) (time.Time, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		var err error
		switch proc {
		case devstack.ProcTemporal:
			_, err = s.p.c.Temporal.CheckHealth(cctx, &sdkclient.CheckHealthRequest{})
		case devstack.ProcKubeAPIServer:
			err = deps.KubeReady(cctx, s.p.c.Kube)
		case devstack.ProcFerretDB:
			err = s.p.c.Mongo.Ping(cctx, nil)
		}
		cancel()
		if err == nil {
			return time.Now(), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Now(), err
		}
		apiclient.Sleep(ctx, 200*time.Millisecond)
	}
}

// restartDead starts again, as a supervisor would, any part of the stack
// that died because another part was killed, and notes it.
func (s *suite) restartDead(res *Result) {
	for _, proc := range []string{devstack.ProcEtcd, devstack.ProcKubeAPIServer, devstack.ProcControllerManager,
		devstack.ProcScheduler, devstack.ProcKwok, devstack.ProcTemporal, devstack.ProcFerretDB} {
		if s.p.stack.PID(proc) == 0 || s.p.stack.Running(proc) {
			continue
		}
		res.Unexpected = append(res.Unexpected, proc+" exited by itself and was started again")
		if err := s.p.stack.Restart(proc); err != nil {
			res.fail("restart %s: %v", proc, err)
		}
	}
}

// firstProgress is when any of names' records first changed after since
// (phase, message or update time) or appeared, polling for up to two
// minutes or until ctx ends (zero: none did). When every one of names is
// there and ready at the start, no store was waiting: zero at once.
func (s *suite) firstProgress(ctx context.Context, c *conns, names []string, since time.Time) time.Time {
	key := func(r store.Record) string { return fmt.Sprint(r.Phase, r.Message, r.UpdatedAt.UnixNano()) }
	var base map[string]string
	deadline := since.Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		recs, err := c.records(ctx, names)
		if err != nil {
			apiclient.Sleep(ctx, 250*time.Millisecond)
			continue
		}
		if base == nil {
			base = map[string]string{}
			for n, r := range recs {
				base[n] = key(r)
			}
			if len(recs) == len(names) && allReady(recs) {
				return time.Time{}
			}
		} else {
			for n, r := range recs {
				if k, ok := base[n]; !ok || k != key(r) {
					return time.Now()
				}
			}
		}
		apiclient.Sleep(ctx, 250*time.Millisecond)
	}
	return time.Time{}
}

func allReady(recs map[string]store.Record) bool {
	for _, r := range recs {
		if r.Phase != store.PhaseReady {
			return false
		}
	}
	return true
}

// recoverySince renders "first store moved 2.1 s after X answered again;
// the last was ready 30 s after".
func recoverySince(first, back time.Time, res *Result, start time.Time) string {
	out := "no store was waiting when it came back"
	if !first.IsZero() {
		out = fmt.Sprintf("a store moved again %s after the restart answered", fmtDur(first.Sub(back)))
	}
	if res.TimeToAll > 0 {
		out += fmt.Sprintf("; the last was ready %s after", fmtDur(start.Add(res.TimeToAll).Sub(back)))
	}
	return out
}

// ferretOutage is scenario 3: FerretDB is SIGKILLed mid-run and stays down
// for FerretDBDown while the API is asked to list, read and create stores;
// then it is started again on its SQLite files.
func (s *suite) ferretOutage(ctx context.Context) *Result {
	count := s.opts.Scale.Stores[3]
	res := &Result{N: 3, Name: scenarioNames[3], Load: fmt.Sprintf("%d creates at once through the API, and requests while FerretDB is down", count)}
	names := storeNames(3, count)
	want := wantAll(names, store.PhaseReady)
	start := s.submit(ctx, res, "s3", names, 10)
	deadline := start.Add(s.opts.Scale.Deadline)
	tok, err := s.token(ctx, "s3-t1", auth.RoleTenant)
	if err != nil {
		res.fail("token: %v", err)
		return res
	}
	ready := s.waitMidRun(ctx, s.p.c, want, 30*time.Second)
	down := s.opts.Scale.FerretDBDown
	if err := s.p.stack.Kill(devstack.ProcFerretDB); err != nil {
		res.fail("kill ferretdb: %v", err)
		return res
	}
	killedAt := time.Now()
	s.log.Info("scenario 3: SIGKILLed FerretDB", "ready", ready, "of", count)
	probe := apiclient.New(s.p.apiURL, apiclient.Options{})
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		answers   []probeAnswer
		during    []string
		attempted []string // every store the probes asked for
	)
	for i := 0; time.Since(killedAt) < down-2*time.Second; i++ {
		reqs := []struct{ method, path string }{
			{http.MethodGet, "/api/stores?limit=5"},
			{http.MethodGet, "/api/stores/" + names[0]},
			{http.MethodPost, "/api/stores"},
			{http.MethodGet, "/health"},
		}
		for _, r := range reqs {
			wg.Go(func() {
				var body any
				name := ""
				if r.method == http.MethodPost {
					name = fmt.Sprintf("s3-during-%02d", i+1)
					body = map[string]any{"name": name, "engine": "woocommerce"}
					mu.Lock()
					attempted = append(attempted, name)
					mu.Unlock()
				}
				pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				defer cancel()
				a, err := probe.Once(pctx, tok, r.method, r.path, body)
				mu.Lock()
				defer mu.Unlock()
				answers = append(answers, probeAnswer{r.method + " " + strings.SplitN(r.path, "?", 2)[0], a, err})
				if err == nil && a.Status == http.StatusAccepted {
					during = append(during, name)
				}
			})
		}
		apiclient.Sleep(ctx, 2*time.Second)
	}
	apiclient.Sleep(ctx, down-time.Since(killedAt))
	if err := s.p.stack.Restart(devstack.ProcFerretDB); err != nil {
		res.fail("restart ferretdb: %v", err)
		return res
	}
	back, err := s.waitComponent(ctx, devstack.ProcFerretDB)
	if err != nil {
		res.fail("FerretDB not back: %v", err)
	}
	// Watched from the moment FerretDB answers, while the probes that hung
	// through the outage finish.
	mu.Lock()
	watch := append(slices.Clone(names), attempted...)
	mu.Unlock()
	pctx, stopProgress := context.WithCancel(ctx)
	defer stopProgress()
	progress := make(chan time.Time, 1)
	go func() { progress <- s.firstProgress(pctx, s.p.c, watch, back) }()
	wg.Wait()
	res.Faults = fmt.Sprintf("FerretDB SIGKILLed when %d/%d were ready, started again %s later on its SQLite files", ready, count, fmtDur(down))
	judgeOutage(res, answers)
	for _, n := range during {
		want[n] = store.PhaseReady
	}
	if len(during) > 0 {
		res.note("%d creates accepted (202) during the outage must end ready too: %v", len(during), during)
	}
	s.restartDead(res)
	s.finish(ctx, res, want, start, deadline)
	stopProgress()
	res.Recovery = recoverySince(<-progress, back, res, start)
	return res
}

// probeAnswer is one answer of the API while a dependency was down.
type probeAnswer struct {
	route string
	a     apiclient.Answer
	err   error
}

// judgeOutage: while MongoDB is down the API answers 503 problem+json
// (never another 5xx, never no apiclient.Answer); the figures go to res.
func judgeOutage(res *Result, answers []probeAnswer) {
	byRoute := map[string]map[int]int{}
	var slowest time.Duration
	bad := map[string]int{}
	for _, p := range answers {
		if byRoute[p.route] == nil {
			byRoute[p.route] = map[int]int{}
		}
		st := p.a.Status
		if p.err != nil {
			st = 0
		}
		byRoute[p.route][st]++
		slowest = max(slowest, p.a.Elapsed)
		var ok bool
		switch {
		case p.err != nil:
			bad[p.route+": no answer"]++
		case st == http.StatusServiceUnavailable:
			ok = strings.HasPrefix(p.a.ContentType, "application/problem+json") || p.route == "GET /health"
			if !ok {
				bad[fmt.Sprintf("%s: 503 with %q, not problem+json", p.route, p.a.ContentType)]++
			}
		case st >= 500:
			var prob api.Problem
			_ = json.Unmarshal(p.a.Body, &prob)
			bad[fmt.Sprintf("%s: %d %s", p.route, st, prob.Detail)]++
		}
	}
	var parts []string
	for _, r := range sortedKeys(byRoute) {
		parts = append(parts, r+" "+apiclient.StatusSummary(byRoute[r]))
	}
	res.note("answers while FerretDB was down (%d requests; slowest %s): %s", len(answers), fmtDur(slowest), strings.Join(parts, "; "))
	keys := sortedKeys(bad)
	sort.SliceStable(keys, func(i, j int) bool { return bad[keys[i]] > bad[keys[j]] })
	for _, k := range keys {
		res.fail("while FerretDB was down the API answered %s (×%d), not 503 problem+json", k, bad[k])
	}
	res.OutageAnswers = byRoute
}
