package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// opWrites records what OperateStore writes to the record.
type opWrites struct {
	mu       sync.Mutex
	got      []store.OperationUpdate
	operable bool
}

func (w *opWrites) record(_ context.Context, u store.OperationUpdate) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, u)
	return w.operable, nil
}

func (w *opWrites) phases() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var s []string
	for _, u := range w.got {
		s = append(s, string(u.Phase))
	}
	return strings.Join(s, ",")
}

func (w *opWrites) last() store.OperationUpdate {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got[len(w.got)-1]
}

func opEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *opWrites) {
	t.Helper()
	env, _ := newEnv(t)
	w := &opWrites{operable: true}
	env.OnActivity(a.RecordOperation, mock.Anything, mock.Anything).Return(w.record).Maybe()
	env.OnActivity(a.GetReleaseState, mock.Anything, mock.Anything).Return(activities.ReleaseState{Revision: 3, Status: "deployed", Deployed: 3}, nil).Once()
	return env, w
}

func changeInput() OperateStoreInput {
	cur := spec(store.EngineWooCommerce)
	target := cur
	target.Title, target.Size = "New title", store.SizeMedium
	return OperateStoreInput{Kind: store.OpChange, Spec: cur, Target: &target}
}

func TestOperateStoreChangeReachesReady(t *testing.T) {
	env, w := opEnv(t)
	in := changeInput()
	env.OnActivity(a.InstallRelease, mock.Anything, activities.NamespaceInput{Spec: *in.Target}).Return(activities.InstallResult{Revision: 4, Action: "upgrade", URL: "https://shop.example.com"}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: *in.Target}).Return(activities.WaitProgress{Ready: 2, Total: 2}, nil).Once()
	env.ExecuteWorkflow(OperateStore, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res OperateStoreResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Phase != store.PhaseReady || res.Revision != 4 || res.Failed {
		t.Fatalf("result %+v", res)
	}
	if got := w.phases(); got != "updating,ready" {
		t.Fatalf("phases %s", got)
	}
	last := w.last()
	if last.Spec == nil || *last.Spec != *in.Target || last.Revision != 4 || last.Result == nil || last.Result.Failed || last.Result.Kind != store.OpChange {
		t.Fatalf("last write %+v", last)
	}
	if last.URL != "https://shop.example.com" {
		t.Fatalf("recorded URL %q, want the https URL the upgrade reported", last.URL)
	}
	if w.got[0].Operation == nil || w.got[0].Operation.Kind != store.OpChange || w.got[0].Operation.WorkflowID == "" {
		t.Fatalf("first write does not mark the operation: %+v", w.got[0])
	}
	env.AssertExpectations(t)
}

// TestOperateStoreRollsBackAFailedChange covers both ways a change fails:
// the upgrade itself, and workloads that do not become ready in time.
func TestOperateStoreRollsBackAFailedChange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		installErr error
		waitErr    error
	}{
		{"upgrade rejected", permanent("values rejected", activities.ErrInvalidChart), nil},
		{"not ready in time", nil, temporal.NewTimeoutError(0, errors.New("deadline"))},
		{"workload failed", nil, permanent("pod x: ImagePullBackOff", activities.ErrWorkloadFailed)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, w := opEnv(t)
			in := changeInput()
			env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).Return(activities.InstallResult{Revision: 4}, tc.installErr).Once()
			if tc.installErr == nil {
				env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: *in.Target}).Return(activities.WaitProgress{}, tc.waitErr).Once()
			}
			env.OnActivity(a.RollbackRelease, mock.Anything, activities.RollbackInput{Spec: in.Spec, Revision: 3}).
				Return(activities.RollbackResult{Revision: 5, Spec: in.Spec, Action: "rollback"}, nil).Once()
			env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: in.Spec}).Return(activities.WaitProgress{Ready: 2, Total: 2}, nil).Once()
			env.SetWorkflowRunTimeout(time.Hour)
			env.ExecuteWorkflow(OperateStore, in)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res OperateStoreResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.Phase != store.PhaseReady || !res.Failed || res.RolledBackTo != 3 || res.Revision != 5 {
				t.Fatalf("result %+v", res)
			}
			last := w.last()
			if *last.Spec != in.Spec || last.Result == nil || !last.Result.Failed || last.Result.RolledBackTo != 3 || last.Result.Reason == "" {
				t.Fatalf("last write %+v (result %+v)", last, last.Result)
			}
			if got := w.phases(); got != "updating,ready" {
				t.Fatalf("phases %s", got)
			}
			env.AssertExpectations(t)
		})
	}
}

