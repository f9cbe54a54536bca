package worker

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/storeplatform/storeplatform/activities"
)

// ActivityObserver records activity attempts; internal/metrics.Worker
// implements it.
type ActivityObserver interface {
	ActivityDone(activity string, d time.Duration, err error)
}

// NewInterceptor is the worker interceptor that every activity runs
// through: it gives the activity a logger with workflowId, runId, activity
// and store (activities.WithLogger), so that every activity log line has
// them, and records the attempt's duration and outcome in m (nil: none).
// The store is named from the activity's input (activities.StoreOf); the
// inputs carry no secrets, and only the name is logged.
func NewInterceptor(logger *slog.Logger, m ActivityObserver) interceptor.WorkerInterceptor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &workerInterceptor{logger: logger, metrics: m}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	logger  *slog.Logger
	metrics ActivityObserver
}

// InterceptActivity wraps every activity.
func (w *workerInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &activityInterceptor{root: w}
	a.Next = next
	return a
}

type activityInterceptor struct {
	interceptor.ActivityInboundInterceptorBase
	root *workerInterceptor
}

// ExecuteActivity runs the activity with its logger and records it.
func (a *activityInterceptor) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	l := a.root.logger.With(
		"workflowId", info.WorkflowExecution.ID,
		"runId", info.WorkflowExecution.RunID,
		"activity", info.ActivityType.Name,
		"store", activities.StoreOf(in.Args),
	)
	start := time.Now()
	res, err := a.Next.ExecuteActivity(activities.WithLogger(ctx, l), in)
	if a.root.metrics != nil {
		a.root.metrics.ActivityDone(info.ActivityType.Name, time.Since(start), err)
	}
	return res, err
}
