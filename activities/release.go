package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"go.temporal.io/sdk/temporal"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// InstallResult reports the release after InstallRelease.
type InstallResult struct {
	Revision int    `json:"revision"`
	Status   string `json:"status"`
	// Action is what was done: "install", "upgrade", "none", or a recovery
	// followed by one of them ("recover-pending-install+install", ...).
	Action string `json:"action"`
	// URL is the store's public URL as the release serves it: https when
	// its Ingress has TLS.
	URL string `json:"url,omitempty"`
}

// InstallRelease installs the store's release, or upgrades it when it
// exists with other values. It reads the release history first and recovers
// a release left pending by a dead client: pending-install is uninstalled
// and installed again, pending-upgrade and pending-rollback are rolled back
// to the last deployed revision. It does not wait for the workloads
// (WaitReady does); invalid values are a permanent InvalidChart error.
func (a *Activities) InstallRelease(ctx context.Context, in NamespaceInput) (InstallResult, error) {
	spec := in.Spec
	if err := spec.Validate(); err != nil {
		return InstallResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, err)
	}
	vals, err := a.valuesFor(ctx, spec)
	if err != nil {
		return InstallResult{}, err
	}
	c, err := a.chartFor(spec)
	if err != nil {
		return InstallResult{}, err
	}
	if err := chartutil.ValidateAgainstSchema(c, vals); err != nil {
		return InstallResult{}, temporal.NewNonRetryableApplicationError("store values rejected by the chart: "+err.Error(), ErrInvalidChart, nil)
	}
	ctx, stop, err := a.holdRelease(ctx, spec.Namespace(), spec.Name, "helm install or upgrade of "+spec.Name)
	if err != nil {
		return InstallResult{}, err
	}
	defer stop()
	res, err := a.installOrUpgrade(ctx, spec, c, vals)
	if err != nil {
		return InstallResult{}, err
	}
	res.URL = storechart.StoreURL(vals)
	return res, nil
}

// installOrUpgrade brings the release to chart c with vals (see InstallRelease).
func (a *Activities) installOrUpgrade(ctx context.Context, spec store.Spec, c *chart.Chart, vals map[string]any) (InstallResult, error) {
	ns, name := spec.Namespace(), spec.Name
	hist, err := a.Releases.History(ctx, ns, name)
	if err != nil {
		return InstallResult{}, fmt.Errorf("release history: %w", err)
	}
	prefix := ""
	if len(hist) > 0 {
		last := newest(hist)
		switch last.Info.Status {
		case release.StatusDeployed:
			if sameRelease(last, c.Metadata.Version, vals) {
				return InstallResult{Revision: last.Version, Status: last.Info.Status.String(), Action: "none"}, nil
			}
			return a.upgrade(ctx, spec, c, vals, "")
		case release.StatusPendingUpgrade, release.StatusPendingRollback, release.StatusFailed:
			if dep := lastDeployed(hist); dep != nil {
				if last.Info.Status != release.StatusFailed {
					a.log(ctx).Warn("rolling back a release left pending", "release", name, "status", last.Info.Status, "to", dep.Version)
					if err := a.Releases.Rollback(ctx, ns, name, dep.Version); err != nil {
						return InstallResult{}, fmt.Errorf("roll back pending release %s: %w", name, err)
					}
					prefix = "recover-" + last.Info.Status.String() + "+"
				}
				return a.upgrade(ctx, spec, c, vals, prefix)
			}
			fallthrough
		default: // pending-install, uninstalling, a failed first install, ...
			a.log(ctx).Warn("replacing a release that never deployed", "release", name, "status", last.Info.Status)
			// Wait until its objects and their pods are gone: the install
			// makes the same names again.
			if err := a.Releases.Uninstall(ctx, ns, name, true); err != nil {
				return InstallResult{}, fmt.Errorf("remove release %s (%s): %w", name, last.Info.Status, err)
			}
			prefix = "recover-" + last.Info.Status.String() + "+"
		}
	}
	start := time.Now()
	rel, err := a.Releases.Install(ctx, ns, name, c, vals)
	a.observeHelm("install", start, err)
	if err != nil {
		return InstallResult{}, fmt.Errorf("helm install %s: %w", name, err)
	}
	return InstallResult{Revision: rel.Version, Status: rel.Info.Status.String(), Action: prefix + "install"}, nil
}

