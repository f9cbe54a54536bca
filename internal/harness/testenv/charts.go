package testenv

import (
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/storeplatform/storeplatform/internal/storechart"
)

// ChartVersions packages charts/store as each of versions into a new
// directory (CHART_VERSIONS_DIR), as `helm package` would. The versions in
// unschedulable get a WordPress Deployment whose pods no node takes (a
// nodeSelector no node has): a version that cannot become ready here.
func (e *Env) ChartVersions(t testing.TB, versions []string, unschedulable map[string]bool) string {
	t.Helper()
	return ChartVersions(t, e.RepoRoot, versions, unschedulable)
}

// ChartVersions is Env.ChartVersions for the repository at root, for tests
// with a stack of their own.
func ChartVersions(t testing.TB, root string, versions []string, unschedulable map[string]bool) string {
	t.Helper()
	dir := t.TempDir()
	for _, v := range versions {
		c, err := storechart.Load(filepath.Join(root, "charts", "store"))
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata.Version = v
		if unschedulable[v] {
			for _, f := range c.Templates {
				if f.Name == "templates/woocommerce.yaml" {
					const anchor = "      serviceAccountName: {{ $fullname }}\n"
					if !strings.Contains(string(f.Data), anchor) {
						t.Fatal("woocommerce.yaml changed: no serviceAccountName line")
					}
					f.Data = []byte(strings.Replace(string(f.Data), anchor,
						anchor+"      nodeSelector:\n        storeplatform.io/no-such-node: \"true\"\n", 1))
				}
			}
		}
		if _, err := chartutil.Save(c, dir); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
