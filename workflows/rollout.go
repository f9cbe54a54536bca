package workflows

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// Signals and query of RolloutStores.
const (
	SignalPause  = "pause"
	SignalResume = "resume"
	SignalAbort  = "abort"
	QueryRollout = "rollout"
)

// Rollout statuses.
const (
	RolloutRunning   = "running"
	RolloutPaused    = "paused"
	RolloutCompleted = "completed"
	RolloutFailed    = "failed"
	RolloutAborted   = "aborted"
)

// States of one store in a rollout.
const (
	StorePending   = "pending"
	StoreUpgrading = "upgrading"
	StoreReady     = "ready"
	// StoreFailed: the upgrade did not become ready and was rolled back.
	StoreFailed = "failed"
	// StoreSkipped: busy with another operation every time its turn came.
	StoreSkipped = "skipped"
	// StoreDropped: deleted (or being deleted) during the rollout.
	StoreDropped = "dropped"
)

// busyRetries is how many times a store busy with another operation is put
// back at the end of the rollout before it is reported skipped.
const busyRetries = 3

// RolloutWorkflowID is the workflow ID of the rollout called id.
func RolloutWorkflowID(id string) string { return "rollout/" + id }

// RolloutSelector narrows the stores of a rollout.
type RolloutSelector struct {
	Engine string `json:"engine,omitempty"`
	Tenant string `json:"tenant,omitempty"`
}

// RolloutSettings are what a rollout was asked to do.
type RolloutSettings struct {
	ID           string          `json:"id"`
	ChartVersion string          `json:"chartVersion"`
	Canary       int             `json:"canary"`
	BatchSize    int             `json:"batchSize"`
	MaxFailures  int             `json:"maxFailures"`
	Selector     RolloutSelector `json:"selector"`
}

// RolloutInput is the input of RolloutStores. State is carried over
// ContinueAsNew; a new rollout starts without it.
type RolloutInput struct {
	RolloutSettings
	Timeouts Timeouts      `json:"timeouts,omitempty"`
	State    *RolloutState `json:"state,omitempty"`
}

