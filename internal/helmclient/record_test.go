package helmclient

import (
	"context"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// TestEnsureRecordedStoresWhatHelmReported: a release Helm reported
// deployed but could not store so (left pending-install, or pending-upgrade
// over a revision still deployed) is stored as deployed, the older
// revision superseded; one stored right is left alone.
func TestEnsureRecordedStoresWhatHelmReported(t *testing.T) {
	rev := func(v int, st release.Status) *release.Release {
		return &release.Release{Name: "shop", Namespace: "store-shop", Version: v, Info: &release.Info{Status: st}}
	}
	for _, tt := range []struct {
		name   string
		stored []*release.Release
		rel    *release.Release
		want   map[int]release.Status
	}{
		{"install left pending", []*release.Release{rev(1, release.StatusPendingInstall)}, rev(1, release.StatusDeployed),
			map[int]release.Status{1: release.StatusDeployed}},
		{"upgrade left pending", []*release.Release{rev(1, release.StatusDeployed), rev(2, release.StatusPendingUpgrade)}, rev(2, release.StatusDeployed),
			map[int]release.Status{1: release.StatusSuperseded, 2: release.StatusDeployed}},
		{"stored right", []*release.Release{rev(1, release.StatusSuperseded), rev(2, release.StatusDeployed)}, rev(2, release.StatusDeployed),
			map[int]release.Status{1: release.StatusSuperseded, 2: release.StatusDeployed}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ac := &action.Configuration{Releases: storage.Init(driver.NewMemory())}
			for _, r := range tt.stored {
				if err := ac.Releases.Create(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := ensureRecorded(context.Background(), ac, tt.rel); err != nil {
				t.Fatal(err)
			}
			hist, err := ac.Releases.History("shop")
			if err != nil {
				t.Fatal(err)
			}
			got := map[int]release.Status{}
			for _, h := range hist {
				got[h.Version] = h.Info.Status
			}
			if len(got) != len(tt.want) {
				t.Fatalf("history %v, want %v", got, tt.want)
			}
			for v, st := range tt.want {
				if got[v] != st {
					t.Fatalf("history %v, want %v", got, tt.want)
				}
			}
		})
	}
}
