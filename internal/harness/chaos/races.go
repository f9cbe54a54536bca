package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// raceTargets are the moments of a creation at which scenario 5 deletes a
// store: right after the request, and when its record says it reached
// each later step (by CreateStore's messages).
var raceTargets = []string{"requested", "namespace", "install", "wait-ready", "ready"}

// creationStep is how far a creation is by its record: the index in
// raceTargets of the step it reached.
func creationStep(r store.Record) int {
	switch {
	case r.Phase == store.PhaseRequested:
		return 0
	case r.Phase != store.PhaseProvisioning:
		return 4
	case strings.HasPrefix(r.Message, "installing"):
		return 2
	case strings.HasPrefix(r.Message, "waiting"):
		return 3
	}
	return 1
}

// createDeleteRaces is scenario 5: each store is deleted at a random moment
// of its creation — a random step of raceTargets, reached as its record
// shows, plus up to half a second — and every one must end deleted with
// nothing left in the cluster.
func (s *suite) createDeleteRaces(ctx context.Context) *Result {
	count := s.opts.Scale.Stores[5]
	res := &Result{N: 5, Name: scenarioNames[5],
		Load: fmt.Sprintf("%d creates, each DELETEd at a random step of its creation (%s)", count, strings.Join(raceTargets, ", "))}
	names := storeNames(5, count)
	want := wantAll(names, store.PhaseDeleted)
	const perTenant = 10
	toks := make([]string, (count+perTenant-1)/perTenant)
	for i := range toks {
		t, err := s.token(ctx, fmt.Sprintf("s5-t%d", i+1), auth.RoleTenant)
		if err != nil {
			res.fail("token: %v", err)
			return res
		}
		toks[i] = t
	}
	targets := make([]int, count)
	jitter := make([]time.Duration, count)
	for i := range targets {
		targets[i] = s.rng.IntN(len(raceTargets))
		jitter[i] = s.between(0, 500*time.Millisecond)
	}
	// One reader of every record for all the stores' goroutines.
	var steps atomic.Pointer[map[string]int]
	pctx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go func() {
		for pctx.Err() == nil {
			if recs, err := s.p.c.records(pctx, names); err == nil {
				m := make(map[string]int, len(recs))
				for n, r := range recs {
					m[n] = creationStep(r)
				}
				steps.Store(&m)
			}
			apiclient.Sleep(pctx, 100*time.Millisecond)
		}
	}()
	reached := func(name string, target int) bool {
		m := steps.Load()
		if m == nil {
			return false
		}
		step, ok := (*m)[name]
		return ok && step >= target
	}
	start := time.Now()
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		moments    = map[string]int{}
		againCodes = map[string]int{}
	)
	for i, name := range names {
		wg.Go(func() {
			tok := toks[i/perTenant]
			a, err := s.api.CreateStore(ctx, tok, "Chaos", name)
			if err != nil || a.Status != http.StatusAccepted {
				mu.Lock()
				res.fail("POST /api/stores %s: %d %v", name, a.Status, err)
				mu.Unlock()
				return
			}
			deadline := time.Now().Add(s.opts.Scale.Deadline / 2)
			for targets[i] > 0 && !reached(name, targets[i]) && time.Now().Before(deadline) && ctx.Err() == nil {
				apiclient.Sleep(ctx, 50*time.Millisecond)
			}
			apiclient.Sleep(ctx, jitter[i])
			moment := "?"
			if g, err := s.api.Do(ctx, tok, http.MethodGet, "/api/stores/"+name, nil); err == nil && g.Status == http.StatusOK {
				moment = creationMoment(g.Body)
			}
			d, err := s.api.Do(ctx, tok, http.MethodDelete, "/api/stores/"+name, nil)
			// The resurrection race: the same POST again, at once. A store
			// being deleted refuses it (409); one whose deletion has not
			// written its phase yet answers the same store (202, generation
			// 1, nothing started); one already deleted gets generation 2,
			// which is deleted too.
			again, aerr := s.api.CreateStore(ctx, tok, "Chaos", name)
			var gen2 bool
			if aerr == nil && again.Status == http.StatusAccepted {
				var sr api.StoreResponse
				if json.Unmarshal(again.Body, &sr) == nil && sr.Generation > 1 {
					gen2 = true
					_, _ = s.api.Do(ctx, tok, http.MethodDelete, "/api/stores/"+name, nil)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			moments[moment]++
			if err != nil || d.Status != http.StatusAccepted {
				res.fail("DELETE /api/stores/%s: %d %v %.200s", name, d.Status, err, d.Body)
			}
			switch {
			case aerr != nil || (again.Status != http.StatusConflict && again.Status != http.StatusAccepted):
				res.fail("POST /api/stores %s again after its DELETE: %d %v %.200s", name, again.Status, aerr, again.Body)
			case gen2:
				againCodes["202, generation 2"]++
			default:
				againCodes[fmt.Sprint(again.Status)]++
			}
		})
	}
	wg.Wait()
	stopPolling()
	res.Faults = "deleted while " + countList(moments) + "; POSTed again at once: " + countList(againCodes)
	s.finish(ctx, res, want, start, start.Add(s.opts.Scale.Deadline))
	s.checkOneCreation(ctx, res, names)
	return res
}

// checkOneCreation: no store's first generation was created twice (a
// second CreateStore run beside its deletion brought deleted stores back).
func (s *suite) checkOneCreation(ctx context.Context, res *Result, names []string) {
	twice := 0
	for _, n := range names {
		runs, err := operationRuns(ctx, s.p.c, workflows.CreateWorkflowID(n, 1))
		if err != nil {
			res.fail("%s: list its creations: %v", n, err)
			continue
		}
		total := 0
		for _, k := range runs {
			total += k
		}
		if total > 1 {
			twice++
			res.fail("%s: generation 1 was created %d times", n, total)
		}
	}
	res.note("%d/%d stores' first generation created at most once (CreateStore runs in Temporal's visibility)", len(names)-twice, len(names))
}

// creationMoment is "phase/step" of a store from GET /api/stores/{name}:
// where its creation was when the deletion was sent.
func creationMoment(body []byte) string {
	var sr api.StoreResponse
	if json.Unmarshal(body, &sr) != nil {
		return "?"
	}
	m := string(sr.Phase)
	if p := sr.Progress; p != nil && sr.Phase == store.PhaseProvisioning && len(p.Steps) > 0 {
		m += "/" + p.Steps[len(p.Steps)-1].Name
	}
	return m
}

// rollout is scenario 7: stores of one tenant are created, then changed
// (PATCH title) and rolled out to RolloutVersion through the API, while
// workers are SIGKILLed every few seconds. Every store must end ready on
// the new version with its change, upgraded exactly once, nothing pending.
func (s *suite) rollout(ctx context.Context) *Result {
	count := s.opts.Scale.Stores[7]
	res := &Result{N: 7, Name: scenarioNames[7],
		Load: fmt.Sprintf("%d stores: a change (PATCH title) of each, then a rollout to chart %s (canary 1, batches of 10)", count, RolloutVersion)}
	names := storeNames(7, count)
	want := wantAll(names, store.PhaseReady)
	const tenant = "s7-t1"
	tok, err := s.token(ctx, tenant, auth.RoleTenant)
	if err != nil {
		res.fail("token: %v", err)
		return res
	}
	admin, err := s.token(ctx, "s7-admin", auth.RoleAdmin)
	if err != nil {
		res.fail("token: %v", err)
		return res
	}
	// Setup, without faults: the stores to change and upgrade.
	s.submit(ctx, res, "s7", names, count)
	waitSettled(ctx, s.p.c, want, time.Now().Add(s.opts.Scale.Deadline), s.log, "scenario 7 (setup)")

	var rolloutRun atomic.Pointer[string] // the rollout's ID once started
	k := newKiller(s.p, s.rng, s.log, "scenario 7", func() []string {
		ids := make([]string, 0, len(names)+1)
		for _, n := range names {
			ids = append(ids, workflows.OperationWorkflowID(n, 1))
		}
		if id := rolloutRun.Load(); id != nil {
			ids = append(ids, workflows.RolloutWorkflowID(*id))
		}
		return ids
	})
	stop := make(chan struct{})
	killed := make(chan struct{})
	var outlasted atomic.Bool
	go func() { outlasted.Store(s.killLoop(ctx, k, stop, func() bool { return false })); close(killed) }()

	// The stores have Deadline after the last fault to settle.
	start := time.Now()
	deadline := start.Add(s.opts.Scale.KillFor + s.opts.Scale.Deadline)
	changed := s.changeAll(ctx, res, tok, names)
	s.waitOperations(ctx, changed, deadline)
	a, err := s.api.Do(ctx, admin, http.MethodPost, "/api/rollouts", map[string]any{
		"chartVersion": RolloutVersion, "canary": 1, "batchSize": 10, "maxFailures": 0, "selector": map[string]string{"tenant": tenant}})
	var (
		st        workflows.RolloutState
		rolloutID string
	)
	if err != nil || a.Status != http.StatusAccepted {
		res.fail("POST /api/rollouts: %d %v %.300s", a.Status, err, a.Body)
	} else {
		var sum api.RolloutSummary
		_ = json.Unmarshal(a.Body, &sum)
		rolloutID = sum.ID
		rolloutRun.Store(&rolloutID)
		st = s.waitRollout(ctx, admin, rolloutID, deadline)
	}
	close(stop)
	<-killed
	if outlasted.Load() {
		res.note("the kills stopped after %s, before the rollout ended", fmtDur(s.opts.Scale.KillFor))
	}
	res.note("rollout %s ended %s: %s", rolloutID, st.Status, countList(st.Counts))
	if st.Status != workflows.RolloutCompleted || st.Counts[workflows.StoreReady] != count {
		res.fail("rollout %s: status %q (%s), counts %v, want completed with %d ready", rolloutID, st.Status, st.Reason, st.Counts, count)
	}
	s.finish(ctx, res, want, start, deadline)
	// The stores' ready_at is their creation's: the time to all-ready is
	// until the rollout's last run closed.
	res.TimeToAll = 0
	if rolloutID != "" && st.Status == workflows.RolloutCompleted && res.Ready == count {
		if d, err := s.p.c.Temporal.DescribeWorkflow(ctx, workflows.RolloutWorkflowID(rolloutID), ""); err == nil && d.WorkflowCloseTime != nil {
			res.TimeToAll = d.WorkflowCloseTime.Sub(start)
		}
	}
	k.wait()
	recoveryFigures(res, k)
	s.checkUpgrades(ctx, res, names, changed)
	res.Faults += fmt.Sprintf("; %d changes accepted", len(changed))
	return res
}

// changeAll PATCHes each store's title and returns the stores whose change
// was accepted, with the title asked for.
func (s *suite) changeAll(ctx context.Context, res *Result, tok string, names []string) map[string]string {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		changed = map[string]string{}
	)
	for _, n := range names {
		wg.Go(func() {
			title := "Changed " + n
			a, err := s.api.Do(ctx, tok, http.MethodPatch, "/api/stores/"+n, map[string]any{"title": title})
			mu.Lock()
			defer mu.Unlock()
			if err != nil || a.Status != http.StatusAccepted {
				res.fail("PATCH /api/stores/%s: %d %v %.200s", n, a.Status, err, a.Body)
				return
			}
			changed[n] = title
		})
	}
	wg.Wait()
	return changed
}

