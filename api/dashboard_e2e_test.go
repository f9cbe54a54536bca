package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/api"
)

// TestDashboardEndToEnd drives the built dashboard (make web) in Debian's
// Chromium with playwright-core (web/e2e/dashboard.e2e.mjs) against the API
// served over HTTP, with a worker and the real stack behind it: sign in,
// create a WooCommerce store, watch it become ready without a reload, reveal
// its credentials, delete it and watch it leave the list; bad names show
// the server's messages on the field.
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

	p := newPlatform(t, func(o *api.Options) {
		o.Dashboard = api.DashboardDir(filepath.Join(web, "dist"))
		o.TemporalUIURL, o.TemporalNamespace = "http://127.0.0.1:8233", "default"
	})
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "dashboard.e2e.mjs"))
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "BASE_URL="+p.url, "TOKEN="+p.tokens["acme"], "TENANT=acme", "CHROMIUM="+chromium,
		"STORE=e2e-shop")
	if dir := os.Getenv("STOREPLATFORM_SCREENSHOTS"); dir != "" {
		cmd.Env = append(cmd.Env, "SCREENSHOTS="+dir)
	}
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		t.Log(line)
	}
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}
