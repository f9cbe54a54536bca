package bench_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/bench"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
)

// TestMain doubles as the harness's FerretDB process: the test binary
// started as "<test binary> ferretdb -listen … -dir …" serves FerretDB
// instead of running tests (see devstack.Options.FerretDBCommand).
func TestMain(m *testing.M) {
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

// TestBenchSmoke runs `make bench` small so that it cannot rot: on a stack
// of its own with the bin/storeplatform processes, one store, then 5 at
// once, created and deleted through the API, and the API's rows with few
// requests and records; no helm CLI, no floor, no page written. The 5
// stores must become ready and then be deleted, and every row that ran must
// have its figure. Its figures are logged, never compared with a time.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("the bench needs the local stack (run without -short, after `make tools build`)")
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "bin")
	for _, b := range []string{"storeplatform", "temporal", "kube-apiserver", "kwok"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("%s missing in %s: run `make tools build`", b, bin)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bench.Run(t.Context(), bench.Options{
		RepoRoot: root, BinDir: bin, Dir: t.TempDir(), FerretDBCommand: []string{self, "ferretdb"},
		Stores: 5, Single: 1, API: true,
		PostRequests: 20, PostClients: 5, PostOneTenantRequests: 10, ListTenant: 50, ListTotal: 100, ListRequests: 20, Streams: 3,
		StreamWindow: 3 * time.Second, Timeout: 3 * time.Minute,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.Text())
	for _, p := range rep.Problems {
		t.Errorf("not measured: %s", p)
	}
	if len(rep.OnePlatform) != 1 {
		t.Errorf("one store timed %d times, want 1", len(rep.OnePlatform))
	}
	if len(rep.CreatePlatform) != 5 || len(rep.DeletePlatform) != 5 {
		t.Errorf("%d stores ready and %d deleted, want 5 and 5", len(rep.CreatePlatform), len(rep.DeletePlatform))
	}
	for _, ts := range [][]time.Duration{rep.OnePlatform, rep.CreatePlatform, rep.DeletePlatform} {
		for _, d := range ts {
			if d <= 0 {
				t.Errorf("a store's time is %s: every store must have one", d)
			}
		}
	}
	if len(rep.CreateHelm)+len(rep.CreateFloor)+len(rep.OneHelm) > 0 || rep.SequentialN > 0 {
		t.Errorf("peers ran without Options.Peers")
	}
	rows := rep.Rows()
	if len(rows) < 9 {
		t.Errorf("%d rows, want the platform's 9 or more (one, at once, deletions, 2 POST, GET, events, CPU, RSS)", len(rows))
	}
	for _, row := range rows {
		if row.Platform == "" && row.HelmCLI == "" && row.Floor == "" {
			t.Errorf("row %q has no figure", row.Work)
		}
	}
}
