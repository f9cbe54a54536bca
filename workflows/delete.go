package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// DeleteStoreInput is the input of DeleteStore.
type DeleteStoreInput struct {
	Spec     store.Spec `json:"spec"`
	Timeouts Timeouts   `json:"timeouts,omitempty"`
}

// DeleteStoreResult is the result of DeleteStore.
type DeleteStoreResult struct {
	Name  string      `json:"name"`
	Phase store.Phase `json:"phase"`
	// Forced lists the objects whose finalizers were removed on a force
	// signal.
	Forced []string `json:"forced,omitempty"`
}

// Names of DeleteStore's steps.
const (
	StepStopCreate      = "stop-create"
	StepUninstall       = "uninstall"
	StepDeleteNamespace = "delete-namespace"
	StepForce           = "force"
)

// DeleteStore removes a store: mark deleting -> stop its creation, and its
// operation, if one still runs (cancel, then wait until it has closed; a
// creation undoes its work first) -> Helm uninstall -> delete the namespace and
// wait until it and its volumes are gone -> mark deleted. When a step fails for
// good, or the namespace is still there Timeouts.StuckAfter after its deletion
// began, the store is marked deletion_stuck with what blocks it, and the
// workflow waits for an operator: the retry signal tries again, the force
// signal first removes the finalizers of the blocking objects. It never gives
// up on its own; a cancellation while stuck ends it, the store still
// deletion_stuck. When the store's record refuses a write (this generation is
// deleted already, or its name belongs to a newer store) it ends at once.
func DeleteStore(ctx workflow.Context, in DeleteStoreInput) (DeleteStoreResult, error) {
	if err := in.Spec.Validate(); err != nil {
		return DeleteStoreResult{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidSpec, err)
	}
	prog, err := newTracker(ctx, "delete", in.Spec)
	if err != nil {
		return DeleteStoreResult{}, err
	}
	d := &deleteRun{in: in, t: in.Timeouts.withDefaults(), prog: prog,
		retry: workflow.GetSignalChannel(ctx, SignalRetry), force: workflow.GetSignalChannel(ctx, SignalForce)}
	if err := workflow.UpsertTypedSearchAttributes(ctx, searchAttributes(in.Spec, store.PhaseDeleting)...); err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
	}
	return d.run(ctx)
}

// deleteRun is one execution of DeleteStore.
type deleteRun struct {
	in           DeleteStoreInput
	t            Timeouts
	prog         *tracker
	retry, force workflow.ReceiveChannel
	forced       []string
}

// run runs the steps in order; a step that fails makes the deletion stuck
// until a signal, then runs again.
func (d *deleteRun) run(ctx workflow.Context) (DeleteStoreResult, error) {
	var a *activities.Activities
	spec := d.in.Spec
	in := activities.NamespaceInput{Spec: spec}
	helm := installOptions(ctx, d.t)
	res := DeleteStoreResult{Name: spec.Name}

	steps := []struct {
		name string
		fn   func() error
	}{
		{StepRecord, func() error {
			return d.record(ctx, store.StatusUpdate{Phase: store.PhaseDeleting, Message: "deleting the store", Spec: &spec})
		}},
		{StepStopCreate, func() error { return d.stopCreate(ctx) }},
		{StepUninstall, func() error { return workflow.ExecuteActivity(helm, a.UninstallRelease, in).Get(ctx, nil) }},
		{StepDeleteNamespace, func() error { return d.deleteNamespace(ctx, in) }},
		{StepRecord, func() error {
			deleted := func() error {
				return d.record(ctx, store.StatusUpdate{Phase: store.PhaseDeleted, Message: "store deleted"})
			}
			if workflow.GetVersion(ctx, versionEnterPhase, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
				return deleted() // histories from before enter: the search attribute follows below
			}
			return d.prog.enter(ctx, store.PhaseDeleted, deleted)
		}},
	}
	d.prog.p.Phase = store.PhaseDeleting
	for _, s := range steps {
		for {
			err := d.prog.run(ctx, s.name, s.fn)
			if err == nil {
				break
			}
			if temporal.IsCanceledError(err) {
				return res, err
			}
			if phase, ok := moved(err); ok {
				// The record refused the write: this generation is deleted
				// already, or its name belongs to a newer store.
				res.Phase = phase
				return res, nil
			}
			if err := d.stuck(ctx, []string{errorText(err)}); err != nil {
				return res, err
			}
		}
	}
	if d.prog.p.Phase != store.PhaseDeleted {
		_ = d.prog.enter(ctx, store.PhaseDeleted, nil)
	}
	res.Phase, res.Forced = store.PhaseDeleted, d.forced
	return res, nil
}

