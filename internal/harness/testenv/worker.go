package testenv

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	sdkworker "go.temporal.io/sdk/worker"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/activities"
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
	e.StartWorkerWith(t, db, queue, WorkerOptions{VersionsDir: versionsDir})
}

// WorkerOptions change how StartWorkerWith builds the worker.
type WorkerOptions struct {
	// VersionsDir is CHART_VERSIONS_DIR; empty: none.
	VersionsDir string
	// RESTConfig is the worker's connection to the API server (e.g. one
	// that impersonates a ServiceAccount); nil: the stack's admin.
	RESTConfig *rest.Config
	// StoreAccess is STORE_ROLE_BINDINGS.
	StoreAccess []activities.StoreAccess
}

// StartWorkerWith is StartWorker with o.
func (e *Env) StartWorkerWith(t testing.TB, db *mongo.Database, queue string, o WorkerOptions) {
	t.Helper()
	cfg, kube := e.RESTConfig, e.Kube
	if o.RESTConfig != nil {
		var err error
		cfg = o.RESTConfig
		if kube, err = kubernetes.NewForConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	acts, err := worker.NewActivities(t.Context(), worker.ActivityDeps{
		Kube: kube, RESTConfig: cfg, DB: db, Temporal: e.Temporal, Logger: slog.New(slog.DiscardHandler),
	}, filepath.Join(e.RepoRoot, "charts", "store"), o.VersionsDir, "local")
	if err != nil {
		t.Fatal(err)
	}
	acts.PollInterval = 250 * time.Millisecond
	acts.StoreAccess = o.StoreAccess
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
