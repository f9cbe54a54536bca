package workflows

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

func rolloutStores(names ...string) map[string]activities.StoreNow {
	out := map[string]activities.StoreNow{}
	for _, n := range names {
		s := spec(store.EngineWooCommerce)
		s.Name, s.ChartVersion = n, "0.1.0"
		out[n] = activities.StoreNow{Spec: s, Phase: store.PhaseReady, Revision: 1}
	}
	return out
}

// TestRolloutCanaryFailureStops: a canary that fails (and is rolled back
// by its OperateStore) ends the rollout as failed before any other store.
func TestRolloutCanaryFailureStops(t *testing.T) {
	env, _ := newEnv(t)
	env.RegisterWorkflow(OperateStore)
	env.OnActivity(a.ListRolloutTargets, mock.Anything, mock.Anything).Return([]activities.RolloutTarget{
		{Name: "a", Generation: 1}, {Name: "b", Generation: 1}, {Name: "c", Generation: 1}}, nil).Once()
	env.OnActivity(a.GetStores, mock.Anything, []string{"a"}).Return(rolloutStores("a"), nil).Once()
	env.OnWorkflow(OperateStore, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in OperateStoreInput) (OperateStoreResult, error) {
		if in.Kind != store.OpUpgrade || in.Target.ChartVersion != "0.2.0" || in.Spec.Name != "a" {
			return OperateStoreResult{}, errors.New("unexpected input")
		}
		return OperateStoreResult{Kind: in.Kind, Phase: store.PhaseReady, Failed: true, Reason: "not ready", RolledBackTo: 1, Revision: 3}, nil
	}).Once()
	env.OnActivity(a.SetCurrentChartVersion, mock.Anything, mock.Anything).Return(nil).Never()
	env.ExecuteWorkflow(RolloutStores, RolloutInput{RolloutSettings: RolloutSettings{ID: "r", ChartVersion: "0.2.0", Canary: 1, BatchSize: 2, MaxFailures: 5}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st RolloutState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Status != RolloutFailed || st.Stores[0].State != StoreFailed || st.Counts[StorePending] != 2 || st.CanaryPassed {
		t.Fatalf("state %+v", st)
	}
	env.AssertExpectations(t)
}

// TestRolloutBatchContinuesAsNew: after a ready canary the version becomes
// the default and the next batch runs in a new run carrying the state; a
// store deleted meanwhile is dropped, one on the version counts as ready.
func TestRolloutBatchContinuesAsNew(t *testing.T) {
	env, _ := newEnv(t)
	env.RegisterWorkflow(OperateStore)
	stores := rolloutStores("a", "c")
	done := stores["c"]
	done.Spec.ChartVersion = "0.2.0"
	stores["c"] = done
	env.OnActivity(a.ListRolloutTargets, mock.Anything, mock.Anything).Return([]activities.RolloutTarget{
		{Name: "a", Generation: 1}, {Name: "b", Generation: 1}, {Name: "c", Generation: 1}}, nil).Once()
	env.OnActivity(a.GetStores, mock.Anything, []string{"a", "b", "c"}).Return(stores, nil).Once()
	env.OnWorkflow(OperateStore, mock.Anything, mock.Anything).Return(OperateStoreResult{Kind: store.OpUpgrade, Phase: store.PhaseReady, Revision: 2}, nil).Once()
	env.OnActivity(a.SetCurrentChartVersion, mock.Anything, "0.2.0").Return(nil).Once()
	env.ExecuteWorkflow(RolloutStores, RolloutInput{RolloutSettings: RolloutSettings{ID: "r", ChartVersion: "0.2.0", Canary: 3, BatchSize: 2}})
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want ContinueAsNew, got %v", err)
	}
	var next RolloutInput
	if err := converterFor(t).FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	st := next.State
	if st == nil || !st.CanaryPassed || st.Batch != 1 || st.Stores[0].State != StoreReady || st.Stores[1].State != StoreDropped || st.Stores[2].State != StoreReady {
		t.Fatalf("carried state %+v", st)
	}
	env.AssertExpectations(t)
}

func converterFor(t *testing.T) converter.DataConverter {
	t.Helper()
	return converter.GetDefaultDataConverter()
}

// TestRolloutPutsBusyStoresLast: a store that is being created when its
// batch comes is not upgraded then; it waits, pending, behind the others.
func TestRolloutPutsBusyStoresLast(t *testing.T) {
	env, _ := newEnv(t)
	env.RegisterWorkflow(OperateStore)
	stores := rolloutStores("a", "b")
	busy := stores["a"]
	busy.Phase = store.PhaseProvisioning
	stores["a"] = busy
	env.OnActivity(a.ListRolloutTargets, mock.Anything, mock.Anything).Return([]activities.RolloutTarget{
		{Name: "a", Generation: 1}, {Name: "b", Generation: 1}}, nil).Once()
	env.OnActivity(a.GetStores, mock.Anything, []string{"a", "b"}).Return(stores, nil).Once()
	env.OnWorkflow(OperateStore, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in OperateStoreInput) (OperateStoreResult, error) {
		if in.Spec.Name != "b" {
			return OperateStoreResult{}, errors.New("a busy store was upgraded")
		}
		return OperateStoreResult{Kind: in.Kind, Phase: store.PhaseReady, Revision: 2}, nil
	}).Once()
	env.OnActivity(a.SetCurrentChartVersion, mock.Anything, "0.2.0").Return(nil).Once()
	env.ExecuteWorkflow(RolloutStores, RolloutInput{RolloutSettings: RolloutSettings{ID: "r", ChartVersion: "0.2.0", Canary: 2, BatchSize: 2}})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want ContinueAsNew, got %v", err)
	}
	var next RolloutInput
	if err := converterFor(t).FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	a0 := next.State.Stores[0]
	if a0.State != StorePending || a0.Busy != 1 || next.State.Stores[1].State != StoreReady {
		t.Fatalf("carried state %+v", next.State.Stores)
	}
	if got := next.State.nextBatch(2); len(got) != 1 || got[0] != 0 {
		t.Fatalf("next batch %v", got)
	}
	env.AssertExpectations(t)
}
