package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

func deleteEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *phases) {
	t.Helper()
	env, p := newEnv(t)
	env.OnRequestCancelExternalWorkflow(mock.Anything, CreateWorkflowID("shop", 1), "").Return(nil).Once()
	env.OnActivity(a.AwaitWorkflowClosed, mock.Anything, CreateWorkflowID("shop", 1)).Return(nil).Once()
	env.OnRequestCancelExternalWorkflow(mock.Anything, OperationWorkflowID("shop", 1), "").Return(nil).Once()
	env.OnActivity(a.AwaitWorkflowClosed, mock.Anything, OperationWorkflowID("shop", 1)).Return(nil).Once()
	env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(nil).Once()
	return env, p
}

var blockers = []string{"configmaps/held (example.com/hold)"}

func stuckResult() activities.DeleteNamespaceResult {
	return activities.DeleteNamespaceResult{Blockers: blockers, Conditions: []string{"NamespaceFinalizersRemaining: example.com/hold in 1 resource instances"}}
}

func TestDeleteStoreHappyPath(t *testing.T) {
	env, p := deleteEnv(t)
	env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{Gone: true}, nil).Once()
	env.OnActivity(a.ForceFinalize, mock.Anything, mock.Anything).Return(activities.ForceResult{}, nil).Never()

	env.ExecuteWorkflow(DeleteStore, DeleteStoreInput{Spec: spec(store.EngineWooCommerce)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res DeleteStoreResult
	_ = env.GetWorkflowResult(&res)
	if res.Phase != store.PhaseDeleted || len(res.Forced) != 0 {
		t.Fatalf("result %+v", res)
	}
	if got := p.String(); got != "deleting,deleted" {
		t.Fatalf("phases %s", got)
	}
	env.AssertExpectations(t)
}

func TestDeleteStoreStuckThenSignal(t *testing.T) {
	tests := []struct {
		signal    string
		wantForce bool
	}{
		{SignalRetry, false},
		{SignalForce, true},
	}
	for _, tt := range tests {
		t.Run(tt.signal, func(t *testing.T) {
			env, p := deleteEnv(t)
			env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(stuckResult(), nil).Once()
			env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{Gone: true}, nil).Once()
			force := env.OnActivity(a.ForceFinalize, mock.Anything, mock.Anything).Return(activities.ForceResult{Removed: blockers}, nil)
			if tt.wantForce {
				force.Once()
			} else {
				force.Never()
			}
			env.RegisterDelayedCallback(func() {
				prog := queryProgress(t, env)
				if prog.Phase != store.PhaseDeletionStuck || prog.WaitingFor == "" || len(prog.Blockers) != 2 || prog.Blockers[0] != blockers[0] {
					t.Errorf("while stuck: %+v", prog)
				}
				env.SignalWorkflow(tt.signal, nil)
			}, time.Hour)

			env.ExecuteWorkflow(DeleteStore, DeleteStoreInput{Spec: spec(store.EngineMedusa)})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res DeleteStoreResult
			_ = env.GetWorkflowResult(&res)
			if res.Phase != store.PhaseDeleted || (len(res.Forced) > 0) != tt.wantForce {
				t.Fatalf("result %+v", res)
			}
			if got := p.String(); got != "deleting,deletion_stuck,deleting,deleted" {
				t.Fatalf("phases %s", got)
			}
			env.AssertExpectations(t)
		})
	}
}

// TestDeleteStoreCanceledWhileStuck: a cancellation of a stuck deletion
// ends the workflow as canceled, with the store recorded as still stuck and
// how to go on; before, the workflow kept waiting for a signal.
func TestDeleteStoreCanceledWhileStuck(t *testing.T) {
	env, p := deleteEnv(t)
	env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(stuckResult(), nil).Once()
	env.RegisterDelayedCallback(func() {
		if prog := queryProgress(t, env); prog.Phase != store.PhaseDeletionStuck {
			t.Errorf("not stuck before the cancellation: %+v", prog)
		}
		env.CancelWorkflow()
	}, time.Hour)
	env.ExecuteWorkflow(DeleteStore, DeleteStoreInput{Spec: spec(store.EngineMedusa)})
	if !env.IsWorkflowCompleted() {
		t.Fatal("the workflow still runs after the cancellation")
	}
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("error %v, want canceled", err)
	}
	if got := p.String(); got != "deleting,deletion_stuck,deletion_stuck" {
		t.Fatalf("phases %s", got)
	}
	if msg := p.msg[len(p.msg)-1]; !strings.Contains(msg, "canceled while stuck") {
		t.Fatalf("last record %q", msg)
	}
	env.AssertExpectations(t)
}

func TestDeleteStoreFailedStepWaitsForOperator(t *testing.T) {
	env, p := newEnv(t)
	env.OnRequestCancelExternalWorkflow(mock.Anything, mock.Anything, mock.Anything).Return(errors.New("workflow not found")).Twice()
	env.OnActivity(a.AwaitWorkflowClosed, mock.Anything, mock.Anything).Return(nil).Twice()
	env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(permanent("helm storage is corrupt", "HelmBroken")).Once()
	env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{Gone: true}, nil).Once()
	env.RegisterDelayedCallback(func() {
		prog := queryProgress(t, env)
		if prog.Phase != store.PhaseDeletionStuck || !strings.Contains(strings.Join(prog.Blockers, " "), "helm storage is corrupt") {
			t.Errorf("while stuck: %+v", prog)
		}
		env.SignalWorkflow(SignalRetry, nil)
	}, time.Hour)
	env.ExecuteWorkflow(DeleteStore, DeleteStoreInput{Spec: spec(store.EngineWooCommerce)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "deleting,deletion_stuck,deleting,deleted" {
		t.Fatalf("phases %s", got)
	}
	env.AssertExpectations(t)
}

func TestDeleteStoreProgressQuery(t *testing.T) {
	env, _ := deleteEnv(t)
	env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).After(10*time.Minute).Return(activities.DeleteNamespaceResult{Gone: true}, nil).Once()
	env.RegisterDelayedCallback(func() {
		prog := queryProgress(t, env)
		if prog.Workflow != "delete" || prog.CurrentStep != StepDeleteNamespace || prog.Phase != store.PhaseDeleting {
			t.Errorf("during namespace deletion: %+v", prog)
		}
	}, 5*time.Minute)
	env.ExecuteWorkflow(DeleteStore, DeleteStoreInput{Spec: spec(store.EngineWooCommerce)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range queryProgress(t, env).Steps {
		names = append(names, s.Name+":"+s.Status)
	}
	want := "record:done,stop-create:done,uninstall:done,delete-namespace:done,record:done"
	if strings.Join(names, ",") != want {
		t.Fatalf("steps %v, want %s", names, want)
	}
	env.AssertExpectations(t)
}