// waitOperations waits until the change of each store of changed has
// ended: the record has no running operation and its last one is a change.
func (s *suite) waitOperations(ctx context.Context, changed map[string]string, deadline time.Time) {
	names := sortedKeys(changed)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		recs, err := s.p.c.records(ctx, names)
		busy := 0
		for _, n := range names {
			r := recs[n]
			if r.Operation != nil || r.LastOperation == nil || r.LastOperation.Kind != store.OpChange {
				busy++
			}
		}
		if err == nil && busy == 0 {
			return
		}
		apiclient.Sleep(ctx, time.Second)
	}
}

// waitRollout polls GET /api/rollouts/{id} until the rollout has ended.
func (s *suite) waitRollout(ctx context.Context, admin, id string, deadline time.Time) workflows.RolloutState {
	var st workflows.RolloutState
	last := time.Time{}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		a, err := s.api.Do(ctx, admin, http.MethodGet, "/api/rollouts/"+id, nil)
		var now workflows.RolloutState // a fresh one: Unmarshal merges maps
		if err == nil && a.Status == http.StatusOK && json.Unmarshal(a.Body, &now) == nil {
			st = now
			switch st.Status {
			case workflows.RolloutCompleted, workflows.RolloutFailed, workflows.RolloutAborted:
				return st
			}
			if time.Since(last) > 15*time.Second {
				s.log.Info("scenario 7: rollout running", "batch", st.Batch, "counts", countList(st.Counts))
				last = time.Now()
			}
		}
		apiclient.Sleep(ctx, 2*time.Second)
	}
	return st
}