func TestOperateStoreDegradedUntilRetry(t *testing.T) {
	env, w := opEnv(t)
	in := changeInput()
	env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).Return(activities.InstallResult{Revision: 4}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: *in.Target}).Return(activities.WaitProgress{}, permanent("pods pending", activities.ErrWorkloadFailed)).Once()
	env.OnActivity(a.RollbackRelease, mock.Anything, mock.Anything).Return(activities.RollbackResult{}, permanent("helm broke", "HelmBroken")).Once()
	env.OnActivity(a.RollbackRelease, mock.Anything, mock.Anything).Return(activities.RollbackResult{Revision: 6, Spec: in.Spec}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: in.Spec}).Return(activities.WaitProgress{Ready: 2, Total: 2}, nil).Once()
	env.RegisterDelayedCallback(func() {
		prog := queryProgress(t, env)
		if prog.Phase != store.PhaseDegraded || prog.WaitingFor != SignalRetry || !strings.Contains(prog.LastError, "helm broke") {
			t.Errorf("while degraded: %+v", prog)
		}
		env.SignalWorkflow(SignalRetry, nil)
	}, time.Hour)
	env.ExecuteWorkflow(OperateStore, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := w.phases(); got != "updating,degraded,ready" {
		t.Fatalf("phases %s", got)
	}
	if r := w.last().Result; r == nil || !r.Failed || r.RolledBackTo != 3 {
		t.Fatalf("result %+v", r)
	}
	env.AssertExpectations(t)
}

func TestOperateStoreRollbackToRevision(t *testing.T) {
	env, w := opEnv(t)
	cur := spec(store.EngineWooCommerce)
	old := cur
	old.Title = "Old title"
	env.OnActivity(a.RollbackRelease, mock.Anything, activities.RollbackInput{Spec: cur, Revision: 1}).Return(activities.RollbackResult{Revision: 4, Spec: old}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: old}).Return(activities.WaitProgress{Ready: 2, Total: 2}, nil).Once()
	env.ExecuteWorkflow(OperateStore, OperateStoreInput{Kind: store.OpRollback, Spec: cur, Revision: 1})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	last := w.last()
	if *last.Spec != old || last.Revision != 4 || last.Phase != store.PhaseReady {
		t.Fatalf("last write %+v", last)
	}
	env.AssertExpectations(t)
}

func TestOperateStoreSuspendRecordsSuspended(t *testing.T) {
	env, w := opEnv(t)
	cur := spec(store.EngineMedusa)
	target := cur
	target.Suspended = true
	env.OnActivity(a.InstallRelease, mock.Anything, activities.NamespaceInput{Spec: target}).Return(activities.InstallResult{Revision: 4}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: target}).Return(activities.WaitProgress{}, nil).Once()
	env.ExecuteWorkflow(OperateStore, OperateStoreInput{Kind: store.OpSuspend, Spec: cur, Target: &target})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := w.phases(); got != "updating,suspended" {
		t.Fatalf("phases %s", got)
	}
	env.AssertExpectations(t)
}

// TestOperateStoreStopsWhenADeletionTookOver: a canceled operation whose
// store is being deleted (the record refuses the write) does not roll back.
func TestOperateStoreStopsWhenADeletionTookOver(t *testing.T) {
	env, w := opEnv(t)
	in := changeInput()
	env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).Return(activities.InstallResult{Revision: 4}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, mock.Anything).After(time.Hour).Return(activities.WaitProgress{}, nil).Maybe()
	env.OnActivity(a.RollbackRelease, mock.Anything, mock.Anything).Return(activities.RollbackResult{}, nil).Never()
	env.RegisterDelayedCallback(func() {
		w.mu.Lock()
		w.operable = false // DeleteStore recorded "deleting"
		w.mu.Unlock()
		env.CancelWorkflow()
	}, time.Minute)
	env.ExecuteWorkflow(OperateStore, in)
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("want canceled, got %v", err)
	}
	if got := w.phases(); got != "updating,updating" {
		t.Fatalf("phases %s", got)
	}
}

func TestOperateStoreRefusesAStoreBeingDeleted(t *testing.T) {
	env, _ := newEnv(t)
	w := &opWrites{operable: false}
	env.OnActivity(a.RecordOperation, mock.Anything, mock.Anything).Return(w.record).Once()
	env.ExecuteWorkflow(OperateStore, changeInput())
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != activities.ErrNotOperable {
		t.Fatalf("want %s, got %v", activities.ErrNotOperable, err)
	}
	env.AssertExpectations(t)
}

func TestOperateStoreRejectsBadInput(t *testing.T) {
	other := spec(store.EngineMedusa)
	other.Name = "other"
	for _, in := range []OperateStoreInput{
		{Kind: "explode", Spec: spec(store.EngineWooCommerce)},
		{Kind: store.OpChange, Spec: spec(store.EngineWooCommerce)},
		{Kind: store.OpChange, Spec: spec(store.EngineWooCommerce), Target: &other},
		{Kind: store.OpRollback, Spec: spec(store.EngineWooCommerce)},
	} {
		t.Run(fmt.Sprintf("%s-%v", in.Kind, in.Target != nil), func(t *testing.T) {
			env, _ := newEnv(t)
			env.ExecuteWorkflow(OperateStore, in)
			var app *temporal.ApplicationError
			if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != activities.ErrInvalidSpec {
				t.Fatalf("want %s, got %v", activities.ErrInvalidSpec, err)
			}
		})
	}
}

