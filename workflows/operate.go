package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// OperateStoreInput is the input of OperateStore. It holds no secret.
type OperateStoreInput struct {
	// Kind is store.OpChange, OpUpgrade, OpRollback, OpSuspend or OpResume.
	Kind string `json:"kind"`
	// Spec is the store's spec as recorded when the operation was asked for.
	Spec store.Spec `json:"spec"`
	// Target is the spec to reach (change, upgrade, suspend, resume).
	Target *store.Spec `json:"target,omitempty"`
	// Revision is the release revision to return to (rollback).
	Revision int `json:"revision,omitempty"`
	// SpecVersion is the record's spec version the operation was asked
	// for: a store changed since refuses it (an upgrade of a fleet rollout
	// reads the store again instead). Nil for inputs from before it.
	SpecVersion *int `json:"specVersion,omitempty"`
	// Hosts are the hosts the operation will serve besides the store's own
	// (a change of host, a rollback to another host): held before the Helm
	// action, given back when the operation ends.
	Hosts    []string `json:"hosts,omitempty"`
	Timeouts Timeouts `json:"timeouts,omitempty"`
}

// OperateStoreResult is the result of OperateStore.
type OperateStoreResult struct {
	Kind  string      `json:"kind"`
	Phase store.Phase `json:"phase"`
	// Revision is the release revision the store runs at the end.
	Revision int `json:"revision"`
	// Failed, Reason and RolledBackTo say how a failed operation was undone.
	Failed       bool   `json:"failed,omitempty"`
	Reason       string `json:"reason,omitempty"`
	RolledBackTo int    `json:"rolledBackTo,omitempty"`
}

// Names of OperateStore's steps.
const (
	StepReleaseState = "release-state"
	StepUpgrade      = "upgrade"
	StepRollback     = "rollback"
	// StepAutoRollback returns the release to the revision that was ready
	// before a failed operation.
	StepAutoRollback = "auto-rollback"
	// StepHoldHosts holds the hosts the operation will serve.
	StepHoldHosts = "hold-hosts"
)

// OperateStore runs one operation on a store that exists: change its spec
// (Helm upgrade), upgrade it to another chart version (one store of a
// RolloutStores), roll it back to a revision, suspend or resume it. It
// records the operation (an upgrade of a store changed since it was asked
// for reads the store again and upgrades that), holds the hosts it will
// serve besides the store's own, notes the revision deployed now, applies
// the change and waits until every workload is ready (or, suspended, gone),
// then records the new spec and revision. When the release does not become
// ready in time (Timeouts.Ready) or the change fails, the release is rolled
// back to the revision it had, the workflow waits for that, and the store
// is recorded as it was, with the failure in its last operation. A rollback
// that fails too leaves the store degraded, and the workflow waits for a
// retry signal (Timeouts.RetryWindow). Canceled by a deletion, it stops at
// once; canceled otherwise, it rolls back first.
//
// Its workflow ID (OperationWorkflowID) is the same for every operation on
// a store, so that two never run at once.
func OperateStore(ctx workflow.Context, in OperateStoreInput) (OperateStoreResult, error) {
	if err := in.validate(); err != nil {
		return OperateStoreResult{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidSpec, err)
	}
	prog, err := newTracker(ctx, in.Kind, in.Spec)
	if err != nil {
		return OperateStoreResult{}, err
	}
	o := &opRun{in: in, t: in.Timeouts.withDefaults(), prog: prog, retry: workflow.GetSignalChannel(ctx, SignalRetry),
		id: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if err := workflow.UpsertTypedSearchAttributes(ctx, searchAttributes(in.Spec, store.PhaseUpdating)...); err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
	}
	return o.run(ctx)
}

// validate checks that in names a known operation with what it needs: a
// target spec of the same store, or a revision to roll back to.
func (in OperateStoreInput) validate() error {
	if err := in.Spec.Validate(); err != nil {
		return err
	}
	switch in.Kind {
	case store.OpChange, store.OpSuspend, store.OpResume, store.OpUpgrade:
		if in.Target == nil {
			return fmt.Errorf("operation %s needs a target spec", in.Kind)
		}
		if err := in.Target.Validate(); err != nil {
			return err
		}
		if in.Target.Name != in.Spec.Name || in.Target.Generation != in.Spec.Generation || in.Target.Engine != in.Spec.Engine {
			return errors.New("the target spec is of another store")
		}
	case store.OpRollback:
		if in.Revision < 1 {
			return fmt.Errorf("rollback to revision %d", in.Revision)
		}
	default:
		return fmt.Errorf("unknown operation %q", in.Kind)
	}
	return nil
}

// opRun is one execution of OperateStore.
type opRun struct {
	in    OperateStoreInput
	t     Timeouts
	prog  *tracker
	retry workflow.ReceiveChannel
	id    string
	// before is the revision deployed when the operation began: where a
	// failure returns to.
	before int
	// url is the store's URL as the last Helm action reported it.
	url string
}

