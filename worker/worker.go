// Package worker runs the Temporal worker that executes Store Platform's
// workflows and activities. It only wires: the clients it is given are
// created once by the caller and shared by every activity.
package worker

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
)

// Options configure the worker.
type Options struct {
	// TaskQueue is the queue the API starts workflows on.
	TaskQueue string
	// MaxConcurrentActivities bounds how many activities run at once
	// (0: the SDK's default).
	MaxConcurrentActivities int
	// ActivityPollers and WorkflowPollers are how many long polls for
	// activity and workflow tasks the worker keeps open (0: the SDK's
	// default, 2 each).
	ActivityPollers, WorkflowPollers int
	// HeartbeatThrottle is the longest the SDK holds an activity's
	// heartbeat before sending it to the server (default 3s). The SDK's own
	// default is 80% of the heartbeat timeout, which leaves a worker slowed
	// by a starved CPU two seconds of a 10 s timeout before its attempt
	// counts as lost.
	HeartbeatThrottle time.Duration
	// Register adds workflows and activities to the worker.
	Register func(sdkworker.Registry)
	// Started, if not nil, is called once the worker polls its task queue
	// (Health.Started, for /readyz).
	Started func()
	// Interceptors wrap every workflow and activity (NewInterceptor).
	Interceptors []interceptor.WorkerInterceptor
}

// Run polls the task queue until ctx ends, then stops gracefully: running
// activities get the SDK's stop timeout to finish.
func Run(ctx context.Context, c client.Client, o Options) error {
	throttle := o.HeartbeatThrottle
	if throttle <= 0 {
		throttle = 3 * time.Second
	}
	w := sdkworker.New(c, o.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: o.MaxConcurrentActivities,
		DefaultHeartbeatThrottleInterval:   throttle,
		MaxHeartbeatThrottleInterval:       throttle,
		MaxConcurrentActivityTaskPollers:   o.ActivityPollers,
		MaxConcurrentWorkflowTaskPollers:   o.WorkflowPollers,
		Interceptors:                       o.Interceptors,
	})
	if o.Register != nil {
		o.Register(w)
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %q: %w", o.TaskQueue, err)
	}
	if o.Started != nil {
		o.Started()
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
