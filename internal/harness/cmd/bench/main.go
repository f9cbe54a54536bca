// Command bench runs Store Platform's benchmark (internal/bench, issue #13)
// on a local stack of its own: the platform side by side with the helm CLI
// and the cluster's floor, and the API on the embedded store. It prints the
// table; with -doc it also writes it into that page, with the plot and the
// worker's CPU profile beside it (make bench: docs/benchmarks.md).
//
//	bench [-doc docs/benchmarks.md] [-bin bin] [-stores 100] [-single 3] [-sequential 10] [-no-peers] [-no-api] [-timeout 15m] [-dir d] [-keep]
//
// SIGINT or SIGTERM ends the run early: the rows measured so far are still
// printed and written. `bench ferretdb -listen addr -dir d` is the FerretDB
// process the harness starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/bench"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
)

// Names of what -doc writes beside the page.
const (
	plotName    = "benchmarks-ready.png"
	profileName = "bench/worker-cpu.pprof"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "ferretdb" {
		return devstack.ServeFerretDB(ctx, args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	doc := fs.String("doc", "", "write the table into this page between its bench markers, with the plot and the worker's profile beside it")
	bin := fs.String("bin", "bin", "directory of the binaries of make tools and make build")
	dir := fs.String("dir", "", "directory for the run's stack and logs (default: a new temporary one, removed unless -keep)")
	keep := fs.Bool("keep", false, "keep the run's directory")
	stores := fs.Int("stores", 100, "stores of the at-once rows")
	single := fs.Int("single", 3, "times one store is timed (the median is reported)")
	sequential := fs.Int("sequential", 10, "stores of the sequential flow that are timed")
	noPeers := fs.Bool("no-peers", false, "run no helm CLI, floor or sequential rows")
	noAPI := fs.Bool("no-api", false, "run none of the API's rows")
	profileSeconds := fs.Int("profile-seconds", 60, "length of the worker's CPU profile (with -doc)")
	timeout := fs.Duration("timeout", 15*time.Minute, "longest wait for a set of stores to be ready or gone")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	binDir, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	runDir := *dir
	if runDir == "" {
		if runDir, err = os.MkdirTemp("", "bench-"); err != nil {
			return err
		}
		if !*keep {
			defer os.RemoveAll(runDir)
		}
	}
	o := bench.Options{
		Suite: stack.Suite{RepoRoot: root, BinDir: binDir, Dir: runDir, FerretDBCommand: []string{self, "ferretdb"},
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))},
		Stores: *stores, Single: *single, Sequential: *sequential, Peers: !*noPeers, API: !*noAPI,
		ProfileSeconds: *profileSeconds, Timeout: *timeout,
	}
	if *doc != "" {
		o.ProfilePath = filepath.Join(filepath.Dir(*doc), profileName)
	}
	rep, err := bench.Run(ctx, o)
	if rep != nil {
		fmt.Print(rep.Text())
		if *doc != "" {
			if werr := rep.WriteDoc(*doc, plotName, profileName); werr != nil {
				return werr
			}
			fmt.Println("written:", *doc)
		}
	}
	if *keep {
		fmt.Println("run directory kept:", runDir)
	}
	return err
}
