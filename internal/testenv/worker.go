package testenv

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/storeplatform/storeplatform/worker"
)

// StartWorker runs an in-process worker with the real activities on queue,
// writing store records to db, until the test ends.
func (e *Env) StartWorker(t testing.TB, db *mongo.Database, queue string) {
	t.Helper()
	e.StartWorkerWithVersions(t, db, queue, "")
}

// StartWorkerWithVersions is StartWorker with the packaged chart versions
// in versionsDir (CHART_VERSIONS_DIR).
func (e *Env) StartWorkerWithVersions(t testing.TB, db *mongo.Database, queue, versionsDir string) {
	t.Helper()
	acts, err := worker.NewActivities(t.Context(), worker.ActivityDeps{
		Kube: e.Kube, RESTConfig: e.RESTConfig, DB: db, Temporal: e.Temporal, Logger: slog.New(slog.DiscardHandler),
	}, filepath.Join(e.RepoRoot, "charts", "store"), versionsDir, "local")
	if err != nil {
		t.Fatal(err)
	}
	acts.PollInterval = 250 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, e.Temporal, worker.Options{TaskQueue: queue, Register: func(r sdkworker.Registry) { worker.Register(r, acts) }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}