// checkUpgrades: every store was upgraded by exactly one OperateStore
// run of kind upgrade, its release moved to RolloutVersion by exactly one
// completed Helm upgrade, it kept its change, and its record names the
// version. Helm upgrades that a kill interrupted (left pending, then rolled
// back and redone by the retry, as activities.UpgradeRelease does) are
// counted apart, not as second upgrades.
func (s *suite) checkUpgrades(ctx context.Context, res *Result, names []string, changed map[string]string) {
	cl, err := s.p.c.snapshot(ctx)
	if err != nil {
		res.fail("read the cluster: %v", err)
		return
	}
	once, interrupted, stale := 0, 0, 0
	for _, n := range names {
		runs, err := operationRuns(ctx, s.p.c, workflows.OperationWorkflowID(n, 1))
		if err != nil {
			res.fail("%s: list its operations: %v", n, err)
		}
		completed, prev := 0, ""
		revs := cl.releases[n]
		for i, r := range revs {
			pending := strings.HasPrefix(r.Status, "pending-")
			done := !pending && r.Status != "failed"
			if r.Chart == RolloutVersion && !done {
				interrupted++
			}
			if done {
				if r.Chart == RolloutVersion && prev != RolloutVersion {
					completed++
				}
				prev = r.Chart
			}
			if pending && i < len(revs)-1 {
				stale++
			}
		}
		if completed == 1 && runs[store.OpUpgrade] == 1 {
			once++
		} else {
			res.fail("%s: %d upgrade operations, %d completed Helm upgrades to chart %s (want 1 and 1): %s",
				n, runs[store.OpUpgrade], completed, RolloutVersion, revisionList(revs))
		}
		if _, ok := changed[n]; ok && runs[store.OpChange] != 1 {
			res.fail("%s: %d change operations for one accepted change", n, runs[store.OpChange])
		}
		rec := cl.records[n]
		if rec.ChartVersion != RolloutVersion {
			res.fail("%s: the record names chart %q, want %s", n, rec.ChartVersion, RolloutVersion)
		}
		if title, ok := changed[n]; ok && rec.Title != title && (rec.LastOperation == nil || !rec.LastOperation.Failed) {
			res.fail("%s: accepted change lost: title %q, want %q", n, rec.Title, title)
		}
	}
	res.note("%d/%d stores upgraded exactly once (one upgrade operation, one completed Helm upgrade to %s)", once, len(names), RolloutVersion)
	if interrupted > 0 {
		res.note("%d Helm upgrades to %s were interrupted by a kill (left pending-upgrade), rolled back and redone by the retry", interrupted, RolloutVersion)
	}
	if stale > 0 {
		res.note("%d older revisions still say pending-* in the stores' Helm history (interrupted upgrades, rolled back since)", stale)
	}
}

// operationRuns counts the OperateStore runs under workflow ID id by kind
// (their memo), from Temporal's visibility.
func operationRuns(ctx context.Context, c *conns, id string) (map[string]int, error) {
	out := map[string]int{}
	var token []byte
	for {
		resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s'", id), NextPageToken: token})
		if err != nil {
			return out, err
		}
		for _, e := range resp.GetExecutions() {
			kind := "?"
			if p, ok := e.GetMemo().GetFields()["operation"]; ok {
				_ = converter.GetDefaultDataConverter().FromPayload(p, &kind)
			}
			out[kind]++
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}
