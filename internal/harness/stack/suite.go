package stack

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/devstack"
)

// Suite is where a suite that runs the platform's binaries on a stack of
// its own (make chaos, make bench) finds what it needs.
type Suite struct {
	// RepoRoot is the repository (charts/store); BinDir holds the binaries
	// of `make tools build`; Dir is where the run keeps its stacks, logs
	// and data (it should be new and empty).
	RepoRoot, BinDir, Dir string
	// FerretDBCommand runs FerretDB as a process of its own (see
	// devstack.Options.FerretDBCommand), so that it can be killed and
	// restarted and its CPU is apart from the suite's; empty: in the
	// suite's process.
	FerretDBCommand []string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Check says which of RepoRoot, BinDir and Dir is missing.
func (s Suite) Check() error {
	if s.RepoRoot == "" || s.BinDir == "" || s.Dir == "" {
		return errors.New("RepoRoot, BinDir and Dir are required")
	}
	return nil
}

// StartSuite starts the suite's stack in Dir/stack with nodes kwok nodes
// and the harness's clients set by clients: no Temporal Web UI, five
// minutes to start (a loaded CI machine).
func StartSuite(ctx context.Context, s Suite, nodes int, clients ClientOptions) (*Stack, error) {
	return Start(ctx, Options{
		Stack: devstack.Options{Dir: filepath.Join(s.Dir, "stack"), BinDir: s.BinDir, Nodes: nodes, TemporalUIPort: -1,
			FerretDBCommand: s.FerretDBCommand, Logger: s.Logger, StartTimeout: 5 * time.Minute},
		RepoRoot: s.RepoRoot,
		Clients:  clients,
	})
}
