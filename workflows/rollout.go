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
	t := in.Timeouts.withDefaults()
	st := in.State
	if st == nil {
		st = &RolloutState{RolloutSettings: in.RolloutSettings, Status: RolloutRunning, StartedAt: workflow.Now(ctx).UTC(), Stores: []RolloutStore{}}
	}
	st.count()
	if err := workflow.SetQueryHandler(ctx, QueryRollout, func() (RolloutState, error) {
		c := *st
		c.Stores = append([]RolloutStore(nil), st.Stores...)
		c.count()
		return c, nil
	}); err != nil {
		return *st, err
	}
	pause := workflow.GetSignalChannel(ctx, SignalPause)
	resume := workflow.GetSignalChannel(ctx, SignalResume)
	abort := workflow.GetSignalChannel(ctx, SignalAbort)
	// drain takes the signals that have arrived, in no particular order;
	// abort wins over everything.
	drain := func() {
		for pause.ReceiveAsync(nil) {
			st.Paused = true
		}
		for resume.ReceiveAsync(nil) {
			st.Paused = false
		}
		for abort.ReceiveAsync(nil) {
			st.Aborted = true
		}
	}
	var a *activities.Activities
	short := shortOptions(ctx, t)

	if !st.Listed {
		var names []activities.RolloutTarget
		if err := workflow.ExecuteActivity(short, a.ListRolloutTargets, activities.RolloutQuery{
			Engine: in.Selector.Engine, Tenant: in.Selector.Tenant, ChartVersion: in.ChartVersion}).Get(ctx, &names); err != nil {
			return *st, err
		}
		for _, n := range names {
			st.Stores = append(st.Stores, RolloutStore{Name: n.Name, Generation: n.Generation, State: StorePending})
		}
		st.Listed = true
	}

	drain()
	for st.Paused && !st.Aborted {
		st.Status = RolloutPaused
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(resume, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); st.Paused = false })
		sel.AddReceive(abort, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); st.Aborted = true })
		sel.AddReceive(pause, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.Select(ctx)
	}
	if st.Aborted {
		return st.end(RolloutAborted, "aborted by an operator"), nil
	}
	st.Status = RolloutRunning

	size := in.BatchSize
	if !st.CanaryPassed {
		size = in.Canary
	}
	batch := st.nextBatch(size)
	if len(batch) == 0 {
		if !st.CanaryPassed {
			// Nothing to upgrade, or only busy stores: the version is good
			// enough for new stores only once a store has run it.
			st.CanaryPassed = st.anyReady()
		}
		if st.CanaryPassed {
			if err := workflow.ExecuteActivity(short, a.SetCurrentChartVersion, in.ChartVersion).Get(ctx, nil); err != nil {
				return *st, err
			}
		}
		for i := range st.Stores {
			if st.Stores[i].State == StorePending {
				st.Stores[i].State = StoreSkipped
			}
		}
		return st.end(RolloutCompleted, ""), nil
	}
	st.Batch++
	if err := st.runBatch(ctx, in, t, batch); err != nil {
		return *st, err
	}
	drain()

	if !st.CanaryPassed {
		if st.Failures > 0 {
			return st.end(RolloutFailed, fmt.Sprintf("the canary failed: %s", st.firstFailure())), nil
		}
		if st.anyReady() {
			st.CanaryPassed = true
			if err := workflow.ExecuteActivity(short, a.SetCurrentChartVersion, in.ChartVersion).Get(ctx, nil); err != nil {
				return *st, err
			}
		}
	}
	if st.Failures > in.MaxFailures {
		return st.end(RolloutFailed, fmt.Sprintf("%d stores failed, more than maxFailures %d: %s", st.Failures, in.MaxFailures, st.firstFailure())), nil
	}
	// Next batch in a new run: the history holds one batch at most.
	in.State = st
	return *st, workflow.NewContinueAsNewError(ctx, RolloutStores, in)
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
	var a *activities.Activities
	names := make([]string, len(batch))
	for i, idx := range batch {
		names[i] = s.Stores[idx].Name
	}
	var specs map[string]activities.StoreNow
	if err := workflow.ExecuteActivity(shortOptions(ctx, t), a.GetStores, names).Get(ctx, &specs); err != nil {
		return err
	}
	type running struct {
		idx int
		f   workflow.ChildWorkflowFuture
	}
	var runs []running
	for _, idx := range batch {
		rs := &s.Stores[idx]
		rs.Batch = s.Batch
		now, ok := specs[rs.Name]
		switch {
		case !ok || now.Spec.Generation != rs.Generation || deletion(now.Phase):
			rs.State, rs.Reason = StoreDropped, "deleted during the rollout"
			continue
		case now.Spec.ChartVersion == in.ChartVersion:
			rs.State, rs.Revision = StoreReady, now.Revision
			continue
		case store.Decide(rs.Name, now.Phase, store.RequestUpgrade).Refused != nil:
			rs.Busy++
			rs.Reason = "busy: " + string(now.Phase)
			if rs.Busy > busyRetries {
				rs.State = StoreSkipped
			}
			continue
		}
		target := now.Spec
		target.ChartVersion = in.ChartVersion
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            OperationWorkflowID(rs.Name, rs.Generation),
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			// An abort or a cancellation of the rollout lets the upgrades
			// that run finish (or roll back) on their own.
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
			Memo:              map[string]any{memoOperation: store.OpUpgrade},
			TypedSearchAttributes: temporal.NewSearchAttributes(
				StoreNameKey.ValueSet(rs.Name), StoreEngineKey.ValueSet(now.Spec.Engine), StorePhaseKey.ValueSet(string(store.PhaseUpdating))),
		})
		rs.State = StoreUpgrading
		version := now.SpecVersion
		f := workflow.ExecuteChildWorkflow(cctx, OperateStore, OperateStoreInput{Kind: store.OpUpgrade, Spec: now.Spec, Target: &target,
			SpecVersion: &version, Timeouts: in.Timeouts})
		runs = append(runs, running{idx: idx, f: f})
	}
	for _, r := range runs {
		rs := &s.Stores[r.idx]
		if err := r.f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			// Another operation holds the store's operation ID: later.
			rs.State, rs.Reason = StorePending, "busy with another operation"
			rs.Busy++
			if rs.Busy > busyRetries {
				rs.State = StoreSkipped
			}
			continue
		}
		var res OperateStoreResult
		err := r.f.Get(ctx, &res)
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
	s.count()
	return nil
}

func (s *RolloutState) anyReady() bool {
	for _, st := range s.Stores {
		if st.State == StoreReady {
			return true
		}
	}
	return false
}

func (s *RolloutState) firstFailure() string {
	for _, st := range s.Stores {
		if st.State == StoreFailed {
			return st.Name + ": " + st.Reason
		}
	}
	return ""
}

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
