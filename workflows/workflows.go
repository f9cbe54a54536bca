// Package workflows holds Store Platform's Temporal workflows — CreateStore,
// DeleteStore, OperateStore (change, upgrade, rollback, suspend, resume) and
// RolloutStores (a fleet's chart upgrade, in batches) — and the client calls
// that start them (StartCreate, StartDelete, StartOperation, StartRollout).
// The workflows are deterministic — all I/O happens in package activities,
// time comes from workflow.Now; `make lint` runs workflowcheck over them —
// and name their activities through a nil *activities.Activities, so that
// no activity is named by a string.
package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// Names of the signals and the query of the store workflows (CreateStore,
// DeleteStore, OperateStore); RolloutStores has its own.
const (
	// SignalRetry restarts a failed creation, retries the rollback of a
	// degraded operation, or retries a stuck deletion.
	SignalRetry = "retry"
	// SignalForce removes the finalizers of the objects that keep a stuck
	// deletion's namespace, then retries it.
	SignalForce = "force"
	// QueryProgress returns a Progress.
	QueryProgress = "progress"
)

// moved reports whether err is the state machine's refusal of a status
// write (UpdateStoreStatus's activities.ErrStoreMoved), and the record's
// phase then, from the error's details ("" when the store has no record).
func moved(err error) (store.Phase, bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrStoreMoved {
		return "", false
	}
	var phase store.Phase
	if app.HasDetails() {
		_ = app.Details(&phase)
	}
	return phase, true
}

// CreateWorkflowID is the workflow ID of the creation of a store's
// generation: deterministic, so that a repeated request finds the running
// workflow instead of starting a second one.
func CreateWorkflowID(name string, generation int) string {
	return fmt.Sprintf("store/%s/%d/create", name, generation)
}

// DeleteWorkflowID is the workflow ID of the deletion of a store's generation.
func DeleteWorkflowID(name string, generation int) string {
	return fmt.Sprintf("store/%s/%d/delete", name, generation)
}

// OperationWorkflowID is the workflow ID of every operation on a store's
// generation after its creation (change, upgrade, rollback, suspend,
// resume). One ID for all of them is how they never run at once: Temporal
// runs at most one workflow per ID, and a start while one runs is refused.
func OperationWorkflowID(name string, generation int) string {
	return fmt.Sprintf("store/%s/%d/operation", name, generation)
}

// Change IDs of workflow.GetVersion: each marks a change that alters the
// history of workflows that were running before it.
const (
	// versionEnterPhase: the StorePhase search attribute is set before the
	// record of the ready and deleted phases, as for every other phase.
	versionEnterPhase = "enter-phase"
	// versionStopOperation: DeleteStore cancels a running operation.
	versionStopOperation = "stop-operation"
	// versionCancelStuck: a deletion canceled while stuck ends, recorded
	// (before, it kept waiting for a signal).
	versionCancelStuck = "cancel-stuck"
	// versionHoldHosts: an operation that will serve another host holds it
	// before its Helm action.
	versionHoldHosts = "hold-hosts"
)

// Timeouts bound the activities. Zero fields take the defaults.
type Timeouts struct {
	// Short is the StartToCloseTimeout of quick activities (default 10s):
	// a task lost with its worker is retried after it, so a store moves
	// again within seconds of a live worker polling; each is retried for up
	// to thirty times as long (5 minutes by default, which outlasts a
	// MongoDB failover or restart).
	Short time.Duration `json:"short,omitempty"`
	// Install bounds one attempt of a Helm action: install, upgrade,
	// rollback or uninstall (default 5m).
	Install time.Duration `json:"install,omitempty"`
	// Ready is how long the store's workloads may take to become ready
	// (default 15m).
	Ready time.Duration `json:"ready,omitempty"`
	// Heartbeat is the heartbeat timeout of the waits and the Helm actions
	// (default 10s): a worker that died is noticed this quickly. A live
	// worker sends a heartbeat at least every few seconds (worker.Options
	// HeartbeatThrottle), so a slow one keeps its lease.
	Heartbeat time.Duration `json:"heartbeat,omitempty"`
	// StuckAfter is how long a namespace may take to go before its deletion
	// counts as stuck (default 10m).
	StuckAfter time.Duration `json:"stuckAfter,omitempty"`
	// RetryWindow is how long a failed creation, or an operation whose
	// rollback failed, waits for a retry signal before it ends as failed
	// (default 72h).
	RetryWindow time.Duration `json:"retryWindow,omitempty"`
}

