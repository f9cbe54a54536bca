package activities

import (
	"context"
	"log/slog"

	"github.com/storeplatform/storeplatform/internal/logctx"
	"github.com/storeplatform/storeplatform/internal/store"
)

// WithLogger returns ctx carrying l as the logger of the activity that runs
// with it. The worker's interceptor puts one there with the fields every
// activity log line must have (workflowId, runId, activity, store), so that
// no activity has to remember to add them.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return logctx.With(ctx, l)
}

// StoreOf names the store an activity's arguments are about: the name in
// its input's spec or update; "" for the activities that are not about one
// store (rollouts, AwaitWorkflowClosed). Arguments are as the SDK decoded
// them, so by value.
func StoreOf(args []any) string {
	if len(args) == 0 {
		return ""
	}
	switch in := args[0].(type) {
	case NamespaceInput:
		return in.Spec.Name
	case DeleteNamespaceInput:
		return in.Spec.Name
	case RollbackInput:
		return in.Spec.Name
	case HoldHostsInput:
		return in.Spec.Name
	case store.StatusUpdate:
		return in.Name
	case store.OperationUpdate:
		return in.Name
	}
	return ""
}