func (a *Activities) upgrade(ctx context.Context, spec store.Spec, c *chart.Chart, vals map[string]any, prefix string) (InstallResult, error) {
	start := time.Now()
	rel, err := a.Releases.Upgrade(ctx, spec.Namespace(), spec.Name, c, vals, "")
	a.observeHelm("upgrade", start, err)
	if err != nil {
		return InstallResult{}, fmt.Errorf("helm upgrade %s: %w", spec.Name, err)
	}
	return InstallResult{Revision: rel.Version, Status: rel.Info.Status.String(), Action: prefix + "upgrade"}, nil
}

// chartFor is the chart of the version spec asks for; "" is the current
// chart. An unknown version is a permanent InvalidChart error.
func (a *Activities) chartFor(spec store.Spec) (*chart.Chart, error) {
	var c *chart.Chart
	switch {
	case a.Versions != nil:
		c = a.Versions.Get(spec.ChartVersion)
	case spec.ChartVersion == "" || spec.ChartVersion == a.Chart.Metadata.Version:
		c = a.Chart
	}
	if c == nil {
		msg := fmt.Sprintf("store chart version %s is not one of this worker's (CHART_VERSIONS_DIR)", spec.ChartVersion)
		return nil, temporal.NewNonRetryableApplicationError(msg, ErrInvalidChart, nil)
	}
	return c, nil
}

// UninstallRelease removes the store's release. A release or namespace that
// does not exist is success. It uninstalls nothing in a namespace that is
// not this installation's store namespace (see ours): that is a permanent
// NamespaceNotOurs, and the release stays. PVCs stay until the namespace is
// deleted.
func (a *Activities) UninstallRelease(ctx context.Context, in NamespaceInput) error {
	if gone, err := a.ourNamespace(ctx, in.Spec); err != nil || gone {
		return err
	}
	ctx, stop, err := a.holdRelease(ctx, in.Spec.Namespace(), in.Spec.Name, "helm uninstall of "+in.Spec.Name)
	if err != nil {
		return err
	}
	defer stop()
	if err := a.Releases.Uninstall(ctx, in.Spec.Namespace(), in.Spec.Name, false); err != nil {
		return fmt.Errorf("helm uninstall %s: %w", in.Spec.Name, err)
	}
	return nil
}

// observeHelm records a Helm action that began at start.
func (a *Activities) observeHelm(action string, start time.Time, err error) {
	if a.Metrics != nil {
		a.Metrics.HelmAction(action, time.Since(start), err)
	}
}

func newest(hist []*release.Release) *release.Release {
	n := hist[0]
	for _, r := range hist[1:] {
		if r.Version > n.Version {
			n = r
		}
	}
	return n
}

func lastDeployed(hist []*release.Release) *release.Release {
	var d *release.Release
	for _, r := range hist {
		if (r.Info.Status == release.StatusDeployed || r.Info.Status == release.StatusSuperseded) && (d == nil || r.Version > d.Version) {
			d = r
		}
	}
	return d
}

// sameRelease reports whether rel was made from this chart version with
// these values, compared as JSON so that number types do not matter.
func sameRelease(rel *release.Release, chartVersion string, vals map[string]any) bool {
	if rel.Chart == nil || rel.Chart.Metadata == nil || rel.Chart.Metadata.Version != chartVersion {
		return false
	}
	a, err1 := normalise(rel.Config)
	b, err2 := normalise(vals)
	return err1 == nil && err2 == nil && reflect.DeepEqual(a, b)
}

func normalise(m map[string]any) (any, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(data, &out)
	return out, err
}
