package testenv

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/storeplatform/storeplatform/internal/harness/devstack"
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

// Suite is what a suite that runs the platform's binaries on a stack of
// its own needs (internal/harness/chaos and bench): the repository's root,
// its bin/, and the command that serves FerretDB (this test binary; see
// MainServingFerretDB). It skips t with -short and fails it when a binary
// is missing.
type Suite struct {
	Root, Bin       string
	FerretDBCommand []string
}

// NewSuite returns the Suite of the running test binary.
func NewSuite(t *testing.T) Suite {
	t.Helper()
	if testing.Short() {
		t.Skip("the suite needs the local stack (run without -short, after `make tools build`)")
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := Suite{Root: root, Bin: filepath.Join(root, "bin")}
	for _, b := range []string{"storeplatform", "temporal", "kube-apiserver", "kwok"} {
		if _, err := os.Stat(filepath.Join(s.Bin, b)); err != nil {
			t.Fatalf("%s missing in %s: run `make tools build`", b, s.Bin)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s.FerretDBCommand = []string{self, "ferretdb"}
	return s
}
