package storechart

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// Versions are the versions of the store chart the platform can install:
// the chart in CHART_DIR (the current one) and every packaged chart
// (store-<version>.tgz, as `helm package` writes them) in a versions
// directory. They are loaded once; a new version is added by packaging it
// into the directory and restarting the workers and the API.
type Versions struct {
	current *chart.Chart
	byVer   map[string]*chart.Chart
}

// ChartVersion describes one version as GET /api/chart-versions shows it.
type ChartVersion struct {
	Version    string `json:"version"`
	AppVersion string `json:"appVersion,omitempty"`
	// Current is the chart in CHART_DIR.
	Current bool `json:"current,omitempty"`
}

// LoadVersions loads the current chart and the packaged ones in dir ("" or
// a missing dir: none). A packaged chart that is not the store chart, or
// whose version clashes with another, is an error.
func LoadVersions(current *chart.Chart, dir string) (*Versions, error) {
	v := &Versions{current: current, byVer: map[string]*chart.Chart{current.Metadata.Version: current}}
	if dir == "" {
		return v, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, f := range files {
		c, err := loader.Load(f)
		if err != nil {
			return nil, fmt.Errorf("chart version %s: %w", filepath.Base(f), err)
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("chart version %s: %w", filepath.Base(f), err)
		}
		if c.Metadata.Name != current.Metadata.Name {
			return nil, fmt.Errorf("chart version %s: chart %q is not %q", filepath.Base(f), c.Metadata.Name, current.Metadata.Name)
		}
		if _, err := semver.StrictNewVersion(c.Metadata.Version); err != nil {
			return nil, fmt.Errorf("chart version %s: version %q: %w", filepath.Base(f), c.Metadata.Version, err)
		}
		if _, dup := v.byVer[c.Metadata.Version]; dup && c.Metadata.Version != current.Metadata.Version {
			return nil, fmt.Errorf("chart version %s: version %s is there twice", filepath.Base(f), c.Metadata.Version)
		}
		if c.Metadata.Version == current.Metadata.Version {
			continue // the chart in CHART_DIR wins over its own package
		}
		v.byVer[c.Metadata.Version] = c
	}
	return v, nil
}

// Current is the chart in CHART_DIR.
func (v *Versions) Current() *chart.Chart { return v.current }

// Get returns the chart of version ("" is the current chart); nil when
// there is no such version.
func (v *Versions) Get(version string) *chart.Chart {
	if version == "" {
		return v.current
	}
	return v.byVer[version]
}

// List returns every version, newest first.
func (v *Versions) List() []ChartVersion {
	var out []ChartVersion
	for ver, c := range v.byVer {
		out = append(out, ChartVersion{Version: ver, AppVersion: c.Metadata.AppVersion, Current: c == v.current})
	}
	sort.Slice(out, func(i, j int) bool {
		a, errA := semver.NewVersion(out[i].Version)
		b, errB := semver.NewVersion(out[j].Version)
		if errA != nil || errB != nil {
			return strings.Compare(out[i].Version, out[j].Version) > 0
		}
		return a.GreaterThan(b)
	})
	return out
}
