// Package testenv starts the real local stack (Kubernetes control plane with
// kwok nodes, Temporal dev server, FerretDB) for integration tests, from the
// binaries `make tools` built, and hands the tests connected clients.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m, &env) }
//
// With `go test -short` the stack is not started and tests that call
// env.Require skip; without -short a missing binary fails the package.
package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/sdk/client"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
)

// Env is a running stack and clients connected to it.
type Env struct {
	Stack      *devstack.Stack
	Kubeconfig string
	RESTConfig *rest.Config
	Kube       kubernetes.Interface
	MongoURI   string
	Mongo      *mongo.Client
	Temporal   client.Client
	// RepoRoot is the repository's top directory.
	RepoRoot string
	st       *stack.Stack
	started  bool
}

// Main starts the stack unless -short is set, runs the tests, stops the
// stack and exits. env is filled in for the tests.
func Main(m *testing.M, env *Env) {
	flag.Parse()
	os.Exit(run(m, env))
}

func run(m *testing.M, env *Env) int {
	if testing.Short() {
		return m.Run()
	}
	ctx := context.Background()
	if err := env.start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		env.stop(ctx)
		return 1
	}
	defer env.stop(ctx)
	return m.Run()
}

// Require skips t in -short mode; otherwise the stack is up.
func (e *Env) Require(t testing.TB) {
	t.Helper()
	if !e.started {
		t.Skip("integration test: needs the local stack (run without -short, after `make tools`)")
	}
}

func (e *Env) start(ctx context.Context) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	e.RepoRoot = root
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t0 := time.Now()
	if e.st, err = startStack(ctx, root, logger); err != nil {
		return err
	}
	logger.Info("testenv: stack ready", "elapsed", time.Since(t0).Round(time.Millisecond), "dir", e.st.Dir())
	e.Stack, e.Kubeconfig, e.MongoURI = e.st.Stack, e.st.Kubeconfig(), e.st.MongoURI()
	e.RESTConfig, e.Kube, e.Mongo, e.Temporal = e.st.REST, e.st.Kube, e.st.Mongo, e.st.Temporal
	e.started = true
	return nil
}

// startStack starts a stack in a new temporary directory. Free ports are
// picked before the processes bind them; another test package's stack
// starting at the same moment can take one in between. That is retried
// with fresh ports and a fresh directory.
func startStack(ctx context.Context, root string, logger *slog.Logger) (*stack.Stack, error) {
	for attempt := 1; ; attempt++ {
		dir, err := os.MkdirTemp("", "storeplatform-testenv-")
		if err != nil {
			return nil, err
		}
		st, err := stack.Start(ctx, stack.Options{
			Stack: devstack.Options{
				Dir:            dir,
				BinDir:         filepath.Join(root, "bin"),
				Kubeconfig:     os.Getenv("STOREPLATFORM_TEST_KUBECONFIG"),
				TemporalUIPort: -1,
				Logger:         logger,
			},
			RepoRoot: root,
			Clients:  stack.ClientOptions{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))},
		})
		if err == nil {
			return st, nil
		}
		_ = os.RemoveAll(dir)
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
		logger.Warn("testenv: a port was taken while the stack started; retrying", "attempt", attempt, "err", err)
	}
}

func (e *Env) stop(context.Context) {
	if e.st == nil {
		return
	}
	e.st.Stop()
	if os.Getenv("STOREPLATFORM_TEST_KEEP") == "" {
		_ = os.RemoveAll(e.st.Dir())
	}
}

// RepoRoot finds the repository's top directory from the working directory
// of the test (a package directory below it).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "kube", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found above the working directory")
		}
		dir = parent
	}
}