// run records the operation, holds its hosts, reads the release, applies
// the operation and waits until the store is ready; a failure is undone.
func (o *opRun) run(ctx workflow.Context) (OperateStoreResult, error) {
	var a *activities.Activities
	res := OperateStoreResult{Kind: o.in.Kind}
	spec := o.in.Spec
	nsIn := activities.NamespaceInput{Spec: spec}

	started := workflow.Now(ctx).UTC()
	begin := func() error {
		return o.prog.enter(ctx, store.PhaseUpdating, func() error {
			ok, err := o.write(ctx, store.OperationUpdate{Phase: store.PhaseUpdating, Message: o.in.Kind + " in progress",
				Operation: &store.Operation{Kind: o.in.Kind, WorkflowID: o.id, StartedAt: started}, SpecVersion: o.in.SpecVersion})
			if err == nil && !ok {
				err = temporal.NewNonRetryableApplicationError("store "+spec.Name+" is being created or deleted", activities.ErrNotOperable, nil)
			}
			return err
		})
	}
	err := o.prog.run(ctx, StepRecord, begin)
	for try := 0; err != nil && o.in.Kind == store.OpUpgrade && isType(err, activities.ErrSpecChanged) && try < 3; try++ {
		// An upgrade of a fleet rollout applies to the store as it is now:
		// read it again, and upgrade that.
		if err = o.reread(ctx); err == nil {
			err = o.prog.run(ctx, StepRecord, begin)
		}
	}
	if err != nil {
		return res, err
	}

	if len(o.in.Hosts) > 0 && workflow.GetVersion(ctx, versionHoldHosts, workflow.DefaultVersion, 1) == 1 {
		if err := o.prog.run(ctx, StepHoldHosts, func() error {
			return workflow.ExecuteActivity(shortOptions(ctx, o.t), a.HoldHosts, activities.HoldHostsInput{Spec: spec, Hosts: o.in.Hosts}).Get(ctx, nil)
		}); err != nil {
			return o.undo(ctx, res, err) // nothing was changed: it only records the failure
		}
	}

	var st activities.ReleaseState
	if err := o.prog.run(ctx, StepReleaseState, func() error {
		return workflow.ExecuteActivity(shortOptions(ctx, o.t), a.GetReleaseState, nsIn).Get(ctx, &st)
	}); err != nil {
		return o.undo(ctx, res, err) // nothing was changed: it only records the failure
	}
	o.before = st.Deployed

	target, rev, err := o.apply(ctx)
	if err == nil {
		err = o.prog.run(ctx, StepWaitReady, func() error {
			var wp activities.WaitProgress
			return workflow.ExecuteActivity(waitOptions(ctx, o.t, o.t.Ready), a.WaitReady, activities.NamespaceInput{Spec: target}).Get(ctx, &wp)
		})
	}
	if err != nil {
		return o.undo(ctx, res, err)
	}
	res.Revision = rev
	return res, o.finish(ctx, &res, target, rev, nil)
}

// apply makes the operation's new revision and returns the spec it holds.
// A cancellation waits for the Helm action to end, so that a deletion never
// races a Helm upgrade in flight.
func (o *opRun) apply(ctx workflow.Context) (store.Spec, int, error) {
	var a *activities.Activities
	ctx = workflow.WithWaitForCancellation(ctx, true)
	if o.in.Kind == store.OpRollback {
		var rr activities.RollbackResult
		err := o.prog.run(ctx, StepRollback, func() error {
			return workflow.ExecuteActivity(installOptions(ctx, o.t), a.RollbackRelease,
				activities.RollbackInput{Spec: o.in.Spec, Revision: o.in.Revision}).Get(ctx, &rr)
		})
		o.url = rr.URL
		return rr.Spec, rr.Revision, err
	}
	var ir activities.InstallResult
	err := o.prog.run(ctx, StepUpgrade, func() error {
		return workflow.ExecuteActivity(installOptions(ctx, o.t), a.InstallRelease, activities.NamespaceInput{Spec: *o.in.Target}).Get(ctx, &ir)
	})
	o.url = ir.URL
	return *o.in.Target, ir.Revision, err
}

// undo handles a failed or canceled operation: unless a deletion took over,
// return the release to the revision it had before and record the failure.
func (o *opRun) undo(ctx workflow.Context, res OperateStoreResult, cause error) (OperateStoreResult, error) {
	canceled := temporal.IsCanceledError(cause) || errors.Is(ctx.Err(), workflow.ErrCanceled)
	reason := errorText(cause)
	if canceled {
		reason = o.in.Kind + " canceled"
	}
	o.prog.p.LastError = reason
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if canceled {
		ok, err := o.write(dctx, store.OperationUpdate{Phase: store.PhaseUpdating, Message: reason + ": rolling back"})
		if err != nil || !ok {
			// The store is being deleted: nothing to return to.
			return res, temporal.NewCanceledError(reason)
		}
	}
	res, err := o.settle(dctx, res, o.in.Spec, o.before, cause)
	if canceled && err == nil {
		return res, temporal.NewCanceledError(reason)
	}
	return res, err
}