// TestUpgradeAppliesToTheStoreAsItIsNow (hole 8 of #20): a rollout's upgrade
// asked when the store had spec version 1 starts after a change made it
// version 2 (a new title): the record refuses the start, the upgrade reads
// the store again and upgrades the changed spec, so the change is kept.
func TestUpgradeAppliesToTheStoreAsItIsNow(t *testing.T) {
	env, _ := newEnv(t)
	old := spec(store.EngineWooCommerce)
	target := old
	target.ChartVersion = "0.5.0"
	v1 := 1
	in := OperateStoreInput{Kind: store.OpUpgrade, Spec: old, Target: &target, SpecVersion: &v1}
	changed := old
	changed.Title = "Changed by the tenant"
	want := changed
	want.ChartVersion = "0.5.0"
	starts := 0
	env.OnActivity(a.RecordOperation, mock.Anything, mock.Anything).Return(func(_ context.Context, u store.OperationUpdate) (bool, error) {
		if u.Operation == nil {
			return true, nil
		}
		starts++
		if *u.SpecVersion != 2 {
			return false, temporal.NewNonRetryableApplicationError("changed", activities.ErrSpecChanged, nil)
		}
		return true, nil
	})
	env.OnActivity(a.GetStores, mock.Anything, []string{old.Name}).Return(map[string]activities.StoreNow{
		old.Name: {Spec: changed, Phase: store.PhaseReady, Revision: 3, SpecVersion: 2}}, nil).Once()
	env.OnActivity(a.GetReleaseState, mock.Anything, mock.Anything).Return(activities.ReleaseState{Revision: 3, Status: "deployed", Deployed: 3}, nil).Once()
	env.OnActivity(a.InstallRelease, mock.Anything, activities.NamespaceInput{Spec: want}).Return(activities.InstallResult{Revision: 4, Action: "upgrade"}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, activities.NamespaceInput{Spec: want}).Return(activities.WaitProgress{Ready: 1, Total: 1}, nil).Once()
	env.ExecuteWorkflow(OperateStore, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if starts != 2 {
		t.Fatalf("%d starts, want 2 (refused, then on the store as it is)", starts)
	}
	env.AssertExpectations(t)
}

// TestChangeOfAChangedStoreIsRefused: a change asked on spec version 1
// that starts after another change is refused, with nothing applied.
func TestChangeOfAChangedStoreIsRefused(t *testing.T) {
	env, _ := newEnv(t)
	in := changeInput()
	v1 := 1
	in.SpecVersion = &v1
	env.OnActivity(a.RecordOperation, mock.Anything, mock.Anything).Return(false,
		temporal.NewNonRetryableApplicationError("changed", activities.ErrSpecChanged, nil)).Once()
	env.ExecuteWorkflow(OperateStore, in)
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != activities.ErrSpecChanged {
		t.Fatalf("workflow error %v, want %s", env.GetWorkflowError(), activities.ErrSpecChanged)
	}
	env.AssertExpectations(t)
}

// TestHostChangeHoldsTheNewHostFirst (hole 2/3 of #20): an operation that
// will serve another host holds it before its Helm action; a host taken
// meanwhile ends the operation failed with nothing changed.
func TestHostChangeHoldsTheNewHostFirst(t *testing.T) {
	env, _ := newEnv(t)
	w := &opWrites{operable: true}
	env.OnActivity(a.RecordOperation, mock.Anything, mock.Anything).Return(w.record)
	in := changeInput()
	in.Target.Host = "new.example.com"
	in.Hosts = []string{"new.example.com"}
	env.OnActivity(a.HoldHosts, mock.Anything, activities.HoldHostsInput{Spec: in.Spec, Hosts: in.Hosts}).Return(
		temporal.NewNonRetryableApplicationError("the host new.example.com is taken by another store", activities.ErrHostTaken, nil)).Once()
	env.ExecuteWorkflow(OperateStore, in)
	var res OperateStoreResult
	if err := env.GetWorkflowResult(&res); err == nil && !res.Failed {
		t.Fatalf("result %+v, want failed", res)
	}
	last := w.last()
	if last.Result == nil || !last.Result.Failed || !strings.Contains(last.Result.Reason, "new.example.com") || last.Spec.Host != in.Spec.Host {
		t.Fatalf("last write %+v, want the failure recorded and the old host kept", last)
	}
	env.AssertExpectations(t)
}
