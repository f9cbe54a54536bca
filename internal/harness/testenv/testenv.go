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
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/workflows"
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
	var dir string
	// Free ports are picked before the processes bind them; another test
	// package's stack starting at the same moment can take one in between.
	// That is retried with fresh ports and a fresh directory.
	for attempt := 1; ; attempt++ {
		if dir, err = os.MkdirTemp("", "storeplatform-testenv-"); err != nil {
			return err
		}
		e.Stack, err = devstack.Start(ctx, devstack.Options{
			Dir:              dir,
			BinDir:           filepath.Join(root, "bin"),
			Kubeconfig:       os.Getenv("STOREPLATFORM_TEST_KUBECONFIG"),
			TemporalUIPort:   -1,
			SearchAttributes: workflows.SearchAttributeFlags(),
			Logger:           logger,
		})
		if err == nil {
			break
		}
		_ = os.RemoveAll(dir)
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		logger.Warn("testenv: a port was taken while the stack started; retrying", "attempt", attempt, "err", err)
	}
	logger.Info("testenv: stack ready", "elapsed", time.Since(t0).Round(time.Millisecond), "dir", dir)
	e.Kubeconfig, e.MongoURI = e.Stack.Kubeconfig(), e.Stack.MongoURI()
	if e.RESTConfig, err = clientcmd.BuildConfigFromFlags("", e.Kubeconfig); err != nil {
		return err
	}
	if e.Kube, err = kubernetes.NewForConfig(e.RESTConfig); err != nil {
		return err
	}
	if e.Mongo, err = mongo.Connect(options.Client().ApplyURI(e.MongoURI)); err != nil {
		return err
	}
	if e.Temporal, err = client.DialContext(ctx, client.Options{
		HostPort: e.Stack.TemporalAddress(),
		Logger:   temporallog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	}); err != nil {
		return err
	}
	e.started = true
	return nil
}

func (e *Env) stop(ctx context.Context) {
	if e.Temporal != nil {
		e.Temporal.Close()
	}
	if e.Mongo != nil {
		_ = e.Mongo.Disconnect(ctx)
	}
	if e.Stack != nil {
		e.Stack.Stop()
		if os.Getenv("STOREPLATFORM_TEST_KEEP") == "" {
			_ = os.RemoveAll(e.Stack.Dir())
		}
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
