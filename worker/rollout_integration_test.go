package worker_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// TestWorkerKilledDuringRollout SIGKILLs the real worker binary while a
// rollout's second batch upgrades stores; a new worker finishes the
// rollout, and every store has exactly one new revision.
func TestWorkerKilledDuringRollout(t *testing.T) {
	env.Require(t)
	bin := filepath.Join(env.RepoRoot, "bin", "storeplatform")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s missing: run `make build`", bin)
	}
	versions := env.ChartVersions(t, []string{"1.1.0"}, nil)
	queue := fmt.Sprintf("kill-rollout-%d", time.Now().UnixNano())
	dbName := fmt.Sprintf("kill_rollout_%d", time.Now().UnixNano())
	first, firstExited := startBinaryWorker(t, bin, queue, dbName, versions)

	var specs []store.Spec
	for i := 1; i <= 6; i++ {
		spec := storeSpec(fmt.Sprintf("killed-%d", i), store.EngineWooCommerce, 1)
		specs = append(specs, spec)
		if _, err := workflows.StartCreate(t.Context(), env.Temporal, queue, workflows.CreateStoreInput{Spec: spec, Timeouts: fast}); err != nil {
			t.Fatal(err)
		}
	}
	for _, spec := range specs {
		run := env.Temporal.GetWorkflow(t.Context(), workflows.CreateWorkflowID(spec.Name, 1), "")
		if err := run.Get(t.Context(), nil); err != nil {
			t.Fatalf("create %s: %v", spec.Name, err)
		}
	}

	in := workflows.RolloutInput{RolloutSettings: workflows.RolloutSettings{ID: fmt.Sprintf("kill-%d", time.Now().UnixNano()),
		ChartVersion: "1.1.0", Canary: 1, BatchSize: 5}, Timeouts: fast}
	run, err := workflows.StartRollout(t.Context(), env.Temporal, queue, in)
	if err != nil {
		t.Fatal(err)
	}
	// Kill the worker once the second batch's upgrades run.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, err := env.Temporal.QueryWorkflow(t.Context(), run.GetID(), "", workflows.QueryRollout)
		var st workflows.RolloutState
		if err == nil && v.Get(&st) == nil && st.Batch == 2 && st.Counts[workflows.StoreUpgrading] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second batch never ran (%v, %+v)", err, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-firstExited

	second, secondExited := startBinaryWorker(t, bin, queue, dbName, versions)
	defer func() { _ = second.Process.Signal(syscall.SIGTERM); <-secondExited }()
	ctx := untilExit(t, secondExited)
	var st workflows.RolloutState
	if err := env.Temporal.GetWorkflow(ctx, run.GetID(), "").Get(ctx, &st); err != nil {
		t.Fatalf("rollout after the worker died: %v", err)
	}
	if st.Status != workflows.RolloutCompleted || st.Counts[workflows.StoreReady] != 6 {
		t.Fatalf("rollout %+v", st)
	}
	// The canary's run (the first of the chain) for the replay tests.
	exportRun(t, run.GetID(), run.GetRunID(), "rollout_canary.json")
	repo := store.NewMongoRepository(env.Mongo.Database(dbName))
	for _, spec := range specs {
		if n := releaseRevisions(t, spec); n != 2 {
			t.Errorf("%s: %d release revisions, want 2 (one upgrade)", spec.Name, n)
		}
		if rec, err := repo.Get(t.Context(), spec.Name); err != nil || rec.ChartVersion != "1.1.0" || rec.Phase != store.PhaseReady {
			t.Errorf("%s: record %+v (%v)", spec.Name, rec, err)
		}
	}
}
