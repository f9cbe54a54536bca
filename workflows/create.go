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

// CreateStoreInput is the input of CreateStore. It holds no secret.
type CreateStoreInput struct {
	Spec     store.Spec `json:"spec"`
	Timeouts Timeouts   `json:"timeouts,omitempty"`
}

// CreateStoreResult is the result of CreateStore.
type CreateStoreResult struct {
	Name     string      `json:"name"`
	Phase    store.Phase `json:"phase"`
	URL      string      `json:"url"`
	Attempts int         `json:"attempts"`
}

// Names of CreateStore's steps, as the progress query reports them.
const (
	StepNamespace   = "namespace"
	StepCredentials = "credentials"
	StepInstall     = "install"
	StepWaitReady   = "wait-ready"
	StepRecord      = "record"
	StepCompensate  = "compensate"
)

// CreateStore provisions a store: record provisioning -> namespace ->
// credentials -> Helm install -> wait until ready -> record ready, writing
// the store's phase to MongoDB at each stage. A permanent failure (or
// retries running out) undoes what was made — uninstall, delete the
// namespace — on a disconnected context, records the store failed with the
// reason, and waits for a retry signal (Timeouts.RetryWindow) before the
// workflow ends as failed. Cancellation undoes the same way and ends the
// workflow. When the store's record refuses a write (a deletion has the
// store, or its generation is gone) it ends at once, undoing and recording
// nothing: ErrSuperseded, or success when the ready write had committed.
func CreateStore(ctx workflow.Context, in CreateStoreInput) (CreateStoreResult, error) {
	r, err := newCreateRun(ctx, in)
	if err != nil {
		return CreateStoreResult{}, err
	}
	return r.run(ctx)
}

// createRun is one execution of CreateStore.
type createRun struct {
	in    CreateStoreInput
	t     Timeouts
	prog  *tracker
	retry workflow.ReceiveChannel
	url   string
	undo  []compensation
}

// newCreateRun checks in's spec, serves the progress query and sets the
// run's search attributes.
func newCreateRun(ctx workflow.Context, in CreateStoreInput) (*createRun, error) {
	if err := in.Spec.Validate(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidSpec, err)
	}
	prog, err := newTracker(ctx, "create", in.Spec)
	if err != nil {
		return nil, err
	}
	r := &createRun{in: in, t: in.Timeouts.withDefaults(), prog: prog, retry: workflow.GetSignalChannel(ctx, SignalRetry)}
	r.url = "http://" + in.Spec.Host
	if err := workflow.UpsertTypedSearchAttributes(ctx, searchAttributes(in.Spec, store.PhaseProvisioning)...); err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
	}
	return r, nil
}

// run provisions the store, and after a failure undoes, records it and
// waits for a retry signal, attempt after attempt.
func (r *createRun) run(ctx workflow.Context) (CreateStoreResult, error) {
	res := CreateStoreResult{Name: r.in.Spec.Name, URL: r.url}
	for {
		res.Attempts = r.prog.p.Attempt
		err := r.provision(ctx)
		res.URL = r.url
		if err == nil {
			res.Phase = store.PhaseReady
			return res, nil
		}
		if phase, ok := moved(err); ok {
			// The store's state machine refused a write: a deletion has the
			// store (it undoes what was made), or its generation is gone.
			// Nothing is undone or recorded here.
			res.Phase = phase
			if phase.Operable() {
				return res, nil // the ready write had committed before a retry of it
			}
			return res, temporal.NewNonRetryableApplicationError("store creation superseded: the store is "+string(phase), activities.ErrSuperseded, nil)
		}
		canceled := temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled)
		reason := errorText(err)
		if canceled {
			reason = "creation canceled"
		}
		// Undo and record on a context that survives cancellation.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		r.compensate(dctx)
		r.prog.p.LastError = reason
		_ = r.prog.enter(dctx, store.PhaseFailed, func() error {
			return r.record(dctx, store.StatusUpdate{Phase: store.PhaseFailed, Message: reason})
		})
		res.Phase = store.PhaseFailed
		if canceled {
			return res, err
		}
		if !awaitRetry(ctx, r.prog, r.retry, r.t.RetryWindow) {
			if errors.Is(ctx.Err(), workflow.ErrCanceled) {
				return res, temporal.NewCanceledError(reason)
			}
			return res, temporal.NewNonRetryableApplicationError("store creation failed: "+reason, activities.ErrStoreFailed, nil)
		}
		r.prog.p.Attempt++
		r.prog.p.LastError = ""
	}
}

// compensations are undone in reverse order after a failure.
type compensation int

const (
	undoNamespace compensation = iota
	undoRelease
)

