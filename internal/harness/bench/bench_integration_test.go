package bench_test

import (
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/bench"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
)

// TestMain doubles as the suite's FerretDB process.
func TestMain(m *testing.M) { testenv.MainServingFerretDB(m) }

// TestBenchSmoke runs `make bench` small so that it cannot rot: on a stack
// of its own with the bin/storeplatform processes, one store, then 5 at
// once, created and deleted through the API, and the API's rows with few
// requests and records; no helm CLI, no floor, no page written. The 5
// stores must become ready and then be deleted, and every row that ran must
// have its figure. Its figures are logged, never compared with a time.
func TestBenchSmoke(t *testing.T) {
	rep, err := bench.Run(t.Context(), bench.Options{
		Suite:  testenv.NewSuite(t),
		Stores: 5, Single: 1, API: true,
		PostRequests: 20, PostClients: 5, PostOneTenantRequests: 10, ListTenant: 50, ListTotal: 100, ListRequests: 20, Streams: 3,
		StreamWindow: 3 * time.Second, Timeout: 3 * time.Minute,
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
