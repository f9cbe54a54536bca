// Command chaos runs Store Platform's fault suite (internal/chaos) on the
// real local stack and prints one table row per scenario; with -doc it also
// writes the table into that page (make chaos: docs/reliability.md).
//
//	chaos [-scale full|quick] [-seed n] [-only 1,3] [-stores 3=5] [-doc docs/reliability.md] [-dir d] [-bin bin] [-keep]
//
// `chaos ferretdb -listen addr -dir d` is the FerretDB process the suite
// starts (and stops, in scenario 3).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/chaos"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "ferretdb" {
		return devstack.ServeFerretDB(ctx, args[1:])
	}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	scale := fs.String("scale", "full", "full (make chaos) or quick (the scenarios of make test, small)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the run's random choices")
	only := fs.String("only", "", "run only these scenarios, e.g. 1,3")
	stores := fs.String("stores", "", "override the scale's store counts, e.g. 3=5,7=6 (a scenario the scale lacks then runs)")
	doc := fs.String("doc", "", "write the table into this page, between its chaos markers")
	dir := fs.String("dir", "", "directory for the run's stacks and logs (default: a new temporary one, removed unless -keep)")
	bin := fs.String("bin", "bin", "directory of the binaries of make tools and make build")
	keep := fs.Bool("keep", false, "keep the run's directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	o := chaos.Options{Seed: *seed}
	switch *scale {
	case "full":
		o.Scale = chaos.Full
	case "quick":
		o.Scale = chaos.Quick
	default:
		return fmt.Errorf("-scale %q: want full or quick", *scale)
	}
	if *stores != "" {
		o.Scale.Stores = maps.Clone(o.Scale.Stores)
		for _, kv := range strings.Split(*stores, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, err1 := strconv.Atoi(k)
			c, err2 := strconv.Atoi(v)
			if err1 != nil || err2 != nil || n < 1 || n > 7 || c < 0 {
				return fmt.Errorf("-stores %q: want scenario=count pairs, e.g. 3=5,7=6", *stores)
			}
			o.Scale.Stores[n] = c
		}
	}
	for _, f := range strings.FieldsFunc(*only, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 7 {
			return fmt.Errorf("-only %q: want scenario numbers from 1 to 7", *only)
		}
		o.Only = append(o.Only, n)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	o.RepoRoot = root
	if o.BinDir, err = filepath.Abs(*bin); err != nil {
		return err
	}
	for _, b := range []string{"storeplatform", "temporal", "kube-apiserver", "kwok"} {
		if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
			return fmt.Errorf("%s missing in %s: run `make tools build`", b, o.BinDir)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.FerretDBCommand = []string{self, "ferretdb"}
	o.Dir = *dir
	if o.Dir != "" {
		// A stack on an earlier run's data would start with its stores.
		if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
			return fmt.Errorf("-dir %s is not empty", o.Dir)
		}
	}
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "storeplatform-chaos-"); err != nil {
			return err
		}
		if !*keep {
			defer os.RemoveAll(o.Dir)
		}
	}
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	o.Logger.Info("chaos: starting", "seed", o.Seed, "scale", o.Scale.Name, "dir", o.Dir, "repeat_with", fmt.Sprintf("-seed %d", o.Seed))
	rep, err := chaos.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Print(rep.Text())
	if *keep {
		fmt.Printf("logs and data kept in %s\n", o.Dir)
	}
	if *doc != "" && (*only != "" || *stores != "") {
		fmt.Printf("not writing %s: the table of a partial run (-only, -stores) would replace the full one\n", *doc)
	} else if *doc != "" {
		if err := rep.WriteDoc(*doc); err != nil {
			return err
		}
		fmt.Printf("table written to %s\n", *doc)
	}
	if !rep.Held() {
		return errors.New("invariants failed (see the table)")
	}
	return nil
}

// repoRoot is the directory above the working directory that holds
// charts/store.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "charts", "store", "Chart.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("charts/store not found above the working directory: run chaos from the repository")
		}
		dir = parent
	}
}