// provision runs the steps once. It returns the first error.
func (r *createRun) provision(ctx workflow.Context) (err error) {
	var a *activities.Activities
	spec := r.in.Spec
	in := activities.NamespaceInput{Spec: spec}
	short := shortOptions(ctx, r.t)

	if err := r.prog.run(ctx, StepRecord, func() error {
		return r.prog.enter(ctx, store.PhaseProvisioning, func() error {
			return r.record(ctx, store.StatusUpdate{Phase: store.PhaseProvisioning, Message: "creating namespace", Spec: &spec})
		})
	}); err != nil {
		return err
	}

	r.undo = r.undo[:0]
	if err := r.prog.run(ctx, StepNamespace, func() error {
		return workflow.ExecuteActivity(short, a.CreateNamespace, in).Get(ctx, nil)
	}); err != nil {
		return err
	}
	r.undo = append(r.undo, undoNamespace)

	if err := r.prog.run(ctx, StepCredentials, func() error {
		var cr activities.CredentialsResult
		return workflow.ExecuteActivity(short, a.EnsureCredentials, in).Get(ctx, &cr)
	}); err != nil {
		return err
	}

	r.note(ctx, "installing the Helm release")
	r.undo = append(r.undo, undoRelease) // a failed install can leave objects behind
	if err := r.prog.run(ctx, StepInstall, func() error {
		var ir activities.InstallResult
		if err := workflow.ExecuteActivity(installOptions(ctx, r.t), a.InstallRelease, in).Get(ctx, &ir); err != nil {
			return err
		}
		if ir.URL != "" { // https when the release has TLS; results from before it had no URL
			r.url = ir.URL
		}
		return nil
	}); err != nil {
		return err
	}

	r.note(ctx, "waiting for the store's workloads")
	if err := r.prog.run(ctx, StepWaitReady, func() error {
		var wp activities.WaitProgress
		return workflow.ExecuteActivity(waitOptions(ctx, r.t, r.t.Ready), a.WaitReady, in).Get(ctx, &wp)
	}); err != nil {
		return err
	}

	ready := func() error {
		return r.record(ctx, store.StatusUpdate{Phase: store.PhaseReady, Message: "store is ready", URL: r.url})
	}
	if workflow.GetVersion(ctx, versionEnterPhase, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Histories from before enter: the record, then the search attribute.
		if err := r.prog.run(ctx, StepRecord, ready); err != nil {
			return err
		}
		return r.prog.enter(ctx, store.PhaseReady, nil)
	}
	return r.prog.run(ctx, StepRecord, func() error { return r.prog.enter(ctx, store.PhaseReady, ready) })
}

// compensate undoes the steps that succeeded, newest first. Each undo is
// idempotent; a failure is recorded in the progress and does not stop the
// others (the namespace deletion removes whatever the uninstall left).
func (r *createRun) compensate(ctx workflow.Context) {
	if len(r.undo) == 0 {
		return
	}
	var a *activities.Activities
	in := activities.NamespaceInput{Spec: r.in.Spec}
	r.prog.start(ctx, StepCompensate)
	var errs []error
	for i := len(r.undo) - 1; i >= 0; i-- {
		switch r.undo[i] {
		case undoRelease:
			errs = append(errs, workflow.ExecuteActivity(installOptions(ctx, r.t), a.UninstallRelease, in).Get(ctx, nil))
		case undoNamespace:
			var res activities.DeleteNamespaceResult
			// Bounded: a namespace that will not go is left to DeleteStore and
			// its operator signals.
			err := workflow.ExecuteActivity(waitOptions(ctx, r.t, r.t.StuckAfter+r.t.Short), a.DeleteNamespace,
				activities.DeleteNamespaceInput{NamespaceInput: in, StuckAfter: r.t.StuckAfter}).Get(ctx, &res)
			if err == nil && !res.Gone {
				err = fmt.Errorf("namespace %s not deleted: %v", r.in.Spec.Namespace(), res.Blockers)
			}
			errs = append(errs, err)
		}
	}
	r.undo = r.undo[:0]
	r.prog.end(ctx, errors.Join(errs...))
	if last := &r.prog.p.Steps[len(r.prog.p.Steps)-1]; last.Status == StepDone {
		last.Status = StepCompensated
	}
}

// note writes a progress message to the store's record; a failure to write
// it does not fail the store.
func (r *createRun) note(ctx workflow.Context, msg string) {
	_ = r.record(ctx, store.StatusUpdate{Message: msg})
}

// record writes u to the store's record as the creation's writer.
func (r *createRun) record(ctx workflow.Context, u store.StatusUpdate) error {
	u.Writer = store.WriterCreate
	u.CreateWorkflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	return recordStatus(ctx, r.t, r.in.Spec, u)
}

// errorText is the message of the first application error in err's chain,
// else the kind of its timeout, else the error's own text: what an operator
// needs, without the SDK's wrapping.
func errorText(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return "timed out (" + te.TimeoutType().String() + ")"
	}
	return err.Error()
}

// awaitRetry waits for the retry signal on ch for up to window, showing in
// the progress that it waits; it reports whether to try again.
func awaitRetry(ctx workflow.Context, prog *tracker, ch workflow.ReceiveChannel, window time.Duration) bool {
	prog.p.WaitingFor = SignalRetry
	defer func() { prog.p.WaitingFor = "" }()
	retry := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		retry = true
	})
	sel.AddFuture(workflow.NewTimer(ctx, window), func(workflow.Future) {})
	sel.Select(ctx)
	return retry
}