// stopCreate cancels the store's creation workflow, if it runs, and waits
// until it has closed (after undoing its own work).
func (d *deleteRun) stopCreate(ctx workflow.Context) error {
	var a *activities.Activities
	id := CreateWorkflowID(d.in.Spec.Name, d.in.Spec.Generation)
	// Fails when the workflow is closed or unknown, which is what we want.
	_ = workflow.RequestCancelExternalWorkflow(ctx, id, "").Get(ctx, nil)
	if err := workflow.ExecuteActivity(waitOptions(ctx, d.t, d.t.Ready+d.t.StuckAfter), a.AwaitWorkflowClosed, id).Get(ctx, nil); err != nil {
		return err
	}
	if workflow.GetVersion(ctx, versionStopOperation, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil // histories from before store operations existed
	}
	// A running operation (change, rollback, suspend, resume) is canceled
	// too; it sees the deletion and stops without rolling back.
	op := OperationWorkflowID(d.in.Spec.Name, d.in.Spec.Generation)
	_ = workflow.RequestCancelExternalWorkflow(ctx, op, "").Get(ctx, nil)
	return workflow.ExecuteActivity(waitOptions(ctx, d.t, d.t.Ready+d.t.StuckAfter), a.AwaitWorkflowClosed, op).Get(ctx, nil)
}

// deleteNamespace deletes the namespace until it is gone; when it is stuck,
// it waits for an operator signal and tries again.
func (d *deleteRun) deleteNamespace(ctx workflow.Context, in activities.NamespaceInput) error {
	var a *activities.Activities
	for {
		var res activities.DeleteNamespaceResult
		err := workflow.ExecuteActivity(waitOptions(ctx, d.t, d.t.StuckAfter+2*d.t.Short), a.DeleteNamespace,
			activities.DeleteNamespaceInput{NamespaceInput: in, StuckAfter: d.t.StuckAfter}).Get(ctx, &res)
		if err != nil {
			return err
		}
		if res.Gone {
			return nil
		}
		blockers := append(append([]string{}, res.Blockers...), res.Conditions...)
		d.prog.end(ctx, fmt.Errorf("namespace %s is stuck: %s", in.Spec.Namespace(), strings.Join(blockers, "; ")))
		if err := d.stuck(ctx, blockers); err != nil {
			return err
		}
		d.prog.start(ctx, StepDeleteNamespace)
	}
}

// stuck marks the store deletion_stuck with its blockers and waits for
// retry or force. force removes the blocking finalizers before returning.
func (d *deleteRun) stuck(ctx workflow.Context, blockers []string) error {
	var a *activities.Activities
	d.prog.p.Blockers = blockers
	_ = d.prog.enter(ctx, store.PhaseDeletionStuck, func() error {
		return d.record(ctx, store.StatusUpdate{Phase: store.PhaseDeletionStuck, Blockers: blockers,
			Message: "deletion is stuck: send the retry or force signal"})
	})

	d.prog.p.WaitingFor = SignalRetry + " or " + SignalForce
	signal := ""
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(d.retry, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); signal = SignalRetry })
	sel.AddReceive(d.force, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); signal = SignalForce })
	if workflow.GetVersion(ctx, versionCancelStuck, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	}
	sel.Select(ctx)
	d.prog.p.WaitingFor = ""
	if err := ctx.Err(); err != nil {
		// Canceled by an operator: the store stays deletion_stuck (its
		// namespace is still there), and says how to go on.
		const msg = "deletion canceled while stuck; DELETE the store again to resume it"
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		d.prog.p.LastError = msg
		_ = d.record(dctx, store.StatusUpdate{Phase: store.PhaseDeletionStuck, Blockers: blockers, Message: msg})
		return temporal.NewCanceledError(msg)
	}

	if signal == SignalForce {
		err := d.prog.run(ctx, StepForce, func() error {
			var fr activities.ForceResult
			err := workflow.ExecuteActivity(shortOptions(ctx, d.t), a.ForceFinalize, activities.NamespaceInput{Spec: d.in.Spec}).Get(ctx, &fr)
			d.forced = append(d.forced, fr.Removed...)
			return err
		})
		if err != nil {
			return d.stuck(ctx, []string{errorText(err)})
		}
	}
	d.prog.p.Blockers = nil
	return d.prog.enter(ctx, store.PhaseDeleting, func() error {
		return d.record(ctx, store.StatusUpdate{Phase: store.PhaseDeleting, Message: "retrying the deletion"})
	})
}

// record writes u to the store's record as the deletion's writer.
func (d *deleteRun) record(ctx workflow.Context, u store.StatusUpdate) error {
	u.Writer = store.WriterDelete
	u.DeleteWorkflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	return recordStatus(ctx, d.t, d.in.Spec, u)
}
