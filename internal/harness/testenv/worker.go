package testenv

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/platform"

	"github.com/storeplatform/storeplatform/activities"
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

// StartWorkerWith is StartWorker with o: the platform's worker as
// `storeplatform worker` builds it (internal/platform), in this process,
// its activities polling every 250 ms.
func (e *Env) StartWorkerWith(t testing.TB, db *mongo.Database, queue string, o WorkerOptions) {
	t.Helper()
	cfg := e.Config(db.Name(), queue)
	cfg.ChartVersionsDir = o.VersionsDir
	d := e.Deps(db)
	if o.RESTConfig != nil {
		var err error
		d.KubeConfig = o.RESTConfig
		if d.Kube, err = kubernetes.NewForConfig(o.RESTConfig); err != nil {
			t.Fatal(err)
		}
	}
	w, err := platform.NewWorker(t.Context(), cfg, d, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w.Activities.PollInterval = 250 * time.Millisecond
	w.Activities.StoreAccess = o.StoreAccess
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

// Config is the platform's configuration on this stack with the database
// dbName and the task queue queue: every setting's default, the
// repository's store chart with its local profile, no chart versions and
// no dashboard. Config.Environ writes it for a child process.
func (e *Env) Config(dbName, queue string) config.Config {
	cfg := e.st.Config()
	cfg.MongoDB, cfg.TaskQueue = dbName, queue
	cfg.ChartVersionsDir, cfg.WebDir = "", ""
	return cfg
}

// Deps are the stack's connections with db as the platform's database.
func (e *Env) Deps(db *mongo.Database) *deps.Deps {
	return e.st.Deps(db)
}
