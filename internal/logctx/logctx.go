// Package logctx carries a request's or an activity's logger in its
// context, so that code called deep below (the Helm runner) logs with the
// fields its caller set: the worker's interceptor puts a logger with
// workflowId, runId, activity and store there for every activity.
package logctx

import (
	"context"
	"log/slog"
)

type key struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// From is the logger ctx carries, else fallback.
func From(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}