// RolloutStore is one store's part in a rollout.
type RolloutStore struct {
	Name       string `json:"name"`
	Generation int    `json:"generation,omitempty"`
	State      string `json:"state"`
	Batch      int    `json:"batch,omitempty"`
	Revision   int    `json:"revision,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Busy       int    `json:"busy,omitempty"`
}

// RolloutState is the answer to the rollout query and the workflow's
// result.
type RolloutState struct {
	RolloutSettings
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Batch is the number of the batch running or last run (1 is the canary).
	Batch    int            `json:"batch"`
	Stores   []RolloutStore `json:"stores"`
	Counts   map[string]int `json:"counts"`
	Failures int            `json:"failures"`
	Listed   bool           `json:"listed"`
	Aborted  bool           `json:"aborted,omitempty"`
	Paused   bool           `json:"paused,omitempty"`
	// CanaryPassed is set once the canary batch is ready.
	CanaryPassed bool      `json:"canaryPassed,omitempty"`
	StartedAt    time.Time `json:"startedAt"`
}

// count counts the stores in each state.
func (s *RolloutState) count() {
	s.Counts = map[string]int{}
	for _, st := range s.Stores {
		s.Counts[st.State]++
	}
}

// RolloutStores moves every selected store to ChartVersion: the canary
// store(s) first, then the rest in batches of BatchSize whose upgrades run
// in parallel, each as an OperateStore child workflow (kind upgrade, the
// store's own operation ID, so that it never runs beside another operation
// on that store, and a failed upgrade is rolled back by it). It stops by
// itself as failed when a canary fails or when the failures pass
// MaxFailures, and never upgrades a store twice (a store on the version
// already counts as ready). A store busy with another operation is tried
// again at the end; one deleted meanwhile is dropped. Once the canary is
// ready, new stores get ChartVersion. The pause, resume and abort signals
// act between batches: an abort lets the running batch finish. Each batch
// ends with ContinueAsNew, so the history stays small however many stores
// there are.
func RolloutStores(ctx workflow.Context, in RolloutInput) (RolloutState, error) {
	r, err := newRolloutRun(ctx, in)
	if err != nil {
		return *r.st, err
	}
	return r.run(ctx)
}

// rolloutRun is one run of RolloutStores: one batch, up to its
// ContinueAsNew.
type rolloutRun struct {
	in    RolloutInput
	t     Timeouts
	st    *RolloutState
	short workflow.Context
	// The signal channels of SignalPause, SignalResume and SignalAbort.
	pause, resume, abort workflow.ReceiveChannel
}

// newRolloutRun takes the state over from the last run (or starts it),
// serves the rollout query and listens for the signals.
func newRolloutRun(ctx workflow.Context, in RolloutInput) (*rolloutRun, error) {
	t := in.Timeouts.withDefaults()
	r := &rolloutRun{in: in, t: t, st: startState(ctx, in)}
	if err := r.serveQuery(ctx); err != nil {
		return r, err
	}
	r.pause = workflow.GetSignalChannel(ctx, SignalPause)
	r.resume = workflow.GetSignalChannel(ctx, SignalResume)
	r.abort = workflow.GetSignalChannel(ctx, SignalAbort)
	r.short = shortOptions(ctx, t)
	return r, nil
}

// startState is the state carried over ContinueAsNew, or a new rollout's.
func startState(ctx workflow.Context, in RolloutInput) *RolloutState {
	st := in.State
	if st == nil {
		st = &RolloutState{RolloutSettings: in.RolloutSettings, Status: RolloutRunning, StartedAt: workflow.Now(ctx).UTC(), Stores: []RolloutStore{}}
	}
	st.count()
	return st
}

// serveQuery answers the rollout query with a copy of the state.
func (r *rolloutRun) serveQuery(ctx workflow.Context) error {
	st := r.st
	return workflow.SetQueryHandler(ctx, QueryRollout, func() (RolloutState, error) {
		c := *st
		c.Stores = append([]RolloutStore(nil), st.Stores...)
		c.count()
		return c, nil
	})
}

// run lists the stores (first run only), waits while the rollout is
// paused, then upgrades the next batch, or ends the rollout when it is
// aborted or nothing is left to upgrade.
func (r *rolloutRun) run(ctx workflow.Context) (RolloutState, error) {
	st := r.st
	if err := r.list(ctx); err != nil {
		return *st, err
	}
	r.awaitUnpaused(ctx)
	if st.Aborted {
		return st.end(RolloutAborted, "aborted by an operator"), nil
	}
	st.Status = RolloutRunning
	batch := st.nextBatch(r.batchSize())
	if len(batch) == 0 {
		return r.complete(ctx)
	}
	st.Batch++
	if err := st.runBatch(ctx, r.in, r.t, batch); err != nil {
		return *st, err
	}
	r.drain()
	return r.afterBatch(ctx)
}

// list records the selected stores as pending, once: a later run finds
// them in the state it carries.
func (r *rolloutRun) list(ctx workflow.Context) error {
	if r.st.Listed {
		return nil
	}
	var a *activities.Activities
	var names []activities.RolloutTarget
	if err := workflow.ExecuteActivity(r.short, a.ListRolloutTargets, activities.RolloutQuery{
		Engine: r.in.Selector.Engine, Tenant: r.in.Selector.Tenant, ChartVersion: r.in.ChartVersion}).Get(ctx, &names); err != nil {
		return err
	}
	for _, n := range names {
		r.st.Stores = append(r.st.Stores, RolloutStore{Name: n.Name, Generation: n.Generation, State: StorePending})
	}
	r.st.Listed = true
	return nil
}

// drain takes the signals that have arrived, in no particular order; abort
// wins over everything.
func (r *rolloutRun) drain() {
	for r.pause.ReceiveAsync(nil) {
		r.st.Paused = true
	}
	for r.resume.ReceiveAsync(nil) {
		r.st.Paused = false
	}
	for r.abort.ReceiveAsync(nil) {
		r.st.Aborted = true
	}
}

// awaitUnpaused takes the signals that have arrived, then waits, paused,
// for signal after signal until the rollout is resumed or aborted.
func (r *rolloutRun) awaitUnpaused(ctx workflow.Context) {
	r.drain()
	for r.st.Paused && !r.st.Aborted {
		r.st.Status = RolloutPaused
		r.awaitSignal(ctx)
	}
}

// awaitSignal waits for the next resume, abort or pause signal and applies
// it (a pause while paused changes nothing).
func (r *rolloutRun) awaitSignal(ctx workflow.Context) {
	st := r.st
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(r.resume, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); st.Paused = false })
	sel.AddReceive(r.abort, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); st.Aborted = true })
	sel.AddReceive(r.pause, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.Select(ctx)
}

// batchSize is the size of the next batch: Canary until the canary has
// passed, BatchSize after.
func (r *rolloutRun) batchSize() int {
	if !r.st.CanaryPassed {
		return r.in.Canary
	}
	return r.in.BatchSize
}

// complete ends a rollout that has nothing left to upgrade: the version
// becomes the one of new stores once a store runs it, and the stores still
// pending (busy every time their turn came) are skipped.
func (r *rolloutRun) complete(ctx workflow.Context) (RolloutState, error) {
	st := r.st
	if !st.CanaryPassed {
		// Nothing to upgrade, or only busy stores: the version is good
		// enough for new stores only once a store has run it.
		st.CanaryPassed = st.anyReady()
	}
	if st.CanaryPassed {
		if err := r.setCurrentVersion(ctx); err != nil {
			return *st, err
		}
	}
	st.skipPending()
	return st.end(RolloutCompleted, ""), nil
}

// afterBatch ends the rollout as failed when the canary failed or the
// failures passed MaxFailures, makes the version the one of new stores
// once the canary is ready, and otherwise goes on with the next batch in a
// new run (ContinueAsNew): the history holds one batch at most.
func (r *rolloutRun) afterBatch(ctx workflow.Context) (RolloutState, error) {
	st := r.st
	if !st.CanaryPassed {
		if st.Failures > 0 {
			return st.end(RolloutFailed, fmt.Sprintf("the canary failed: %s", st.firstFailure())), nil
		}
		if st.anyReady() {
			st.CanaryPassed = true
			if err := r.setCurrentVersion(ctx); err != nil {
				return *st, err
			}
		}
	}
	if st.Failures > r.in.MaxFailures {
		return st.end(RolloutFailed, fmt.Sprintf("%d stores failed, more than maxFailures %d: %s", st.Failures, r.in.MaxFailures, st.firstFailure())), nil
	}
	in := r.in
	in.State = st
	return *st, workflow.NewContinueAsNewError(ctx, RolloutStores, in)
}

// setCurrentVersion makes ChartVersion the version new stores get.
func (r *rolloutRun) setCurrentVersion(ctx workflow.Context) error {
	var a *activities.Activities
	return workflow.ExecuteActivity(r.short, a.SetCurrentChartVersion, r.in.ChartVersion).Get(ctx, nil)
}

// skipPending marks the stores still pending as skipped.
func (s *RolloutState) skipPending() {
	for i := range s.Stores {
		if s.Stores[i].State == StorePending {
			s.Stores[i].State = StoreSkipped
		}
	}
}

// nextBatch picks up to n pending stores, those passed over as busy last.
func (s *RolloutState) nextBatch(n int) []int {
	if n < 1 {
		n = 1
	}
	var out []int
	for pass := 0; pass <= busyRetries && len(out) < n; pass++ {
		for i, st := range s.Stores {
			if len(out) < n && st.State == StorePending && st.Busy == pass {
				out = append(out, i)
			}
		}
	}
	return out
}

// runBatch upgrades the stores of batch in parallel, each as an
// OperateStore child workflow, and waits for all of them.
func (s *RolloutState) runBatch(ctx workflow.Context, in RolloutInput, t Timeouts, batch []int) error {
	specs, err := s.readStores(ctx, t, batch)
	if err != nil {
		return err
	}
	for _, u := range s.startUpgrades(ctx, in, batch, specs) {
		s.awaitUpgrade(ctx, u)
	}
	s.count()
	return nil
}

// upgrade is an upgrade that runs: its store's index and its child
// workflow.
type upgrade struct {
	idx int
	f   workflow.ChildWorkflowFuture
}

// readStores reads the records of the stores of batch as they are now.
func (s *RolloutState) readStores(ctx workflow.Context, t Timeouts, batch []int) (map[string]activities.StoreNow, error) {
	var a *activities.Activities
	names := make([]string, len(batch))
	for i, idx := range batch {
		names[i] = s.Stores[idx].Name
	}
	var specs map[string]activities.StoreNow
	err := workflow.ExecuteActivity(shortOptions(ctx, t), a.GetStores, names).Get(ctx, &specs)
	return specs, err
}

// startUpgrades starts, in batch order, the upgrade of each store of batch
// that needs one; the others are settled at once.
func (s *RolloutState) startUpgrades(ctx workflow.Context, in RolloutInput, batch []int, specs map[string]activities.StoreNow) []upgrade {
	var runs []upgrade
	for _, idx := range batch {
		rs := &s.Stores[idx]
		rs.Batch = s.Batch
		now, ok := specs[rs.Name]
		if rs.needsUpgrade(now, ok, in.ChartVersion) {
			runs = append(runs, upgrade{idx: idx, f: startUpgrade(ctx, in, rs, now)})
		}
	}
	return runs
}

// needsUpgrade reports whether the store, whose record is now (ok false:
// it has none), is to be upgraded to version. Otherwise it settles the
// store: dropped when it is deleted, ready when it is on version already,
// passed over when another operation has it.
func (rs *RolloutStore) needsUpgrade(now activities.StoreNow, ok bool, version string) bool {
	switch {
	case !ok || now.Spec.Generation != rs.Generation || deletion(now.Phase):
		rs.State, rs.Reason = StoreDropped, "deleted during the rollout"
	case now.Spec.ChartVersion == version:
		rs.State, rs.Revision = StoreReady, now.Revision
	case store.Decide(rs.Name, now.Phase, store.RequestUpgrade).Refused != nil:
		rs.passOver("busy: " + string(now.Phase))
	default:
		return true
	}
	return false
}

// passOver leaves the store pending for a later batch, busy for reason;
// once it was passed over more than busyRetries times it is skipped.
func (rs *RolloutStore) passOver(reason string) {
	rs.State, rs.Reason = StorePending, reason
	rs.Busy++
	if rs.Busy > busyRetries {
		rs.State = StoreSkipped
	}
}

// startUpgrade starts the upgrade of the store rs, whose record is now, to
// in.ChartVersion as an OperateStore child workflow.
func startUpgrade(ctx workflow.Context, in RolloutInput, rs *RolloutStore, now activities.StoreNow) workflow.ChildWorkflowFuture {
	target := now.Spec
	target.ChartVersion = in.ChartVersion
	cctx := workflow.WithChildOptions(ctx, upgradeOptions(rs, now))
	rs.State = StoreUpgrading
	version := now.SpecVersion
	return workflow.ExecuteChildWorkflow(cctx, OperateStore, OperateStoreInput{Kind: store.OpUpgrade, Spec: now.Spec, Target: &target,
		SpecVersion: &version, Timeouts: in.Timeouts})
}

// upgradeOptions are the options of the child workflow that upgrades the
// store rs: the store's operation ID, left to run when the rollout ends.
func upgradeOptions(rs *RolloutStore, now activities.StoreNow) workflow.ChildWorkflowOptions {
	return workflow.ChildWorkflowOptions{
		WorkflowID:            OperationWorkflowID(rs.Name, rs.Generation),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// An abort or a cancellation of the rollout lets the upgrades
		// that run finish (or roll back) on their own.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		Memo:              map[string]any{memoOperation: store.OpUpgrade},
		TypedSearchAttributes: temporal.NewSearchAttributes(
			StoreNameKey.ValueSet(rs.Name), StoreEngineKey.ValueSet(now.Spec.Engine), StorePhaseKey.ValueSet(string(store.PhaseUpdating))),
	}
}

// awaitUpgrade waits for upgrade u to end and records how it ended in its
// store.
func (s *RolloutState) awaitUpgrade(ctx workflow.Context, u upgrade) {
	rs := &s.Stores[u.idx]
	if err := u.f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		// Another operation holds the store's operation ID: later.
		rs.passOver("busy with another operation")
		return
	}
	var res OperateStoreResult
	err := u.f.Get(ctx, &res)
	switch {
	case err != nil:
		rs.State, rs.Reason = StoreFailed, errorText(err)
		s.Failures++
	case res.Failed:
		rs.State, rs.Revision = StoreFailed, res.Revision
		rs.Reason = fmt.Sprintf("%s; rolled back to revision %d", res.Reason, res.RolledBackTo)
		s.Failures++
	default:
		rs.State, rs.Revision, rs.Reason = StoreReady, res.Revision, ""
	}
}

// anyReady reports whether a store is ready (upgraded, or on the version
// already).
func (s *RolloutState) anyReady() bool {
	for _, st := range s.Stores {
		if st.State == StoreReady {
			return true
		}
	}
	return false
}

// firstFailure names the first failed store and why it failed.
func (s *RolloutState) firstFailure() string {
	for _, st := range s.Stores {
		if st.State == StoreFailed {
			return st.Name + ": " + st.Reason
		}
	}
	return ""
}

// end ends the rollout with status and reason, and returns its final
// state.
func (s *RolloutState) end(status, reason string) RolloutState {
	s.Status, s.Reason, s.Paused = status, reason, false
	s.count()
	return *s
}

// deletion reports whether a store in phase p is deleted or being deleted,
// as the state machine says: no upgrade of it, and none to wait for.
func deletion(p store.Phase) bool {
	rf := store.Decide("", p, store.RequestUpgrade).Refused
	return rf != nil && (rf.Code == store.CodeNotFound || rf.Workflow == store.WorkflowDelete)
}
