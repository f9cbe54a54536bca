package platform

import (
	"context"
	"log/slog"

	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/metrics"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/worker"
)

// Worker is the platform's Temporal worker, built and not yet running:
// its activities (which a test may still adjust) and its probes.
type Worker struct {
	Activities *activities.Activities
	Health     *worker.Health
	cfg        config.Config
	d          *deps.Deps
	m          *metrics.Worker
	logger     *slog.Logger
}

// NewWorker builds the worker of cfg over d; m holds its metrics (d's
// Temporal client was dialled with m's handler), or nil for none.
func NewWorker(ctx context.Context, cfg config.Config, d *deps.Deps, m *metrics.Worker, logger *slog.Logger) (*Worker, error) {
	acts, err := NewActivities(ctx, cfg, d, logger)
	if err != nil {
		return nil, err
	}
	health := worker.NewHealth(func(ctx context.Context) error {
		_, err := d.Temporal.CheckHealth(ctx, &sdkclient.CheckHealthRequest{})
		return err
	})
	if m != nil {
		acts.Metrics = m
		health.Metrics = m.Handler(store.NewMongoRepository(d.DB))
	}
	return &Worker{Activities: acts, Health: health, cfg: cfg, d: d, m: m, logger: logger}, nil
}

// Run serves the probes at WORKER_HTTP_ADDR (when set) and polls the task
// queue until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	if w.cfg.WorkerHTTPAddr != "" {
		if _, err := ServeSide(ctx, "WORKER_HTTP_ADDR", w.cfg.WorkerHTTPAddr, w.Health.Handler(), w.logger); err != nil {
			return err
		}
	}
	w.logger.Info("worker polling", "task_queue", w.cfg.TaskQueue, "chart", w.cfg.ChartDir, "profile", w.cfg.StoreProfile,
		"payload_encryption", w.d.Codec != nil, "temporal_tls", w.cfg.TemporalTLSOn())
	var observer worker.ActivityObserver // a nil *metrics.Worker must not become a non-nil interface
	if w.m != nil {
		observer = w.m
	}
	return worker.Run(ctx, w.d.Temporal, worker.Options{
		TaskQueue:               w.cfg.TaskQueue,
		MaxConcurrentActivities: w.cfg.MaxActivities,
		ActivityPollers:         w.cfg.ActivityPollers,
		WorkflowPollers:         w.cfg.WorkflowPollers,
		Register:                func(r sdkworker.Registry) { worker.Register(r, w.Activities) },
		Started:                 w.Health.Started,
		Interceptors:            []interceptor.WorkerInterceptor{worker.NewInterceptor(w.logger, observer)},
	})
}

// RunWorker builds the worker of cfg over d and runs it until ctx ends.
func RunWorker(ctx context.Context, cfg config.Config, d *deps.Deps, m *metrics.Worker, logger *slog.Logger) error {
	w, err := NewWorker(ctx, cfg, d, m, logger)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}
