package workflows

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// historyFiles are the histories exported from the real dev server by the
// worker package's integration tests (STOREPLATFORM_UPDATE_HISTORIES=1).
func historyFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("only %d saved histories in testdata", len(files))
	}
	return files
}

// TestReplaySavedHistories replays every saved history against the current
// workflow code: a change that alters what the workflows do for an existing
// history must be put behind workflow.GetVersion, or this test fails.
func TestReplaySavedHistories(t *testing.T) {
	for _, f := range historyFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(CreateStore)
			r.RegisterWorkflow(DeleteStore)
			r.RegisterWorkflow(OperateStore)
			r.RegisterWorkflow(RolloutStores)
			if err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), f); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}

// changedCreateStore is CreateStore with its first two activities swapped:
// the kind of unversioned change the replay test must catch.
func changedCreateStore(ctx workflow.Context, in CreateStoreInput) (CreateStoreResult, error) {
	var a *activities.Activities
	short := shortOptions(ctx, in.Timeouts.withDefaults())
	if err := workflow.ExecuteActivity(short, a.CreateNamespace, activities.NamespaceInput{Spec: in.Spec}).Get(ctx, nil); err != nil {
		return CreateStoreResult{}, err
	}
	return CreateStoreResult{Phase: store.PhaseReady}, nil
}

func TestReplayDetectsUnversionedChange(t *testing.T) {
	var create string
	for _, f := range historyFiles(t) {
		if strings.HasPrefix(filepath.Base(f), "create_") {
			create = f
		}
	}
	if create == "" {
		t.Fatal("no saved create history")
	}
	if _, err := os.Stat(create); err != nil {
		t.Fatal(err)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(changedCreateStore, workflow.RegisterOptions{Name: "CreateStore"})
	err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), create)
	// TMPRL1100 is the SDK's code for a nondeterminism error.
	if err == nil || !(strings.Contains(err.Error(), "nondeterministic") || strings.Contains(err.Error(), "TMPRL1100")) {
		t.Fatalf("want a nondeterministic error, got %v", err)
	}
}
