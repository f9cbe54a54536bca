package helmclient

import (
	"context"
	"io"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// heldKube is Helm's printing client whose Update waits until let is
// closed, after telling entered: an upgrade caught while it writes.
type heldKube struct {
	kubefake.PrintingKubeClient
	entered, let chan struct{}
}

func (h *heldKube) Update(_, _ kube.ResourceList, _ bool) (*kube.Result, error) {
	close(h.entered)
	<-h.let
	return &kube.Result{}, nil
}

// TestCanceledUpgradeEndsWithHelm: an upgrade whose context ends while
// Helm writes returns only when Helm's writes are done, with the revision
// Helm recorded. Helm v3's own RunWithContext returned at once and marked
// the release failed from a second goroutine while the first still wrote
// it (a data race under -race, and a write landing after the activity had
// reported).
func TestCanceledUpgradeEndsWithHelm(t *testing.T) {
	hk := &heldKube{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard}, entered: make(chan struct{}), let: make(chan struct{})}
	ac := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   hk,
		Capabilities: chartutil.DefaultCapabilities,
		Log:          func(string, ...any) {},
	}
	ch := &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "store", Version: "0.1.0"}}
	first := &release.Release{Name: "shop", Namespace: "store-shop", Version: 1, Chart: ch, Config: map[string]any{},
		Info: &release.Info{Status: release.StatusDeployed}}
	if err := ac.Releases.Create(first); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		rel *release.Release
		err error
	}
	done := make(chan result, 1)
	go func() {
		rel, err := upgraded(ctx, ac, NewUpgrade(ac, "store-shop", time.Minute), "shop", ch, map[string]any{"title": "new"})
		done <- result{rel, err}
	}()
	<-hk.entered
	cancel()
	select {
	case r := <-done:
		t.Fatalf("the upgrade returned while Helm still wrote: %v", r.err)
	case <-time.After(300 * time.Millisecond):
	}
	close(hk.let)
	r := <-done
	if r.err != nil {
		t.Fatalf("upgrade: %v", r.err)
	}
	if r.rel.Version != 2 || r.rel.Info.Status != release.StatusDeployed {
		t.Fatalf("upgrade reported revision %d %s, want 2 deployed", r.rel.Version, r.rel.Info.Status)
	}
	hist, err := ac.Releases.History("shop")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]release.Status{1: release.StatusSuperseded, 2: release.StatusDeployed}
	if len(hist) != len(want) {
		t.Fatalf("history has %d revisions, want %d", len(hist), len(want))
	}
	for _, h := range hist {
		if h.Info.Status != want[h.Version] {
			t.Fatalf("revision %d is %s, want %s", h.Version, h.Info.Status, want[h.Version])
		}
	}
}