// withDefaults is t with its zero fields set to the defaults.
func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Short, 10*time.Second)
	def(&t.Install, 5*time.Minute)
	def(&t.Ready, 15*time.Minute)
	def(&t.Heartbeat, 10*time.Second)
	def(&t.StuckAfter, 10*time.Minute)
	def(&t.RetryWindow, 72*time.Hour)
	return t
}

// retryPolicy retries transient errors with back-off (1 s, doubling, at
// most 5 s apart), up to maxAttempts times (0: until the timeouts end), and
// never the activities' permanent error types.
func retryPolicy(maxAttempts int32) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        5 * time.Second,
		MaximumAttempts:        maxAttempts,
		NonRetryableErrorTypes: activities.NonRetryable(),
	}
}

// shortOptions suit the quick activities: Short for each attempt, thirty
// times as long for all of them.
func shortOptions(ctx workflow.Context, t Timeouts) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    t.Short,
		ScheduleToCloseTimeout: 30 * t.Short,
		RetryPolicy:            retryPolicy(0),
	})
}

// installOptions suit the Helm actions (install, upgrade, rollback,
// uninstall): they heartbeat while Helm works, so a dead worker is noticed
// within seconds, not after Install. An attempt whose heartbeat ran out
// while its worker was only slow (a starved CPU) may still be inside Helm
// when its retry starts: the activities hold a lease on the release (see
// activities.holdRelease), so the retry waits for it instead of racing it.
func installOptions(ctx workflow.Context, t Timeouts) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    t.Install,
		ScheduleToCloseTimeout: 4 * t.Install,
		HeartbeatTimeout:       t.Heartbeat,
		RetryPolicy:            retryPolicy(0),
	})
}

// waitOptions suit the long polling activities: each attempt may use the
// whole budget, heartbeats reveal a dead worker, and the budget is shared by
// every attempt.
func waitOptions(ctx workflow.Context, t Timeouts, budget time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    budget,
		ScheduleToCloseTimeout: budget + t.Short,
		HeartbeatTimeout:       t.Heartbeat,
		RetryPolicy:            retryPolicy(0),
	})
}

// searchAttributes sets what the Web UI and `temporal workflow list
// --query` find a store's workflows by.
func searchAttributes(spec store.Spec, phase store.Phase) []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{
		StoreNameKey.ValueSet(spec.Name),
		StoreEngineKey.ValueSet(spec.Engine),
		StorePhaseKey.ValueSet(string(phase)),
	}
}

// recordStatus writes u to spec's store record, stamped with workflow time.
func recordStatus(ctx workflow.Context, t Timeouts, spec store.Spec, u store.StatusUpdate) error {
	var a *activities.Activities
	u.Name, u.Generation = spec.Name, spec.Generation
	u.At = workflow.Now(ctx).UTC()
	return workflow.ExecuteActivity(shortOptions(ctx, t), a.UpdateStoreStatus, u).Get(ctx, nil)
}

// setPhase upserts the StorePhase search attribute. A server without the
// attribute registered rejects the upsert; the workflow carries on, since
// the attribute only helps operators find it.
func setPhase(ctx workflow.Context, phase store.Phase) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, StorePhaseKey.ValueSet(string(phase))); err != nil {
		workflow.GetLogger(ctx).Warn("upsert StorePhase", "error", err)
	}
}
