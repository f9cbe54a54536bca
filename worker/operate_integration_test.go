package worker_test

import (
	"testing"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// operate runs one OperateStore to its end on the harness's worker.
func (h *harness) operate(t *testing.T, in workflows.OperateStoreInput) (workflows.OperateStoreResult, string) {
	t.Helper()
	in.Timeouts = fast
	run, err := workflows.StartOperation(t.Context(), env.Temporal, h.queue, in)
	if err != nil {
		t.Fatalf("start %s: %v", in.Kind, err)
	}
	var res workflows.OperateStoreResult
	if err := run.Get(t.Context(), &res); err != nil {
		t.Fatalf("%s: %v", in.Kind, err)
	}
	return res, run.GetRunID()
}

// TestOperationsThroughTemporal runs every operation as an operator would
// start it through Temporal, checks the record after each, and that no
// secret reaches the histories (saved for the replay tests with
// STOREPLATFORM_UPDATE_HISTORIES=1).
func TestOperationsThroughTemporal(t *testing.T) {
	env.Require(t)
	h := newHarness(t)
	spec := storeSpec("ops", store.EngineMedusa, 1)
	spec.Size = store.SizeSmall
	create := h.create(t, spec)
	if err := create.Get(t.Context(), nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	secrets := secretValues(t, spec)
	opID := workflows.OperationWorkflowID(spec.Name, spec.Generation)

	changed := spec
	changed.Title, changed.Size = "Changed", store.SizeMedium
	res, runID := h.operate(t, workflows.OperateStoreInput{Kind: store.OpChange, Spec: spec, Target: &changed})
	rec := h.record(t, spec.Name)
	if res.Phase != store.PhaseReady || res.Revision != 2 || rec.Title != "Changed" || rec.Size != store.SizeMedium || rec.Revision != 2 {
		t.Fatalf("change: %+v, record %+v", res, rec)
	}
	assertNoSecretInHistory(t, opID, secrets)
	exportRun(t, opID, runID, "operate_change.json")

	suspended := changed
	suspended.Suspended = true
	res, runID = h.operate(t, workflows.OperateStoreInput{Kind: store.OpSuspend, Spec: changed, Target: &suspended})
	if rec = h.record(t, spec.Name); res.Phase != store.PhaseSuspended || rec.Phase != store.PhaseSuspended {
		t.Fatalf("suspend: %+v, record %+v", res, rec)
	}
	exportRun(t, opID, runID, "operate_suspend.json")

	res, runID = h.operate(t, workflows.OperateStoreInput{Kind: store.OpRollback, Spec: suspended, Revision: 1})
	rec = h.record(t, spec.Name)
	if res.Phase != store.PhaseReady || res.Revision != 4 || rec.Title != spec.Title || rec.Size != store.SizeSmall || rec.Suspended {
		t.Fatalf("rollback: %+v, record %+v", res, rec)
	}
	assertNoSecretInHistory(t, opID, secrets)
	exportRun(t, opID, runID, "operate_rollback.json")

	del := h.delete(t, spec)
	if err := del.Get(t.Context(), nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	exportHistory(t, create.GetID(), "create_medusa_v2.json")
	exportHistory(t, del.GetID(), "delete_medusa_v2.json")
}

// exportRun saves the history of one run of workflowID, like exportHistory.
func exportRun(t *testing.T, workflowID, runID, file string) {
	t.Helper()
	exportHistoryArgs(t, file, "--workflow-id", workflowID, "--run-id", runID)
}
