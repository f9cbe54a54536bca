// Package worker runs the Temporal worker that executes Store Platform's
// workflows and activities. It only wires: the clients it is given are
// created once by the caller and shared by every activity.
package worker

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
)

// Options configure the worker.
type Options struct {
	// TaskQueue is the queue the API starts workflows on.
	TaskQueue string
	// MaxConcurrentActivities bounds how many activities run at once
	// (0: the SDK's default).
	MaxConcurrentActivities int
	// Register adds workflows and activities to the worker.
	Register func(sdkworker.Registry)
}

// Run polls the task queue until ctx ends, then stops gracefully: running
// activities get the SDK's stop timeout to finish.
func Run(ctx context.Context, c client.Client, o Options) error {
	w := sdkworker.New(c, o.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: o.MaxConcurrentActivities,
	})
	if o.Register != nil {
		o.Register(w)
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %q: %w", o.TaskQueue, err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
