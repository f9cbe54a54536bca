package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
)

// MainServingFerretDB is the TestMain of a suite that runs FerretDB as a
// process of its own (devstack.Options.FerretDBCommand, so that it can be
// killed and restarted): the test binary started as "<test binary>
// ferretdb -listen … -dir …" serves FerretDB until SIGTERM; otherwise it
// runs the tests.
func MainServingFerretDB(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "ferretdb" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := devstack.ServeFerretDB(ctx, os.Args[2:])
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// NewSuite is what a suite that runs the platform's binaries on a stack of
// its own needs (internal/harness/chaos and bench): the repository's root,
// its bin/, a new directory, the command that serves FerretDB (this test
// binary; see MainServingFerretDB) and a logger to stderr. It skips t with
// -short and fails it when a binary is missing.
func NewSuite(t *testing.T) stack.Suite {
	t.Helper()
	if testing.Short() {
		t.Skip("the suite needs the local stack (run without -short, after `make tools build`)")
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := stack.Suite{RepoRoot: root, BinDir: filepath.Join(root, "bin"), Dir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	for _, b := range []string{"storeplatform", "temporal", "kube-apiserver", "kwok"} {
		if _, err := os.Stat(filepath.Join(s.BinDir, b)); err != nil {
			t.Fatalf("%s missing in %s: run `make tools build`", b, s.BinDir)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s.FerretDBCommand = []string{self, "ferretdb"}
	return s
}
