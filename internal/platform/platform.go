// Package platform assembles Store Platform from its configuration and its
// connections: the API's options and server, the activities and the
// worker. It is the one place that does: `storeplatform api`, `storeplatform
// worker`, `storeplatform-dev`, and every harness that runs the platform
// (internal/harness/...) build it here, so that a change to how the
// platform starts is made once.
//
// It sits on top of the product's packages (api, worker, activities,
// workflows and the libraries below them) and below the commands.
package platform

import (
	"io"
	"log/slog"

	"github.com/storeplatform/storeplatform/internal/config"
)

// Logger is the process's logger: cfg's level and format, written to w.
func Logger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	// Validate has checked the level; an unknown one leaves info.
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
