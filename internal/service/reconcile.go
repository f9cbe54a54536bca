package service

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// RequestedStores lists the records still in phase requested.
// store.MongoRepository implements it.
type RequestedStores interface {
	Requested(ctx context.Context) ([]store.Record, error)
}

// Reconcile starts the creation workflow of every record still in phase
// requested whose creation is not running: the API may have died between
// writing a record and starting its workflow. The running creations are
// listed once from Temporal's visibility, so that a backlog of queued
// creations (a worker down, a burst) costs one list, not a start each.
// Starting is idempotent, so a creation that visibility does not show yet
// is found, not started twice.
func Reconcile(ctx context.Context, stores RequestedStores, c client.Client, taskQueue string) (started int, err error) {
	recs, err := stores.Requested(ctx)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	running, err := workflows.RunningCreations(ctx, c)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, rec := range recs {
		if running[workflows.CreateWorkflowID(rec.Name, rec.Generation)] {
			continue
		}
		_, err := workflows.StartCreate(ctx, c, taskQueue, workflows.CreateStoreInput{Spec: rec.Spec})
		if err != nil && !errors.Is(err, workflows.ErrAlreadyCreated) {
			errs = append(errs, fmt.Errorf("store %s: %w", rec.Name, err))
			continue
		}
		started++
	}
	return started, errors.Join(errs...)
}
