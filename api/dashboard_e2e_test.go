package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// The stores TestDashboardEndToEnd arranges for the browser to find, and
// the chart version its rollout installs.
const (
	// dashboardFailedStore's creation fails: its namespace exists and is not
	// the platform's.
	dashboardFailedStore = "spring-sale"
	// dashboardStuckStore's deletion sticks: an object of its namespace has
	// a finalizer nobody removes (until the browser forces the deletion).
	dashboardStuckStore = "winter-sale"
	// dashboardHold is that finalizer.
	dashboardHold = "example.com/hold"
	// dashboardRolloutVersion is a packaged version above charts/store's.
	dashboardRolloutVersion = "1.1.0"
)

// dashboardRolloutStores are the admin's own stores, which the browser rolls
// out to dashboardRolloutVersion.
var dashboardRolloutStores = []string{"north-shop", "south-shop"}

// TestDashboardEndToEnd drives the built dashboard (make web) in Debian's
// Chromium with playwright-core (web/e2e/dashboard.e2e.mjs) against the API
// served over HTTP, with a worker and the real stack behind it: sign in,
// create a WooCommerce store of a chosen size and host, find it with the
// search box, watch it become ready without a reload, reveal and copy its
// credentials, change it, roll it back, delete it and watch it leave the
// list; bad names and hosts show the server's messages on the field. Then,
// as the admin: the owner column and filter, a failed store with its
// reason, a stuck deletion with its blockers forced after a typed
// confirmation, and a rollout previewed, started and followed to its end.
// axe-core checks every page in the light and the dark colour scheme.
//
// While the browser works as the tenant, the test arranges the admin's
// part through the API and the cluster: the failed store, the stuck
// deletion (its DeleteStore started here, as the API starts it, with a
// short StuckAfter) and the stores to roll out.
//
// STOREPLATFORM_SCREENSHOTS=<dir> also saves the README's screenshots there
// (make screenshots).
func TestDashboardEndToEnd(t *testing.T) {
	env.Require(t)
	web := filepath.Join(env.RepoRoot, "web")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	for _, need := range []struct{ path, fix string }{
		{filepath.Join(web, "dist", "index.html"), "build the dashboard: make web"},
		{filepath.Join(web, "node_modules", "playwright-core"), "install the dashboard's packages: make web"},
		{filepath.Join(web, "node_modules", "axe-core"), "install the dashboard's packages: make web"},
		{chromium, "install Chromium: apt-get install chromium (or set CHROMIUM)"},
	} {
		if _, err := os.Stat(need.path); err != nil {
			t.Fatalf("%s is missing: %s", need.path, need.fix)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: the browser test runs playwright-core on Node.js")
	}

	versions := env.ChartVersions(t, []string{dashboardRolloutVersion}, nil)
	var domain string
	p := newPlatformWithVersions(t, versions, func(o *api.Options) {
		o.Dashboard = api.DashboardDir(filepath.Join(web, "dist"))
		o.TemporalUIURL, o.TemporalNamespace = "http://127.0.0.1:8233", "default"
		domain = o.StoreDomain
	})
	ctx, cancel := context.WithTimeout(t.Context(), 14*time.Minute)
	defer cancel()
	t.Cleanup(func() { releaseDashboardStores(t) })
	arranged := make(chan error, 1)
	go func() { arranged <- arrangeDashboardStores(ctx, p) }()

	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "dashboard.e2e.mjs"))
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "BASE_URL="+p.url, "TOKEN="+p.tokens["acme"], "TENANT=acme", "CHROMIUM="+chromium,
		"STORE=e2e-shop", "STORE_DOMAIN="+domain,
		"ADMIN_TOKEN="+p.tokens["ops"], "ADMIN_TENANT=ops",
		"FAILED_STORE="+dashboardFailedStore, "STUCK_STORE="+dashboardStuckStore,
		"ROLLOUT_VERSION="+dashboardRolloutVersion, "ROLLOUT_STORES="+strings.Join(dashboardRolloutStores, ","))
	if dir := os.Getenv("STOREPLATFORM_SCREENSHOTS"); dir != "" {
		cmd.Env = append(cmd.Env, "SCREENSHOTS="+dir)
	}
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		t.Log(line)
	}
	// The browser waited for what was arranged: it is done, or no longer needed.
	cancel()
	if aerr := <-arranged; aerr != nil && err == nil {
		t.Errorf("arranging the stores: %v", aerr)
	}
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}