// settle rolls back to revision before (if any), waits for it and records
// the store as it was with the failure; a rollback that fails makes the
// store degraded until a retry signal.
func (o *opRun) settle(ctx workflow.Context, res OperateStoreResult, spec store.Spec, before int, cause error) (OperateStoreResult, error) {
	var a *activities.Activities
	res.Failed, res.Reason = true, errorText(cause)
	if before == 0 {
		// Nothing was deployed to return to: the store stays as recorded.
		return res, o.finish(ctx, &res, spec, 0, cause)
	}
	for {
		var rr activities.RollbackResult
		err := o.prog.run(ctx, StepAutoRollback, func() error {
			if err := workflow.ExecuteActivity(installOptions(ctx, o.t), a.RollbackRelease,
				activities.RollbackInput{Spec: spec, Revision: before}).Get(ctx, &rr); err != nil {
				return err
			}
			var wp activities.WaitProgress
			return workflow.ExecuteActivity(waitOptions(ctx, o.t, o.t.Ready), a.WaitReady, activities.NamespaceInput{Spec: rr.Spec}).Get(ctx, &wp)
		})
		if err == nil {
			res.Revision, res.RolledBackTo = rr.Revision, before
			o.url = rr.URL
			return res, o.finish(ctx, &res, rr.Spec, rr.Revision, cause)
		}
		reason := fmt.Sprintf("%s failed (%s) and so did the rollback to revision %d: %s", o.in.Kind, res.Reason, before, errorText(err))
		o.prog.p.LastError = reason
		_ = o.prog.enter(ctx, store.PhaseDegraded, func() error {
			_, err := o.write(ctx, store.OperationUpdate{Phase: store.PhaseDegraded, Message: reason + "; send the retry signal"})
			return err
		})
		res.Phase = store.PhaseDegraded
		if !awaitRetry(ctx, o.prog, o.retry, o.t.RetryWindow) {
			if errors.Is(ctx.Err(), workflow.ErrCanceled) {
				return res, temporal.NewCanceledError(reason)
			}
			return res, temporal.NewNonRetryableApplicationError(reason, activities.ErrStoreFailed, nil)
		}
		o.prog.p.Attempt++
	}
}

// finish records the store in the phase its spec implies (ready or
// suspended), with spec and revision, and the operation's result.
func (o *opRun) finish(ctx workflow.Context, res *OperateStoreResult, spec store.Spec, rev int, cause error) error {
	phase, msg := store.PhaseReady, "store is ready"
	if spec.Suspended {
		phase, msg = store.PhaseSuspended, "store is suspended"
	}
	if cause != nil {
		msg = o.in.Kind + " failed: " + errorText(cause)
		if res.RolledBackTo > 0 {
			msg += fmt.Sprintf("; rolled back to revision %d", res.RolledBackTo)
		}
	}
	res.Phase = phase
	result := &store.OperationResult{Kind: o.in.Kind, Failed: cause != nil, Revision: rev, RolledBackTo: res.RolledBackTo,
		WorkflowID: o.id, FinishedAt: workflow.Now(ctx).UTC()}
	if cause != nil {
		result.Reason = errorText(cause)
	}
	return o.prog.run(ctx, StepRecord, func() error {
		return o.prog.enter(ctx, phase, func() error {
			_, err := o.write(ctx, store.OperationUpdate{Phase: phase, Message: msg, Spec: &spec, Revision: rev,
				Result: result, URL: o.storeURL(spec)})
			return err
		})
	})
}

// storeURL is the URL the last Helm action reported (https when the
// release has TLS), or http://<host> when it reported none (results from
// before the URL was reported, or no action ran).
func (o *opRun) storeURL(spec store.Spec) string {
	if o.url != "" {
		return o.url
	}
	return "http://" + spec.Host
}

// write applies u to the store's record; false when a creation or deletion
// has the store.
func (o *opRun) write(ctx workflow.Context, u store.OperationUpdate) (bool, error) {
	var a *activities.Activities
	u.Name, u.Generation = o.in.Spec.Name, o.in.Spec.Generation
	u.At = workflow.Now(ctx).UTC()
	var ok bool
	err := workflow.ExecuteActivity(shortOptions(ctx, o.t), a.RecordOperation, u).Get(ctx, &ok)
	return ok, err
}

// reread makes an upgrade's target the store's spec as recorded now, with
// the rollout's chart version.
func (o *opRun) reread(ctx workflow.Context) error {
	var a *activities.Activities
	var now map[string]activities.StoreNow
	if err := workflow.ExecuteActivity(shortOptions(ctx, o.t), a.GetStores, []string{o.in.Spec.Name}).Get(ctx, &now); err != nil {
		return err
	}
	cur, ok := now[o.in.Spec.Name]
	if !ok || cur.Spec.Generation != o.in.Spec.Generation {
		return temporal.NewNonRetryableApplicationError("store "+o.in.Spec.Name+" is gone", activities.ErrNotOperable, nil)
	}
	target := cur.Spec
	target.ChartVersion = o.in.Target.ChartVersion
	v := cur.SpecVersion
	o.in.Spec, o.in.Target, o.in.SpecVersion = cur.Spec, &target, &v
	return nil
}

// isType reports whether err is an application error of type typ.
func isType(err error, typ string) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == typ
}
