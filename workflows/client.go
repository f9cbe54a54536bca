package workflows

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/storeplatform/storeplatform/internal/store"
)

// ErrAlreadyCreated is returned by StartCreate when this generation of the
// store was already created successfully: nothing is started again.
var ErrAlreadyCreated = errors.New("store already created")

// StartCreate starts CreateStore for in.Spec, or returns the run that is
// already in progress for it. The workflow ID is derived from the store's
// name and generation; a completed successful creation is never repeated
// (ErrAlreadyCreated), a failed, canceled or terminated one may be started
// again.
func StartCreate(ctx context.Context, c client.Client, taskQueue string, in CreateStoreInput) (client.WorkflowRun, error) {
	opts := client.StartWorkflowOptions{
		ID:                       CreateWorkflowID(in.Spec.Name, in.Spec.Generation),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A running workflow is returned by the conflict policy; only a
		// closed successful one is an error, which must not be hidden.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    startAttributes(in.Spec, store.PhaseRequested),
	}
	run, err := c.ExecuteWorkflow(ctx, opts, CreateStore, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil, ErrAlreadyCreated
	}
	return run, err
}

// StartDelete starts DeleteStore for in.Spec, or returns the run already in
// progress. A store whose deletion completed can be deleted again (which
// finds nothing to do).
func StartDelete(ctx context.Context, c client.Client, taskQueue string, in DeleteStoreInput) (client.WorkflowRun, error) {
	opts := client.StartWorkflowOptions{
		ID:                       DeleteWorkflowID(in.Spec.Name, in.Spec.Generation),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    startAttributes(in.Spec, store.PhaseDeleting),
	}
	return c.ExecuteWorkflow(ctx, opts, DeleteStore, in)
}

// OperationBusy is the error of StartOperation when an operation already
// runs on the store: Kind and WorkflowID name it.
type OperationBusy struct {
	Kind       string
	WorkflowID string
}

func (e *OperationBusy) Error() string {
	return "operation " + e.Kind + " is running on the store (workflow " + e.WorkflowID + ")"
}

// MemoChartVersion is the memo key of a rollout's chart version, for the
// listings of rollouts.
const MemoChartVersion = "chartVersion"

// memoOperation is the memo key naming an operation's kind, so that a
// refused start can say what runs.
const memoOperation = "operation"

// StartOperation starts OperateStore for in. While an operation runs on the
// store it starts nothing and returns *OperationBusy naming it: Temporal
// keeps one running workflow per ID, and every operation of a store has
// the same ID, so two never run at once and no lock can be left held.
func StartOperation(ctx context.Context, c client.Client, taskQueue string, in OperateStoreInput) (client.WorkflowRun, error) {
	id := OperationWorkflowID(in.Spec.Name, in.Spec.Generation)
	opts := client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                taskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    startAttributes(in.Spec, store.PhaseUpdating),
		Memo:                                     map[string]any{memoOperation: in.Kind},
	}
	run, err := c.ExecuteWorkflow(ctx, opts, OperateStore, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil, &OperationBusy{Kind: RunningOperation(ctx, c, id), WorkflowID: id}
	}
	return run, err
}

// RunningOperation names the kind of the operation workflow id runs, from
// its memo ("operation" when it cannot be read).
func RunningOperation(ctx context.Context, c client.Client, id string) string {
	d, err := c.DescribeWorkflow(ctx, id, "")
	if err != nil || d.Memo == nil {
		return "operation"
	}
	var kind string
	// GetMemoValue decodes with the client's data converter, which
	// decrypts the memo when payload encryption is on.
	if d.GetMemoValue(memoOperation, &kind) == nil && kind != "" {
		return kind
	}
	return "operation"
}

// StartRollout starts RolloutStores for in.ID; a rollout of that ID that
// runs, or that ran before, is an error (an ID is used once).
func StartRollout(ctx context.Context, c client.Client, taskQueue string, in RolloutInput) (client.WorkflowRun, error) {
	return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       RolloutWorkflowID(in.ID),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		Memo:                     map[string]any{MemoChartVersion: in.ChartVersion},
	}, RolloutStores, in)
}

// startAttributes are the search attributes a store's workflow starts with.
func startAttributes(spec store.Spec, phase store.Phase) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		StoreNameKey.ValueSet(spec.Name),
		StoreEngineKey.ValueSet(spec.Engine),
		StorePhaseKey.ValueSet(string(phase)),
	)
}

// WorkflowID is the ID of the store's workflow of kind w at generation;
// "" for store.WorkflowNone.
func WorkflowID(w store.Workflow, name string, generation int) string {
	switch w {
	case store.WorkflowCreate:
		return CreateWorkflowID(name, generation)
	case store.WorkflowDelete:
		return DeleteWorkflowID(name, generation)
	case store.WorkflowOperation:
		return OperationWorkflowID(name, generation)
	}
	return ""
}

// RunningCreations lists the IDs of the CreateStore workflows that run,
// from Temporal's visibility, page by page.
func RunningCreations(ctx context.Context, c client.Client) (map[string]bool, error) {
	out := map[string]bool{}
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query:         "WorkflowType = 'CreateStore' AND ExecutionStatus = 'Running'",
			PageSize:      1000,
			NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list running creations: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			out[e.GetExecution().GetWorkflowId()] = true
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}