// arrangeDashboardStores makes, through the API and the cluster, the
// stores the browser looks at as the admin: a failed creation (tenant
// globex), a stuck deletion (globex) and the admin's stores to roll out.
func arrangeDashboardStores(ctx context.Context, p *platform) error {
	// The namespace the failed store would get exists already, and is not
	// the platform's: CreateNamespace refuses it, and the creation fails.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: store.NamespaceFor(dashboardFailedStore)}}
	if _, err := env.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	for _, c := range []struct{ tenant, body string }{
		{"globex", `{"name":"` + dashboardFailedStore + `","engine":"woocommerce","title":"Spring Sale"}`},
		{"globex", `{"name":"` + dashboardStuckStore + `","engine":"woocommerce","title":"Winter Sale"}`},
		{"ops", `{"name":"` + dashboardRolloutStores[0] + `","engine":"woocommerce","title":"North Shop"}`},
		{"ops", `{"name":"` + dashboardRolloutStores[1] + `","engine":"woocommerce","title":"South Shop"}`},
	} {
		if err := postStore(ctx, p, c.tenant, c.body); err != nil {
			return err
		}
	}

	// The stuck deletion: once the store is ready, an object of its
	// namespace gets a finalizer nobody will remove, and its deletion
	// starts as DELETE /api/stores/{name} starts it, but counts as stuck
	// after 15 s instead of 10 minutes.
	rec, err := waitRecord(ctx, p, dashboardStuckStore, store.PhaseReady)
	if err != nil {
		return err
	}
	held := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{dashboardHold}}}
	if _, err := env.Kube.CoreV1().ConfigMaps(rec.Namespace).Create(ctx, held, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the held ConfigMap: %w", err)
	}
	in := workflows.DeleteStoreInput{Spec: rec.Spec, Timeouts: workflows.Timeouts{StuckAfter: 15 * time.Second}}
	if _, err := workflows.StartDelete(ctx, env.Temporal, p.queue, in); err != nil {
		return fmt.Errorf("start the deletion of %s: %w", dashboardStuckStore, err)
	}
	return nil
}

// releaseDashboardStores undoes what the browser may have left: the
// finalizer of a deletion it did not force, and the failed store's
// namespace.
func releaseDashboardStores(t *testing.T) {
	ctx := context.Background()
	ns := store.NamespaceFor(dashboardStuckStore)
	_, err := env.Kube.CoreV1().ConfigMaps(ns).Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("remove the finalizer of %s/held: %v", ns, err)
	}
	err = env.Kube.CoreV1().Namespaces().Delete(ctx, store.NamespaceFor(dashboardFailedStore), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete the namespace of %s: %v", dashboardFailedStore, err)
	}
}

// postStore creates a store as tenant through the API.
func postStore(ctx context.Context, p *platform, tenant, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/api/stores", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.tokens[tenant])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("create %s as %s: %d %s", body, tenant, resp.StatusCode, data)
	}
	return nil
}

// waitRecord polls the store's record until it is in phase.
func waitRecord(ctx context.Context, p *platform, name string, phase store.Phase) (store.Record, error) {
	for {
		rec, err := p.stores.Get(ctx, name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return rec, err
		}
		if err == nil && rec.Phase == phase {
			return rec, nil
		}
		select {
		case <-ctx.Done():
			return rec, fmt.Errorf("%s never reached %s (last %s %q): %w", name, phase, rec.Phase, rec.Message, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
